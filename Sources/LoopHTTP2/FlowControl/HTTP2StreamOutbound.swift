import Loop

/// One stream's outbound side: its send window (RFC 9113 §6.9) and what waits for it —
/// DATA, then trailers or END_STREAM. The ``HTTP2OutboundScheduler`` drains it.
struct HTTP2StreamOutbound {
    var sendWindow: SendWindow
    /// Outbound DATA waiting for flow-control credit, then trailers or END_STREAM.
    var pendingData = PendingData()
    var pendingBytes = 0
    var pendingTrailers: [HPACKHeader]?
    /// The application ended its side; END_STREAM leaves after the queued DATA.
    var pendingEnd = false
    /// In the scheduler's ready queue.
    var isQueued = false
    /// Report `.writable` once `pendingBytes` falls to this.
    var writableThreshold: Int?

    init(sendWindow: Int) {
        self.sendWindow = SendWindow(sendWindow)
    }

    var hasPendingOutput: Bool { !pendingData.isEmpty || pendingTrailers != nil || pendingEnd }

    /// Output it may send now: something queued, and credit for it unless it is only
    /// trailers or END_STREAM (which flow control does not count).
    var isSendable: Bool { hasPendingOutput && (sendWindow.size > 0 || pendingBytes == 0) }
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
