import Loop

/// Encodes header lists into HPACK blocks (RFC 7541) for one direction of one connection.
///
/// Fields already in the static or dynamic table cost one byte; new fields are added to
/// the dynamic table so that a repeated gRPC or HTTP header costs a byte or two the next
/// time. Sensitive fields (`authorization`, `cookie`, ...) are sent never-indexed.
///
/// ```swift
/// var encoder = HPACKEncoder()
/// var block = ByteBuffer()
/// encoder.encode([HPACKHeader(":status", "200"), HPACKHeader("content-type", "application/grpc")], into: &block)
/// ```
public struct HPACKEncoder: Sendable {
    /// When string literals are Huffman-coded.
    public enum HuffmanPolicy: Sendable {
        case never
        case always
        /// When that makes the string shorter (the default).
        case whenShorter
    }

    private var table: HPACKDynamicTable
    /// Table size updates to announce at the start of the next block (RFC 7541 §4.2).
    private var pendingSizeUpdates: [Int] = []
    /// The Huffman policy.
    public var huffman: HuffmanPolicy
    /// Names always sent never-indexed (RFC 7541 §7.1.3).
    public var sensitiveNames: Set<String> {
        didSet { sensitiveList = Array(sensitiveNames); sensitiveLengths = Self.lengthMask(sensitiveNames) }
    }
    /// The same names as an array: a few short-string comparisons beat hashing every name,
    /// and a mask of their lengths skips the comparisons for most names.
    private var sensitiveList: [String]
    private var sensitiveLengths: UInt64

    private static func lengthMask(_ names: Set<String>) -> UInt64 {
        names.reduce(0) { $0 | (1 << UInt64(min($1.utf8.count, 63))) }
    }

    private func isSensitive(_ name: String) -> Bool {
        let length = name.utf8.count
        guard sensitiveLengths & (1 << UInt64(min(length, 63))) != 0 else { return false }
        return sensitiveList.contains(name)
    }

    /// Names sent never-indexed by default.
    public static let defaultSensitiveNames: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]

    public init(maximumTableSize: Int = 4096, huffman: HuffmanPolicy = .whenShorter,
                sensitiveNames: Set<String> = HPACKEncoder.defaultSensitiveNames) {
        self.table = HPACKDynamicTable(maximumSize: maximumTableSize)
        self.huffman = huffman
        self.sensitiveNames = sensitiveNames
        self.sensitiveList = Array(sensitiveNames)
        self.sensitiveLengths = Self.lengthMask(sensitiveNames)
    }

    /// Current size of the dynamic table.
    public var dynamicTableSize: Int { table.size }
    /// Current number of dynamic table entries.
    public var dynamicTableCount: Int { table.count }
    /// The dynamic table's current maximum size.
    public var currentMaximumTableSize: Int { table.maximumSize }

    /// Uses a new table size (after the peer's SETTINGS_HEADER_TABLE_SIZE changed); the
    /// update is announced at the start of the next block.
    public mutating func setMaximumTableSize(_ size: Int) {
        table.setMaximumSize(size)
        if let smallest = pendingSizeUpdates.first, smallest <= size {
            pendingSizeUpdates = [smallest, size]
        } else {
            pendingSizeUpdates = [size]
        }
    }

    /// Appends the block for `headers` to `buffer`.
    public mutating func encode(_ headers: [HPACKHeader], into buffer: inout ByteBuffer) {
        for size in pendingSizeUpdates {
            HPACKInteger.encode(size, prefixBits: 5, flags: 0x20, into: &buffer)
        }
        pendingSizeUpdates.removeAll()
        for header in headers { encode(header, into: &buffer) }
    }

    private mutating func encode(_ header: HPACKHeader, into buffer: inout ByteBuffer) {
        let indexing = isSensitive(header.name) ? .neverIndexed : header.indexing
        let named = HPACKStaticTable.entries(named: header.name)
        var nameIndex = named?.first
        if indexing != .neverIndexed, let named {
            for index in named.first..<(named.first + named.count) where HPACKStaticTable.entries[index - 1].value == header.value {
                HPACKInteger.encode(index, prefixBits: 7, flags: 0x80, into: &buffer)
                return
            }
        }
        let dynamic = table.find(name: header.name, value: header.value)
        if indexing != .neverIndexed, let exact = dynamic.exact {
            HPACKInteger.encode(HPACKStaticTable.entries.count + exact, prefixBits: 7, flags: 0x80, into: &buffer)
            return
        }
        if nameIndex == nil, let dynamicName = dynamic.name { nameIndex = HPACKStaticTable.entries.count + dynamicName }

        // Index what fits comfortably; a huge field would only flush the table.
        let indexes = indexing == .indexable && header.size <= table.maximumSize * 3 / 4
        switch (indexes, indexing) {
        case (true, _): HPACKInteger.encode(nameIndex ?? 0, prefixBits: 6, flags: 0x40, into: &buffer)
        case (false, .neverIndexed): HPACKInteger.encode(nameIndex ?? 0, prefixBits: 4, flags: 0x10, into: &buffer)
        default: HPACKInteger.encode(nameIndex ?? 0, prefixBits: 4, flags: 0x00, into: &buffer)
        }
        if nameIndex == nil { writeString(header.name, into: &buffer) }
        writeString(header.value, into: &buffer)
        if indexes { table.insert(header) }
    }

    private func writeString(_ string: String, into buffer: inout ByteBuffer) {
        let bytes = string.utf8
        let useHuffman: Bool
        switch huffman {
        case .never: useHuffman = false
        case .always: useHuffman = true
        case .whenShorter: useHuffman = HuffmanCoding.encodedLength(of: bytes) < bytes.count
        }
        if useHuffman {
            HPACKInteger.encode(HuffmanCoding.encodedLength(of: bytes), prefixBits: 7, flags: 0x80, into: &buffer)
            HuffmanCoding.encode(bytes, into: &buffer)
        } else {
            HPACKInteger.encode(bytes.count, prefixBits: 7, flags: 0x00, into: &buffer)
            buffer.writeString(string)
        }
    }
}
