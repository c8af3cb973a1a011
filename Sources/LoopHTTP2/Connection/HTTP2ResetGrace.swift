/// The streams a server waits on before resetting them: the response is complete, the
/// client's side still open (``HTTP2Configuration/UnfinishedRequestPolicy/resetAfterGracePeriod(_:)``).
///
/// One timer per connection, not one per stream: ids wait in two generations. Each tick
/// (every grace period, driven by the connection handler) resets the streams of the older
/// generation that are still waiting, and the younger becomes the older; a stream thus waits
/// between one and two periods. Ids of streams the client closed in time stay in the lists
/// until their tick finds them gone (ids are never reused); the lists are compacted when they
/// outgrow the streams that can be waiting (each keeps its slot under
/// SETTINGS_MAX_CONCURRENT_STREAMS), so a client opening and closing streams fast cannot
/// grow them.
///
/// ```swift
/// grace.add(streamID)                        // the response ended, the request is open
/// for id in grace.tick() where stillWaiting(id) { reset(id) }
/// ```
struct HTTP2ResetGrace {
    private var younger: [UInt32] = []
    private var older: [UInt32] = []
    /// Past this many ids the younger list is compacted.
    private let compactionThreshold: Int

    init(maxWaitingStreams: UInt32?) {
        compactionThreshold = max(64, 2 * Int(min(maxWaitingStreams ?? 1024, 1 << 20)))
    }

    /// True while a tick is needed (some id may still be waiting).
    var isEmpty: Bool { younger.isEmpty && older.isEmpty }

    /// The number of ids held (for tests of the bound).
    var heldIDs: Int { younger.count + older.count }

    /// Starts the wait of `streamID`.
    mutating func add(_ streamID: UInt32) {
        younger.append(streamID)
    }

    /// True when the ids held outgrow the streams that can be waiting: call `compact`.
    var needsCompaction: Bool { younger.count >= compactionThreshold }

    /// Drops the ids of streams no longer waiting.
    mutating func compact(isWaiting: (UInt32) -> Bool) {
        younger.removeAll { !isWaiting($0) }
        older.removeAll { !isWaiting($0) }
    }

    /// One grace period passed: returns the ids whose wait is over (some may have closed
    /// meanwhile; the caller checks) and ages the younger generation.
    mutating func tick() -> [UInt32] {
        let expired = older
        older = younger
        younger = []
        return expired
    }
}
