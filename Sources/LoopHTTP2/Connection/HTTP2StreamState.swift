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
    var pendingData: [ByteBuffer] = []
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
