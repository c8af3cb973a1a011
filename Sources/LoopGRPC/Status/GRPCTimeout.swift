/// The `grpc-timeout` header: at most 8 ASCII digits and a unit (H, M, S, m, u, n).
public enum GRPCTimeout {
    /// Parses a header value; nil when malformed (the caller answers INTERNAL... or ignores
    /// it, see the server).
    public static func parse(_ value: String) -> Duration? {
        let bytes = value.utf8
        guard bytes.count >= 2, bytes.count <= 9, let unit = bytes.last else { return nil }
        var amount: Int64 = 0
        for byte in bytes.dropLast() {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            amount = amount * 10 + Int64(byte - 0x30)
        }
        switch unit {
        case UInt8(ascii: "H"): return .seconds(amount * 3600)
        case UInt8(ascii: "M"): return .seconds(amount * 60)
        case UInt8(ascii: "S"): return .seconds(amount)
        case UInt8(ascii: "m"): return .milliseconds(amount)
        case UInt8(ascii: "u"): return .microseconds(amount)
        case UInt8(ascii: "n"): return .nanoseconds(amount)
        default: return nil
        }
    }

    /// The header value for `duration`: the finest unit whose amount fits in 8 digits
    /// (rounded up, so the peer never sees a shorter deadline than ours).
    public static func encode(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return "1n" }
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let total: Int64 = nanoseconds.overflow ? Int64.max : nanoseconds.partialValue &+ (attoseconds + 999_999_999) / 1_000_000_000
        let limit: Int64 = 99_999_999
        let units: [(Int64, Character)] = [(1, "n"), (1_000, "u"), (1_000_000, "m"), (1_000_000_000, "S"), (60_000_000_000, "M"), (3_600_000_000_000, "H")]
        for (scale, unit) in units {
            let amount = (total + scale - 1) / scale
            if amount <= limit { return "\(amount)\(unit)" }
        }
        return "\(limit)H"
    }
}
