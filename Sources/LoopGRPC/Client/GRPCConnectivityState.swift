/// The connectivity of a `GRPCChannel` (gRPC's doc/connectivity-semantics-and-api.md).
public enum GRPCConnectivityState: Sendable, Equatable, CustomStringConvertible {
    /// No connection, none being made; the next call starts one.
    case idle
    /// Connecting: TCP, then waiting for the server's SETTINGS.
    case connecting
    /// A connection is up and the server's SETTINGS arrived.
    case ready
    /// The last attempt failed; the next one starts after a backoff delay.
    case transientFailure
    /// The channel was closed; every call fails with UNAVAILABLE.
    case shutdown

    public var description: String {
        switch self {
        case .idle: return "IDLE"
        case .connecting: return "CONNECTING"
        case .ready: return "READY"
        case .transientFailure: return "TRANSIENT_FAILURE"
        case .shutdown: return "SHUTDOWN"
        }
    }
}

/// Reconnect delays: exponential with jitter (gRPC's connection-backoff.md: 1 s initial,
/// ×1.6, ±20 % jitter, 120 s at most).
public struct GRPCBackoff: Sendable, Equatable {
    public var initial: Duration = .seconds(1)
    public var multiplier: Double = 1.6
    public var jitter: Double = 0.2
    public var maximum: Duration = .seconds(120)

    public init() {}

    /// The delay before attempt `attempt` (0 for the first retry), jittered with `random`
    /// in [0, 1).
    public func delay(attempt: Int, random: Double) -> Duration {
        var seconds = Double(initial.components.seconds) + Double(initial.components.attoseconds) / 1e18
        let cap = Double(maximum.components.seconds) + Double(maximum.components.attoseconds) / 1e18
        for _ in 0..<attempt {
            seconds = min(seconds * multiplier, cap)
            if seconds >= cap { break }
        }
        let jittered = seconds * (1 + jitter * (random * 2 - 1))
        return .nanoseconds(Int64(max(0, jittered) * 1e9))
    }
}
