/// The open streams of a connection by id: open addressing with linear probing in a
/// power-of-two table. Stream ids of one side are sequential odd (or even) numbers, so
/// `id >> 1` spreads them without a hash function — a `Dictionary` spends more on hashing
/// the id than the rest of a lookup costs. Hot paths change entries in place with `modify`.
///
/// Removal leaves a tombstone instead of shifting the rest of the probe run back: with
/// sequential ids the open streams form one long run, and shifting would make every removal
/// cost as much as the number of open streams. Tombstones are reused by inserts and cleared
/// when the table is rebuilt.
struct HTTP2StreamTable {
    private static let empty: UInt32 = 0          // stream 0 is never a stream
    private static let tombstone: UInt32 = .max   // stream ids stop at 2^31-1
    private var keys: [UInt32]
    private var values: [HTTP2Stream?]
    private(set) var count = 0
    private var tombstones = 0
    private var mask: Int

    init() {
        keys = [UInt32](repeating: HTTP2StreamTable.empty, count: 16)
        values = [HTTP2Stream?](repeating: nil, count: 16)
        mask = 15
    }

    var isEmpty: Bool { count == 0 }

    /// The ids of the open streams (a copy, for loops that change the table).
    var ids: [UInt32] {
        var ids: [UInt32] = []
        ids.reserveCapacity(count)
        for key in keys where key != HTTP2StreamTable.empty && key != HTTP2StreamTable.tombstone { ids.append(key) }
        return ids
    }

    /// Changes every open stream in place, in table order, until `body` returns false (no
    /// copy of the ids: a SETTINGS window change walks thousands of streams this way).
    mutating func modifyEach(_ body: (UInt32, inout HTTP2Stream) -> Bool) {
        for index in keys.indices {
            let key = keys[index]
            guard key != HTTP2StreamTable.empty && key != HTTP2StreamTable.tombstone else { continue }
            guard body(key, &values[index]!) else { return }
        }
    }

    private func home(_ id: UInt32) -> Int { Int(id >> 1) & mask }

    private func slot(of id: UInt32) -> Int? {
        var index = home(id)
        while true {
            let key = keys[index]
            if key == id { return index }
            if key == HTTP2StreamTable.empty { return nil }
            index = (index + 1) & mask
        }
    }

    subscript(id: UInt32) -> HTTP2Stream? {
        get {
            guard let index = slot(of: id) else { return nil }
            return values[index]
        }
        set {
            if let newValue {
                if let index = slot(of: id) { values[index] = newValue } else { insert(id, newValue) }
            } else if let index = slot(of: id) {
                remove(at: index)
            }
        }
    }

    /// Calls `body` with the stream's state to change in place (no copy of the state, no
    /// coroutine frame); nil when there is no such stream.
    @inline(__always)
    mutating func modify<R>(_ id: UInt32, _ body: (inout HTTP2Stream) throws -> R) rethrows -> R? {
        guard let index = slot(of: id) else { return nil }
        return try body(&values[index]!)
    }

    /// Whether `id` is an open stream.
    func contains(_ id: UInt32) -> Bool { slot(of: id) != nil }

    @discardableResult
    mutating func removeValue(forKey id: UInt32) -> HTTP2Stream? {
        guard let index = slot(of: id) else { return nil }
        let value = values[index]
        remove(at: index)
        return value
    }

    private mutating func insert(_ id: UInt32, _ value: HTTP2Stream) {
        // Rebuild when live entries and tombstones fill half the table: probes stay short.
        if (count + tombstones + 1) * 2 > keys.count {
            rebuild(capacity: (count + 1) * 4 > keys.count ? keys.count * 2 : keys.count)
        }
        var index = home(id)
        while keys[index] != HTTP2StreamTable.empty && keys[index] != HTTP2StreamTable.tombstone {
            index = (index + 1) & mask
        }
        if keys[index] == HTTP2StreamTable.tombstone { tombstones -= 1 }
        keys[index] = id
        values[index] = value
        count += 1
    }

    private mutating func remove(at index: Int) {
        values[index] = nil
        count -= 1
        // The end of a probe run needs no tombstone: nothing probes past an empty slot.
        if keys[(index + 1) & mask] == HTTP2StreamTable.empty {
            keys[index] = HTTP2StreamTable.empty
        } else {
            keys[index] = HTTP2StreamTable.tombstone
            tombstones += 1
        }
    }

    private mutating func rebuild(capacity: Int) {
        let oldKeys = keys
        var oldValues = values
        keys = [UInt32](repeating: HTTP2StreamTable.empty, count: capacity)
        values = [HTTP2Stream?](repeating: nil, count: capacity)
        mask = capacity - 1
        count = 0
        tombstones = 0
        for index in oldKeys.indices where oldKeys[index] != HTTP2StreamTable.empty && oldKeys[index] != HTTP2StreamTable.tombstone {
            insert(oldKeys[index], oldValues[index].take()!)
        }
    }
}
