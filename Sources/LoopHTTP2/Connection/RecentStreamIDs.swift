/// Closed-stream memory (RFC 9113 §5.1, "closed"): the last few stream ids that were reset
/// or closed. A frame the peer sent before it saw our RST_STREAM is ignored instead of
/// treated as an error; HEADERS on a stream that closed normally is STREAM_CLOSED rather
/// than the PROTOCOL_ERROR of a lower id never used (§5.1.1). A fixed ring: the memory is
/// bounded whatever the peer does.
///
/// ```swift
/// var reset = RecentStreamIDs(capacity: 64)
/// reset.insert(7)
/// reset.contains(7)   // true until 64 newer ids pushed it out
/// ```
struct RecentStreamIDs {
    private var ids: [UInt32]
    private var next = 0

    init(capacity: Int) { ids = [UInt32](repeating: 0, count: capacity) }

    mutating func insert(_ id: UInt32) {
        ids[next] = id
        next = (next + 1) % ids.count
    }

    func contains(_ id: UInt32) -> Bool { id != 0 && ids.contains(id) }
}
