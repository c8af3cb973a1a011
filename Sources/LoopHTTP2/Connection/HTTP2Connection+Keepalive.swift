/// What ``HTTP2Connection`` does when a keepalive, PING-policy or age deadline comes
/// (`HTTP2Keepalive`: gRFC A8 and A9, as grpc-go configures them). The connection handler
/// keeps one timer per connection for the earliest of these and of ``HTTP2Timeouts``' deadlines,
/// and calls ``checkKeepalive(now:)`` when it fires.
///
/// ```swift
/// if let deadline = connection.nextKeepaliveDeadline { /* arm a timer for it */ }
/// // when it fires:
/// if connection.checkKeepalive(now: clock) { /* handle events, write output */ }
/// ```
extension HTTP2Connection {
    /// True when keepalive, a PING policy or a maximum age is configured.
    public var hasKeepaliveDeadlines: Bool { !keepalive.isEmpty }

    /// The earliest time (monotonic nanoseconds) ``checkKeepalive(now:)`` has something to
    /// do: a keepalive PING, the end of its timeout, the maximum age or its grace.
    public var nextKeepaliveDeadline: UInt64? {
        state == .closed ? nil : keepalive.nextDeadline(openStreams: streams.count)
    }

    /// Does what is due at `now`:
    /// - a keepalive PING (RFC 9113 §6.7) after the interval without reading anything;
    /// - a peer that sent nothing within the timeout after it: the connection closes without
    ///   GOAWAY (the peer reads nothing either), its streams are reset with CANCEL, and
    ///   ``keepaliveFailure`` and the `.connectionError` event say why;
    /// - the maximum age (servers): the graceful shutdown (§6.8), GOAWAY(NO_ERROR, "max_age");
    /// - the age's grace: GOAWAY(NO_ERROR) naming it, and the streams left are closed.
    /// - Returns: true when it did something (events to handle, output to write).
    @discardableResult
    public mutating func checkKeepalive(now: UInt64) -> Bool {
        var acted = false
        while state != .closed, let action = keepalive.due(now: now, openStreams: streams.count) {
            acted = true
            switch action {
            case .ping:
                HTTP2FrameEncoder.writePing(HTTP2Keepalive.pingData, ack: false, into: &output.control)
            case .unresponsive(let reason):
                keepaliveFailure = reason
                fail(.connection(.cancel, reason), sendingGoAway: false)
            case .maxAge:
                beginGracefulShutdown(debugData: HTTP2Keepalive.maxAgeDebugData)
            case .graceOver(let reason):
                close(code: .noError, reason: reason)
            }
        }
        return acted
    }
}
