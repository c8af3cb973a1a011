/// The timeouts of a connection after its handshake (the handshake has its own,
/// ``HTTP2Configuration/handshakeTimeout``): each watches one condition and fires when the
/// condition has held, without a break, for its limit.
///
/// | timeout | condition | answer |
/// |---|---|---|
/// | ``HTTP2Configuration/idleTimeout`` | no open stream | GOAWAY(NO_ERROR) |
/// | ``HTTP2Configuration/headerBlockTimeout`` | a header block started and not finished | GOAWAY(ENHANCE_YOUR_CALM) |
/// | ``HTTP2Configuration/writeStallTimeout`` | output waits (socket unwritable, or DATA queued) and none leaves | GOAWAY(ENHANCE_YOUR_CALM) |
///
/// No I/O and no timer: the connection handler reports the conditions after each batch of
/// work (``observe(now:idle:headerBlockPending:outputWaiting:outputMoved:)``) and keeps one
/// timer for ``nextDeadline``; when it fires, ``expired(now:)`` says which limit passed.
///
/// ```swift
/// var timeouts = HTTP2Timeouts(configuration: .init(role: .server))
/// timeouts.observe(now: clock, idle: true, headerBlockPending: false, outputWaiting: false, outputMoved: false)
/// if let deadline = timeouts.nextDeadline { /* arm a timer */ }
/// ```
struct HTTP2Timeouts {
    /// Which limit passed.
    enum Expiry: Equatable {
        case idle(Duration)
        case headerBlock(Duration)
        case writeStall(Duration)

        var code: HTTP2ErrorCode {
            if case .idle = self { return .noError }
            return .enhanceYourCalm
        }

        var reason: String {
            switch self {
            case .idle(let limit): return "idle for \(limit) with no open stream"
            case .headerBlock(let limit): return "header block not finished within \(limit)"
            case .writeStall(let limit): return "no output could be sent for \(limit) (the peer does not read, or keeps its flow-control windows shut)"
            }
        }
    }

    private struct Watch {
        let limit: Duration
        let nanoseconds: UInt64
        /// When the condition began to hold; nil while it does not.
        var since: UInt64?

        init?(_ limit: Duration?) {
            guard let limit else { return nil }
            self.limit = limit
            let (seconds, attoseconds) = limit.components
            nanoseconds = UInt64(max(seconds, 0)) * 1_000_000_000 + UInt64(max(attoseconds, 0) / 1_000_000_000)
        }

        var deadline: UInt64? { since.map { $0 &+ nanoseconds } }

        mutating func update(holds: Bool, now: UInt64) {
            if !holds { since = nil } else if since == nil { since = now }
        }

        func passed(now: UInt64) -> Bool {
            guard let deadline else { return false }
            return now >= deadline
        }
    }

    private var idle: Watch?
    private var headerBlock: Watch?
    private var writeStall: Watch?

    init(configuration: HTTP2Configuration) {
        idle = Watch(configuration.idleTimeout)
        headerBlock = Watch(configuration.headerBlockTimeout)
        writeStall = Watch(configuration.writeStallTimeout)
    }

    /// True when no timeout is configured (the handler keeps no timer).
    var isEmpty: Bool { idle == nil && headerBlock == nil && writeStall == nil }

    /// Records the connection's conditions at `now` (monotonic nanoseconds).
    /// - Parameters:
    ///   - idle: no stream is open.
    ///   - headerBlockPending: the peer started a header block and has not finished it.
    ///   - outputWaiting: output waits: the socket is not writable, or DATA is queued.
    ///   - outputMoved: some output left since the last observation (a write stall starts over).
    mutating func observe(now: UInt64, idle isIdle: Bool, headerBlockPending: Bool, outputWaiting: Bool, outputMoved: Bool) {
        idle?.update(holds: isIdle, now: now)
        headerBlock?.update(holds: headerBlockPending, now: now)
        if outputMoved { writeStall?.since = nil }
        writeStall?.update(holds: outputWaiting, now: now)
    }

    /// The earliest time a limit can pass, if any condition holds.
    var nextDeadline: UInt64? {
        // No array: this runs after every batch of work.
        var earliest = idle?.deadline
        if let deadline = headerBlock?.deadline, earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        if let deadline = writeStall?.deadline, earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        return earliest
    }

    /// The limit that passed by `now`, if one did (checked after a fresh ``observe``).
    func expired(now: UInt64) -> Expiry? {
        if let headerBlock, headerBlock.passed(now: now) { return .headerBlock(headerBlock.limit) }
        if let writeStall, writeStall.passed(now: now) { return .writeStall(writeStall.limit) }
        if let idle, idle.passed(now: now) { return .idle(idle.limit) }
        return nil
    }
}
