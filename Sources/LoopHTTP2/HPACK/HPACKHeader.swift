/// One header field, with how it may be indexed by HPACK.
///
/// ```swift
/// let headers: [HPACKHeader] = [
///     HPACKHeader(":status", "200"),
///     HPACKHeader("authorization", "Bearer …", indexing: .neverIndexed),
/// ]
/// ```
public struct HPACKHeader: Sendable, Equatable, CustomStringConvertible {
    /// The lower-case field name.
    public var name: String
    /// The field value.
    public var value: String
    /// How the encoder may index this field; for decoded fields, how it was sent.
    public var indexing: HPACKIndexing

    public init(_ name: String, _ value: String, indexing: HPACKIndexing = .indexable) {
        self.name = name
        self.value = value
        self.indexing = indexing
    }

    /// The size the field counts for in a header table and in SETTINGS_MAX_HEADER_LIST_SIZE:
    /// name and value octets plus 32 (RFC 7541 §4.1).
    public var size: Int { name.utf8.count + value.utf8.count + 32 }

    public var description: String { "\(name): \(value)" }
}

/// How HPACK may remember a field.
public enum HPACKIndexing: Sendable, Equatable {
    /// The encoder may add it to the dynamic table.
    case indexable
    /// Sent literally, not added to the table (RFC 7541 §6.2.2).
    case nonIndexed
    /// Sent literally and never indexed by any intermediary either, for secrets
    /// (RFC 7541 §6.2.3, §7.1.3).
    case neverIndexed
}
