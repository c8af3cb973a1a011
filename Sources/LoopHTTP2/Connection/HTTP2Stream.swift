/// One open stream: a small record in the connection's table (docs/architecture.md: streams are cheap).
/// Each concern keeps its own part: the RFC state, the outbound queue and send window (the
/// scheduler's), the receive window (the inbound windows'), and the body-length check.
struct HTTP2Stream {
    /// Where the stream is in RFC 9113 §5.1's state diagram.
    var state: HTTP2StreamState
    /// Queued DATA, trailers and END_STREAM, and the send window (``HTTP2OutboundScheduler``).
    var outbound: HTTP2StreamOutbound
    /// The receive window and the bytes the application has not consumed yet
    /// (``HTTP2InboundWindows``).
    var inbound: HTTP2StreamInbound
    /// The peer's content-length for its body, checked against the DATA it sends (§8.1.1).
    var expectedLength: Int?
    var receivedLength = 0
    /// A client's HEAD request: its response has no body whatever content-length says.
    var requestIsHead = false
    /// Server: the response is complete and the request still open; the stream waits for
    /// the client to end its side (``HTTP2ResetGrace``), its DATA discarded and credited.
    var awaitsPeerEnd = false

    init(state: HTTP2StreamState, sendWindow: Int, receiveWindow: Int) {
        self.state = state
        self.outbound = HTTP2StreamOutbound(sendWindow: sendWindow)
        self.inbound = HTTP2StreamInbound(receiveWindow: receiveWindow)
    }
}
