/// The dynamic table (RFC 7541 §2.3.2, §4): newest entry first, evicted oldest first when
/// its size (entries' sizes, each name + value + 32) would exceed the maximum.
struct HPACKDynamicTable {
    /// Ring buffer of entries; `newest` is the slot of index 1.
    private var slots: [HPACKHeader?] = []
    private var newest = 0
    private(set) var count = 0
    /// Sum of the entries' sizes.
    private(set) var size = 0
    /// The current maximum size.
    private(set) var maximumSize: Int

    init(maximumSize: Int) {
        self.maximumSize = maximumSize
    }

    /// The entry at dynamic index `index` (1 is the newest), or nil.
    subscript(index: Int) -> HPACKHeader? {
        guard index >= 1 && index <= count else { return nil }
        return slots[(newest + index - 1) % slots.count]
    }

    /// Inserts an entry, evicting as needed; an entry larger than the table empties it
    /// and is not inserted (RFC 7541 §4.4).
    mutating func insert(_ header: HPACKHeader) {
        let entrySize = header.size
        while count > 0 && size + entrySize > maximumSize { evictOldest() }
        guard entrySize <= maximumSize else { return }
        if count == slots.count { grow() }
        newest = (newest - 1 + slots.count) % slots.count
        var stored = header
        stored.indexing = .indexable
        slots[newest] = stored
        count += 1
        size += entrySize
    }

    /// Changes the maximum size, evicting as needed (RFC 7541 §4.3).
    mutating func setMaximumSize(_ newMaximum: Int) {
        maximumSize = newMaximum
        while size > maximumSize { evictOldest() }
    }

    /// The dynamic index of the newest entry matching `name` and `value` exactly, and of
    /// the newest matching `name` only.
    func find(name: String, value: String) -> (exact: Int?, name: Int?) {
        var nameMatch: Int?
        for index in stride(from: 1, through: count, by: 1) {
            let entry = slots[(newest + index - 1) % slots.count]!
            if entry.name == name {
                if entry.value == value { return (index, nameMatch ?? index) }
                if nameMatch == nil { nameMatch = index }
            }
        }
        return (nil, nameMatch)
    }

    private mutating func evictOldest() {
        let slot = (newest + count - 1) % slots.count
        size -= slots[slot]!.size
        slots[slot] = nil
        count -= 1
    }

    private mutating func grow() {
        var grown = [HPACKHeader?](repeating: nil, count: max(8, slots.count * 2))
        for index in 0..<count { grown[index] = slots[(newest + index) % slots.count] }
        slots = grown
        newest = 0
    }
}
