/// The open streams of a connection by id: open addressing with linear probing in a
/// power-of-two table. Stream ids of one side are sequential odd (or even) numbers, so
/// `id >> 1` spreads them without a hash function — a `Dictionary` spends more on hashing
/// the id than the rest of a lookup costs. Hot paths change entries in place with `modify`.
struct HTTP2StreamTable {
    private var keys: [UInt32]          // 0: empty slot (stream 0 is never a stream)
    private var values: [HTTP2StreamState?]
    private(set) var count = 0
    private var mask: Int

    init() {
        keys = [UInt32](repeating: 0, count: 16)
        values = [HTTP2StreamState?](repeating: nil, count: 16)
        mask = 15
    }

    var isEmpty: Bool { count == 0 }

    /// The ids of the open streams (a copy, for loops that change the table).
    var ids: [UInt32] {
        var ids: [UInt32] = []
        ids.reserveCapacity(count)
        for key in keys where key != 0 { ids.append(key) }
        return ids
    }

    private func home(_ id: UInt32) -> Int { Int(id >> 1) & mask }

    private func slot(of id: UInt32) -> Int? {
        var index = home(id)
        while true {
            let key = keys[index]
            if key == id { return index }
            if key == 0 { return nil }
            index = (index + 1) & mask
        }
    }

    subscript(id: UInt32) -> HTTP2StreamState? {
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
    mutating func modify<R>(_ id: UInt32, _ body: (inout HTTP2StreamState) throws -> R) rethrows -> R? {
        guard let index = slot(of: id) else { return nil }
        return try body(&values[index]!)
    }

    /// Whether `id` is an open stream.
    func contains(_ id: UInt32) -> Bool { slot(of: id) != nil }

    @discardableResult
    mutating func removeValue(forKey id: UInt32) -> HTTP2StreamState? {
        guard let index = slot(of: id) else { return nil }
        let value = values[index]
        remove(at: index)
        return value
    }

    private mutating func insert(_ id: UInt32, _ value: HTTP2StreamState) {
        if (count + 1) * 2 > keys.count { grow() }
        var index = home(id)
        while keys[index] != 0 { index = (index + 1) & mask }
        keys[index] = id
        values[index] = value
        count += 1
    }

    /// Removes the entry at `index`, shifting later entries of its probe run back so every
    /// remaining entry stays reachable from its home slot.
    private mutating func remove(at index: Int) {
        var hole = index
        keys[hole] = 0
        values[hole] = nil
        count -= 1
        var next = (hole + 1) & mask
        while keys[next] != 0 {
            let wanted = home(keys[next])
            // Move the entry back if its home is not within (hole, next] cyclically.
            let between = hole <= next ? (wanted > hole && wanted <= next) : (wanted > hole || wanted <= next)
            if !between {
                keys[hole] = keys[next]
                values[hole] = values[next].take()
                keys[next] = 0
                hole = next
            }
            next = (next + 1) & mask
        }
    }

    private mutating func grow() {
        let oldKeys = keys
        var oldValues = values
        let capacity = keys.count * 2
        keys = [UInt32](repeating: 0, count: capacity)
        values = [HTTP2StreamState?](repeating: nil, count: capacity)
        mask = capacity - 1
        count = 0
        for index in oldKeys.indices where oldKeys[index] != 0 {
            insert(oldKeys[index], oldValues[index].take()!)
        }
    }
}
