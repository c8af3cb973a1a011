import Loop

/// Decodes HPACK header blocks (RFC 7541) for one direction of one connection.
///
/// ```swift
/// var decoder = HPACKDecoder(maximumHeaderListSize: 16_384)
/// let headers = try decoder.decode(block)   // [HPACKHeader]
/// ```
public struct HPACKDecoder: Sendable {
    private var table: HPACKDynamicTable
    /// The SETTINGS_HEADER_TABLE_SIZE we announced: the peer's table size updates may not
    /// exceed it.
    public var maximumTableSizeLimit: Int
    /// SETTINGS_MAX_HEADER_LIST_SIZE: the largest decoded header list (sizes counted as in
    /// RFC 9113 §6.5.2) before `HPACKError.headerListTooLarge`.
    public var maximumHeaderListSize: Int
    /// The longest string literal accepted (bounds memory before the list check applies).
    public var maximumStringLength: Int

    public init(maximumTableSize: Int = 4096, maximumHeaderListSize: Int = 65_536, maximumStringLength: Int? = nil) {
        self.table = HPACKDynamicTable(maximumSize: maximumTableSize)
        self.maximumTableSizeLimit = maximumTableSize
        self.maximumHeaderListSize = maximumHeaderListSize
        self.maximumStringLength = maximumStringLength ?? maximumHeaderListSize
    }

    /// Current size of the dynamic table (entries' sizes).
    public var dynamicTableSize: Int { table.size }
    /// Current number of dynamic table entries.
    public var dynamicTableCount: Int { table.count }
    /// The dynamic table's current maximum size.
    public var dynamicTableMaximumSize: Int { table.maximumSize }

    /// Decodes one complete header block.
    ///
    /// A block whose header list is too large is still decoded to the end, so the dynamic
    /// table stays in step with the peer's encoder (RFC 9113 §6.5.2, RFC 7541 §2.2); then
    /// `HPACKError.headerListTooLarge` is thrown, which refuses the stream only. Every other
    /// error is a COMPRESSION_ERROR for the connection.
    public mutating func decode(_ block: ByteBuffer) throws -> [HPACKHeader] {
        var buffer = block
        var headers: [HPACKHeader] = []
        // Typical blocks hold 4–12 fields: one allocation instead of growing 1, 2, 4, 8.
        headers.reserveCapacity(12)
        var listSize = 0
        var sawField = false
        while let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) {
            let header: HPACKHeader
            var octets: Int
            if first & 0x80 != 0 {
                // Indexed field (§6.1).
                (header, octets) = try entry(at: HPACKInteger.decode(prefixBits: 7, from: &buffer))
            } else if first & 0xC0 == 0x40 {
                // Literal with incremental indexing (§6.2.1).
                let nameOctets: Int
                (header, octets, nameOctets) = try literal(prefixBits: 6, indexing: .indexable, from: &buffer)
                table.insert(header, size: octets, nameOctets: nameOctets)
            } else if first & 0xE0 == 0x20 {
                // Dynamic table size update (§6.3), only before the first field (§4.2).
                guard !sawField else { throw HPACKError.tableSizeUpdateNotAtStart }
                let newSize = try HPACKInteger.decode(prefixBits: 5, from: &buffer)
                guard newSize <= maximumTableSizeLimit else {
                    throw HPACKError.tableSizeUpdateTooLarge(requested: newSize, maximum: maximumTableSizeLimit)
                }
                table.setMaximumSize(newSize)
                continue
            } else if first & 0xF0 == 0x10 {
                // Literal never indexed (§6.2.3).
                (header, octets, _) = try literal(prefixBits: 4, indexing: .neverIndexed, from: &buffer)
            } else {
                // Literal without indexing (§6.2.2).
                (header, octets, _) = try literal(prefixBits: 4, indexing: .nonIndexed, from: &buffer)
            }
            sawField = true
            listSize += octets
            if listSize <= maximumHeaderListSize { headers.append(header) }
        }
        if listSize > maximumHeaderListSize { throw HPACKError.headerListTooLarge(maximum: maximumHeaderListSize) }
        return headers
    }

    /// Sets the limit we announce in SETTINGS_HEADER_TABLE_SIZE. Lowering it below the
    /// table's current maximum shrinks the table now: the peer must then send a size update.
    public mutating func setMaximumTableSizeLimit(_ limit: Int) {
        maximumTableSizeLimit = limit
        if table.maximumSize > limit { table.setMaximumSize(limit) }
    }

    /// A table entry and its size in wire octets (name + value + 32, RFC 7541 §4.1).
    private func entry(at index: Int) throws -> (HPACKHeader, size: Int) {
        let entry = try entryWithName(at: index)
        return (entry.header, entry.size)
    }

    private func entryWithName(at index: Int) throws -> (header: HPACKHeader, size: Int, nameOctets: Int) {
        if index >= 1 && index <= HPACKStaticTable.entries.count {
            let entry = HPACKStaticTable.entries[index - 1]
            let header = HPACKHeader(entry.name, entry.value)
            return (header, header.size, entry.name.utf8.count)
        }
        guard let entry = table.entry(index - HPACKStaticTable.entries.count) else { throw HPACKError.invalidIndex(index) }
        return (entry.header, entry.size, entry.nameOctets)
    }

    /// A literal field, its size in wire octets (name + value + 32) and its name's octets.
    private func literal(prefixBits: Int, indexing: HPACKIndexing, from buffer: inout ByteBuffer) throws -> (HPACKHeader, size: Int, nameOctets: Int) {
        let nameIndex = try HPACKInteger.decode(prefixBits: prefixBits, from: &buffer)
        let name: String
        let nameOctets: Int
        if nameIndex == 0 {
            (name, nameOctets) = try string(from: &buffer)
        } else {
            let entry = try entryWithName(at: nameIndex)
            (name, nameOctets) = (entry.header.name, entry.nameOctets)
        }
        let (value, valueOctets) = try string(from: &buffer)
        return (HPACKHeader(name, value, indexing: indexing), nameOctets + valueOctets + 32, nameOctets)
    }

    /// A string literal (RFC 7541 §5.2) and its length in octets, which the String's UTF-8
    /// count differs from when the octets are not valid UTF-8 (each invalid sequence becomes
    /// U+FFFD).
    private func string(from buffer: inout ByteBuffer) throws -> (String, octets: Int) {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { throw HPACKError.truncated }
        let length = try HPACKInteger.decode(prefixBits: 7, from: &buffer)
        guard length <= maximumStringLength else { throw HPACKError.stringTooLong(length: length, maximum: maximumStringLength) }
        guard let bytes = buffer.readSlice(length: length) else { throw HPACKError.truncated }
        guard first & 0x80 != 0 else {
            return (bytes.withUnsafeReadableBytes { String(decoding: $0, as: UTF8.self) }, length)
        }
        // Decoded into scratch space (on the stack when small), not a heap array: the
        // shortest code is 5 bits, so the output is at most length * 8 / 5 bytes.
        let limit = maximumStringLength
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length * 8 / 5 + 1) { scratch in
            let count = try bytes.withUnsafeReadableBytes { try HuffmanCoding.decode($0, writingTo: scratch.baseAddress!) }
            guard count <= limit else { throw HPACKError.stringTooLong(length: count, maximum: limit) }
            return (String(decoding: UnsafeBufferPointer(rebasing: scratch[..<count]), as: UTF8.self), count)
        }
    }
}
