import Loop

// The handler's timers: one per connection for the earliest deadline of HTTP2Timeouts and of the
// connection's keepalive, PING policy and maximum age (HTTP2Keepalive), and the stream-end
// rule's grace tick (HTTP2ResetGrace). The handshake and linger timers stay with the events
// that start them.
extension HTTP2ConnectionHandler {
    /// Why the keepalive closed the connection (the peer sent nothing within the timeout
    /// after our PING), nil otherwise: set before the streams hear of the close, so a stream
    /// delegate can tell a peer that is gone from one that reset it. On the channel's loop.
    public var keepaliveFailure: String? { connection.keepaliveFailure }

    /// Reports the connection's conditions to ``HTTP2Timeouts``, lets the connection act on
    /// its keepalive deadlines, and keeps one timer for the earliest deadline of both (moved
    /// earlier when a new condition needs it; a timer that fires early finds nothing due and
    /// re-arms).
    func watchTimeouts(_ context: ChannelHandlerContext) {
        guard connection.state != .closed, !closing else {
            timeoutTimer?.cancel()
            timeoutTimer = nil
            return
        }
        let queued = connection.queuedOutboundBytes
        let now = HTTP2ConnectionHandler.clock.nanoseconds()
        let moved = becameWritable || queued < lastQueuedOutboundBytes
        becameWritable = false
        lastQueuedOutboundBytes = queued
        timeouts.observe(now: now, idle: connection.openStreamCount == 0, headerBlockPending: connection.isInHeaderBlock,
                         outputWaiting: !context.channel.isWritable || queued > 0, outputMoved: moved)
        if let expiry = timeouts.expired(now: now) {
            timeoutTimer?.cancel()
            timeoutTimer = nil
            connection.close(code: expiry.code, reason: expiry.reason)
            processEvents()
            flushNow()
            return
        }
        // A keepalive PING, the close of a peer that stopped answering, the maximum age's
        // GOAWAY or its grace: flushing comes back here to arm the timer for what is next.
        if connection.checkKeepalive(now: now) {
            processEvents()
            flushNow()
            return
        }
        var next = timeouts.nextDeadline
        if let deadline = connection.nextKeepaliveDeadline, next.map({ deadline < $0 }) ?? true { next = deadline }
        guard let deadline = next, deadline < timeoutTimerDeadline else { return }
        timeoutTimer?.cancel()
        timeoutTimerDeadline = deadline
        let delay = deadline > now ? deadline - now : 0
        timeoutTimer = context.eventLoop.scheduleCallback(in: .nanoseconds(Int64(min(delay, UInt64(Int64.max))))) {
            self.timeoutTimer = nil
            self.timeoutTimerDeadline = .max
            guard let context = self.context else { return }
            self.watchTimeouts(context)
        }
    }

    /// Ticks once per grace period until no stream waits for its client's end.
    func startGraceTimer(_ loop: EventLoop) {
        guard case .resetAfterGracePeriod(let period) = connection.configuration.unfinishedRequestPolicy,
              connection.state != .closed else { return }
        graceTimer = loop.scheduleCallback(in: period) { [self] in
            self.graceTimer = nil
            self.connection.resetGracePeriodElapsed()
            self.processEvents()
            self.flushNow()   // starts the next tick while streams still wait
        }
    }
}
