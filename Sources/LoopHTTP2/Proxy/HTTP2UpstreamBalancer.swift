/// One upstream's health as the proxy sees it, I/O-free: up, or down until a retry time
/// that backs off exponentially with each failure in a row. Times are monotonic
/// nanoseconds.
///
/// ```swift
/// var health = HTTP2UpstreamHealth(initialBackoff: .seconds(1), maximumBackoff: .seconds(30))
/// health.failed(now: 0)                      // down, retry after 1 s
/// health.isSelectable(now: 500_000_000)      // false
/// health.isSelectable(now: 1_000_000_000)    // true: one more try may go there
/// health.succeeded()                         // up again
/// ```
public struct HTTP2UpstreamHealth: Sendable, Equatable {
    /// Up, or down with the time from which it may be tried again.
    public enum State: Sendable, Equatable {
        case up
        case down(retryAt: UInt64)
    }

    public private(set) var state: State = .up
    /// Failures since the last success.
    public private(set) var consecutiveFailures = 0
    public let initialBackoff: Duration
    public let maximumBackoff: Duration

    public init(initialBackoff: Duration = .seconds(1), maximumBackoff: Duration = .seconds(30)) {
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
    }

    public var isUp: Bool { state == .up }

    /// Up, or down with its backoff over (a re-probe).
    public func isSelectable(now: UInt64) -> Bool {
        switch state {
        case .up: return true
        case .down(let retryAt): return now >= retryAt
        }
    }

    /// A connection or a health check succeeded.
    public mutating func succeeded() {
        state = .up
        consecutiveFailures = 0
    }

    /// A connect failed, or a health check said not serving: down for the initial backoff,
    /// doubled per failure in a row, at most the maximum.
    public mutating func failed(now: UInt64) {
        consecutiveFailures += 1
        let initial = Self.nanoseconds(initialBackoff)
        let maximum = Self.nanoseconds(maximumBackoff)
        let shift = min(consecutiveFailures - 1, 40)
        let backoff = min(maximum, initial << UInt64(shift))
        state = .down(retryAt: now &+ backoff)
    }

    /// The time a down upstream may be tried again (0 when up).
    var retryAt: UInt64 {
        if case .down(let at) = state { return at }
        return 0
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}

/// Round-robin choice among upstreams, I/O-free: the next one that is selectable (up, or
/// down with its backoff over) and not yet tried by the request at hand. When every
/// untried upstream is down, the one whose backoff ends first is tried anyway, so a request
/// fails only after each upstream failed it.
///
/// ```swift
/// var balancer = HTTP2UpstreamBalancer(count: 3)
/// var tried = HTTP2UpstreamSet()
/// let first = balancer.next(now: 0, excluding: tried)!   // 0
/// tried.insert(first)
/// balancer.failed(first, now: 0)                          // down: the next pick skips it
/// ```
public struct HTTP2UpstreamBalancer: Sendable {
    public private(set) var health: [HTTP2UpstreamHealth]
    private var cursor = 0

    public init(count: Int, initialBackoff: Duration = .seconds(1), maximumBackoff: Duration = .seconds(30)) {
        precondition(count > 0, "a proxy needs at least one upstream")
        health = Array(repeating: HTTP2UpstreamHealth(initialBackoff: initialBackoff, maximumBackoff: maximumBackoff), count: count)
    }

    public var count: Int { health.count }

    /// The upstream to send a request to, or nil when every upstream was tried already.
    public mutating func next(now: UInt64, excluding tried: HTTP2UpstreamSet) -> Int? {
        let count = health.count
        var fallback: Int?
        for step in 0..<count {
            let index = (cursor + step) % count
            guard !tried.contains(index) else { continue }
            if health[index].isSelectable(now: now) {
                cursor = (index + 1) % count
                return index
            }
            if fallback == nil || health[index].retryAt < health[fallback!].retryAt { fallback = index }
        }
        return fallback
    }

    public mutating func succeeded(_ index: Int) { health[index].succeeded() }
    public mutating func failed(_ index: Int, now: UInt64) { health[index].failed(now: now) }
}

/// A small set of upstream indices (a bit mask): which upstreams a request has tried.
/// Indices of 64 and more are never remembered, so such upstreams can be tried again.
public struct HTTP2UpstreamSet: Sendable, Equatable {
    private var bits: UInt64 = 0
    public init() {}
    public func contains(_ index: Int) -> Bool { index < 64 && bits & (1 << UInt64(index)) != 0 }
    public mutating func insert(_ index: Int) { if index < 64 { bits |= 1 << UInt64(index) } }
    public var count: Int { bits.nonzeroBitCount }
}
