import Loop
import Synchronization

/// The connections a server accepted, and the server's way to its end: serving, draining
/// (a graceful shutdown began), stopped (the listener and every connection closed).
///
/// ```
///  serving ──beginGracefulShutdown──▶ draining ──last connection closed──▶ stopped
///     │                                  │                                    ▲
///     └── listener closed, no connection ┴── deadline: force-close the rest ──┘
/// ```
///
/// Every accepted connection is added on its loop (``admit(_:handler:)``) and removed when
/// its channel closes. A graceful shutdown starts the two-phase GOAWAY (RFC 9113 §6.8) on
/// each connection: requests in flight finish, each connection closes once idle, and at the
/// deadline the ones still open are closed. A connection accepted while draining (it raced
/// the listener's close) is refused.
final class HTTP2ServerConnections: Sendable {
    private struct Connection: @unchecked Sendable {
        // @unchecked Sendable: the handler is touched only on its channel's loop
        // (`LoopBound` checks it); the channel is Sendable.
        let channel: any Channel
        let handler: LoopBound<HTTP2ConnectionHandler>
    }

    private enum Phase {
        /// Accepting and serving.
        case serving
        /// A graceful shutdown began; `forceClose` fires at `deadline` (nil: none yet).
        case draining(deadline: ContinuousClock.Instant?, forceClose: Scheduled<Void>?)
        /// The listener and every connection closed.
        case stopped
    }

    private struct State {
        var phase = Phase.serving
        var listenerClosed = false
        var connections: [ObjectIdentifier: Connection] = [:]
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Connections open now.
    var count: Int { state.withLock { $0.connections.count } }

    /// True once the listener and every connection closed.
    var isStopped: Bool {
        state.withLock { if case .stopped = $0.phase { return true } else { return false } }
    }

    /// Records a connection accepted on its loop; throws (refusing it) once a shutdown began.
    func admit(_ channel: any Channel, handler: HTTP2ConnectionHandler) throws {
        let id = ObjectIdentifier(channel)
        let connection = Connection(channel: channel, handler: LoopBound(handler, eventLoop: channel.eventLoop))
        try state.withLock { state in
            guard case .serving = state.phase else { throw HTTP2ServerError.shuttingDown }
            state.connections[id] = connection
        }
        channel.closeFuture.whenComplete { [self] _ in
            finish(state.withLock { state in
                state.connections[id] = nil
                return stopIfDone(&state)
            })
        }
    }

    /// The listening socket closed: no more connections come.
    func listenerClosed() {
        finish(state.withLock { state in
            state.listenerClosed = true
            return stopIfDone(&state)
        })
    }

    /// Starts the graceful shutdown on every connection (the listener is the caller's to
    /// close). At `deadline` (if any) the connections still open are closed. Calling it
    /// again with an earlier deadline moves the forced close earlier.
    func beginGracefulShutdown(deadline: ContinuousClock.Instant?, timerLoop: EventLoop) {
        let (connections, firstTime) = state.withLock { state -> ([Connection], Bool) in
            switch state.phase {
            case .stopped: return ([], false)
            case .draining: return ([], false)
            case .serving:
                state.phase = .draining(deadline: nil, forceClose: nil)
                return (Array(state.connections.values), true)
            }
        }
        if firstTime {
            for connection in connections {
                let handler = connection.handler
                handler.eventLoop.execute { handler.value.beginGracefulShutdown() }
            }
        }
        if let deadline { scheduleForcedClose(at: deadline, on: timerLoop) }
    }

    private func scheduleForcedClose(at deadline: ContinuousClock.Instant, on loop: EventLoop) {
        let timer = loop.scheduleTask(in: max(deadline - ContinuousClock.now, .zero)) { [self] in closeAll() }
        // Keep the earlier deadline; cancel the other timer outside the lock.
        let unused = state.withLock { state -> Scheduled<Void>? in
            guard case .draining(let current, let currentTimer) = state.phase else { return timer }
            if let current, current <= deadline { return timer }
            state.phase = .draining(deadline: deadline, forceClose: timer)
            return currentTimer
        }
        unused?.cancel()
    }

    /// Closes every connection now (the deadline passed, or the server's task was cancelled).
    func closeAll() {
        let channels = state.withLock { $0.connections.values.map(\.channel) }
        for channel in channels { channel.close() }
    }

    /// Returns once the listener and every connection closed.
    func waitUntilStopped() async {
        await withCheckedContinuation { continuation in
            let stopped = state.withLock { state -> Bool in
                if case .stopped = state.phase { return true }
                state.waiters.append(continuation)
                return false
            }
            if stopped { continuation.resume() }
        }
    }

    /// What to do after the lock: waiters to resume, a timer to cancel.
    private struct Finish {
        var waiters: [CheckedContinuation<Void, Never>] = []
        var timer: Scheduled<Void>?
    }

    private func stopIfDone(_ state: inout State) -> Finish {
        guard state.listenerClosed, state.connections.isEmpty else { return Finish() }
        var finish = Finish()
        switch state.phase {
        case .stopped: return finish
        case .draining(_, let timer): finish.timer = timer
        case .serving: break
        }
        state.phase = .stopped
        finish.waiters = state.waiters
        state.waiters = []
        return finish
    }

    private func finish(_ finish: Finish) {
        finish.timer?.cancel()
        for waiter in finish.waiters { waiter.resume() }
    }
}

/// Errors of a server as a whole.
public enum HTTP2ServerError: Error, Equatable, CustomStringConvertible {
    /// A connection arrived after the server began to shut down; it was closed.
    case shuttingDown

    public var description: String {
        switch self {
        case .shuttingDown: return "HTTP2ServerError.shuttingDown: the server is shutting down and accepts no new connections"
        }
    }
}
