import LoopHTTP2

/// Custom metadata of a call: ordered key/value pairs sent as HTTP/2 headers. Keys are
/// lower-case; a key ending in `-bin` carries binary values, base64-encoded on the wire.
/// Keys gRPC reserves for itself (`grpc-*`, `content-type`, `te`, pseudo-headers, ...)
/// are refused when sent and not shown when received.
///
/// ```swift
/// var metadata = GRPCMetadata()
/// metadata.add("x-request-id", "42")
/// metadata.add(binary: "trace-bin", [0x0a, 0x0b])
/// let id = metadata["x-request-id"]
/// ```
public struct GRPCMetadata: Sendable, Equatable, Sequence {
    /// A metadata value: text, or bytes for a `-bin` key.
    public enum Value: Sendable, Equatable, CustomStringConvertible {
        case string(String)
        case binary([UInt8])

        public var description: String {
            switch self {
            case .string(let text): return text
            case .binary(let bytes): return Base64.encode(bytes)
            }
        }
    }

    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: Value
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    public init(_ elements: KeyValuePairs<String, String>) {
        for (key, value) in elements { add(key, value) }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }

    /// Adds a text value. The key is lower-cased.
    public mutating func add(_ key: String, _ value: String) {
        let key = Self.normalized(key)
        if key.hasSuffix("-bin") {
            entries.append(Entry(key: key, value: .binary(Array(value.utf8))))
        } else {
            entries.append(Entry(key: key, value: .string(value)))
        }
    }

    /// Adds a binary value; `key` must end in `-bin`.
    public mutating func add(binary key: String, _ bytes: [UInt8]) {
        precondition(key.hasSuffix("-bin"), "binary metadata keys end in -bin")
        entries.append(Entry(key: Self.normalized(key), value: .binary(bytes)))
    }

    /// Replaces every value of `key` with one.
    public mutating func replace(_ key: String, _ value: String) {
        removeAll(key)
        add(key, value)
    }

    public mutating func removeAll(_ key: String) {
        let key = Self.normalized(key)
        entries.removeAll { $0.key == key }
    }

    public mutating func merge(_ other: GRPCMetadata) {
        guard !other.isEmpty else { return }
        if entries.isEmpty {
            entries = other.entries
            return
        }
        entries.append(contentsOf: other.entries)
    }

    /// The first text value of `key` (for a `-bin` key, its bytes as UTF-8).
    public subscript(key: String) -> String? {
        guard let value = first(key) else { return nil }
        switch value {
        case .string(let text): return text
        case .binary(let bytes): return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The first value of `key`.
    public func first(_ key: String) -> Value? {
        let key = Self.normalized(key)
        return entries.first { $0.key == key }?.value
    }

    /// Every value of `key`, in order.
    public func values(_ key: String) -> [Value] {
        let key = Self.normalized(key)
        return entries.filter { $0.key == key }.map(\.value)
    }

    /// The first binary value of a `-bin` key.
    public func binary(_ key: String) -> [UInt8]? {
        guard case .binary(let bytes)? = first(key) else { return nil }
        return bytes
    }

    /// `key` in lower case; the same string (no copy) when it already is.
    static func normalized(_ key: String) -> String {
        for byte in key.utf8 where byte >= 0x41 && byte <= 0x5A { return key.lowercased() }
        return key
    }

    // MARK: Wire form

    /// Whether gRPC keeps `name` for itself (never user metadata).
    public static func isReserved(_ name: String) -> Bool {
        // grpc-status-details-bin (google.rpc.Status) belongs to the application: it passes
        // through as metadata.
        if name.hasPrefix("grpc-") { return name != "grpc-status-details-bin" }
        if name.hasPrefix(":") { return true }
        switch name {
        case "content-type", "te", "user-agent", "content-length", "connection", "host",
             "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
            return true
        default:
            return false
        }
    }

    /// Checks that every key may be sent: valid characters and not reserved.
    public func validateForSending() throws(GRPCStatus) {
        for entry in entries {
            guard !entry.key.isEmpty, entry.key.utf8.allSatisfy(Self.isKeyByte) else {
                throw GRPCStatus(.internal, "invalid metadata key \"\(entry.key)\": keys are lower-case letters, digits, '-', '_' and '.'")
            }
            guard !Self.isReserved(entry.key) else {
                throw GRPCStatus(.internal, "metadata key \"\(entry.key)\" is reserved by gRPC")
            }
            if case .string(let text) = entry.value, !text.utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) {
                throw GRPCStatus(.internal, "metadata value of \"\(entry.key)\" must be printable ASCII; use a -bin key for bytes")
            }
        }
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F || byte == 0x2E
    }

    /// Appends the entries as header fields.
    public func appendHeaders(to headers: inout [HPACKHeader]) {
        for entry in entries {
            switch entry.value {
            case .string(let text): headers.append(HPACKHeader(entry.key, text))
            case .binary(let bytes): headers.append(HPACKHeader(entry.key, Base64.encode(bytes)))
            }
        }
    }

    /// The user metadata among received header fields: reserved names skipped, `-bin`
    /// values decoded (padded or not). A `-bin` value that is not base64 is kept as its
    /// raw bytes rather than failing the call.
    public init(headers: [HPACKHeader]) {
        for header in headers where !Self.isReserved(header.name) {
            if header.name.hasSuffix("-bin") {
                // A comma-separated list of values is allowed for -bin keys.
                for part in header.value.utf8.split(separator: 0x2C, omittingEmptySubsequences: false) {
                    let trimmed = part.drop { $0 == 0x20 }
                    let bytes = Base64.decode(Array(trimmed)) ?? Array(trimmed)
                    entries.append(Entry(key: header.name, value: .binary(bytes)))
                }
            } else {
                entries.append(Entry(key: header.name, value: .string(header.value)))
            }
        }
    }
}
