import Loop

/// One open stream: a small record in the connection's table (DESIGN.md: streams are cheap).
struct HTTP2StreamState {
    enum HeadersReceived { case none, informational, final
        var isFinal: Bool { self == .final }
    }

    /// We may still send (not half-closed local).
    var localOpen = true
    /// The peer may still send (not half-closed remote).
    var remoteOpen = true
    var headersSent = false
    var headersReceived = HeadersReceived.none
    var sendWindow: SendWindow
    var receiveWindow: ReceiveWindow
    /// DATA bytes delivered to the application and not yet consumed.
    var unconsumed = 0
    /// Outbound DATA waiting for flow-control credit, then trailers or END_STREAM.
    var pendingData = PendingData()
    var pendingBytes = 0
    var pendingTrailers: [HPACKHeader]?
    var pendingEnd = false
    var isQueued = false
    /// The peer's content-length for its body, checked against the DATA it sends (§8.1.1).
    var expectedLength: Int?
    var receivedLength = 0
    /// A client's HEAD request: its response has no body whatever content-length says.
    var requestIsHead = false
    var writableThreshold: Int?

    init(sendWindow: Int, receiveWindow: Int) {
        self.sendWindow = SendWindow(sendWindow)
        self.receiveWindow = ReceiveWindow(receiveWindow)
    }

    var hasPendingOutput: Bool { !pendingData.isEmpty || pendingTrailers != nil || pendingEnd }
}

/// A stream's queued DATA buffers. Most streams queue one buffer at a time: it is held
/// inline, and an array is only made for more.
struct PendingData {
    private var head: ByteBuffer?
    private var rest: [ByteBuffer] = []

    var isEmpty: Bool { head == nil }
    var first: ByteBuffer? { head }

    mutating func append(_ buffer: ByteBuffer) {
        if head == nil { head = buffer } else { rest.append(buffer) }
    }

    /// Replaces the first buffer (what is left of it after a partial send).
    mutating func replaceFirst(_ buffer: ByteBuffer) { head = buffer }

    mutating func removeFirst() {
        head = rest.isEmpty ? nil : rest.removeFirst()
    }
}
