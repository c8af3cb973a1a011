/// The dynamic table (RFC 7541 §2.3.2, §4): newest entry first, evicted oldest first when
/// its size (entries' sizes, each name + value + 32) would exceed the maximum.
///
/// Sizes count the octets on the wire (RFC 7541 §4.1), which the decoder passes in: a value
/// that is not valid UTF-8 (RFC 9113 §8.2.1 allows octets 0x80–0xFF) changes length when it
/// becomes a Swift `String`, and a table counting the String's bytes would evict entries
/// the peer's table still holds.
struct HPACKDynamicTable {
    struct Entry {
        var header: HPACKHeader
        /// name + value octets + 32, as the peer counts it.
        var size: Int
        /// The name's octets (a literal that reuses this name counts these).
        var nameOctets: Int
    }

    /// Ring buffer of entries; `newest` is the slot of index 1.
    private var slots: [Entry?] = []
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
        entry(index)?.header
    }

    /// The entry at dynamic index `index` with its octet sizes, or nil.
    func entry(_ index: Int) -> Entry? {
        guard index >= 1 && index <= count else { return nil }
        return slots[(newest + index - 1) % slots.count]
    }

    /// Inserts an entry, evicting as needed; an entry larger than the table empties it
    /// and is not inserted (RFC 7541 §4.4). `size` and `nameOctets` are the wire's octet
    /// counts when they differ from the String's (the decoder's case).
    mutating func insert(_ header: HPACKHeader, size entrySize: Int? = nil, nameOctets: Int? = nil) {
        let entrySize = entrySize ?? header.size
        while count > 0 && size + entrySize > maximumSize { evictOldest() }
        guard entrySize <= maximumSize else { return }
        if count == slots.count { grow() }
        newest = (newest - 1 + slots.count) % slots.count
        var stored = header
        stored.indexing = .indexable
        slots[newest] = Entry(header: stored, size: entrySize, nameOctets: nameOctets ?? header.name.utf8.count)
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
            let entry = slots[(newest + index - 1) % slots.count]!.header
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
        var grown = [Entry?](repeating: nil, count: max(8, slots.count * 2))
        for index in 0..<count { grown[index] = slots[(newest + index) % slots.count] }
        slots = grown
        newest = 0
    }
}
