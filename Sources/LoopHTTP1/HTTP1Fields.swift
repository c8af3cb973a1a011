/// The header (or trailer) fields of an HTTP/1.1 message, in the order received. Names keep
/// their case; lookups ignore it (RFC 9110 §5.1).
///
/// ```swift
/// var fields = HTTP1Fields()
/// fields.add("Content-Type", "application/json")
/// fields["content-type"]   // "application/json"
/// ```
public struct HTTP1Fields: Sendable, Equatable, Sequence {
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var fields: [Field] = []
    /// Which of the names the HTTP/1.1 rules look up (``KnownName``) are present: a lookup of
    /// one that is absent, the usual case (Transfer-Encoding, Connection, Expect, ...), answers
    /// without comparing it with every field's name.
    private var known: UInt8 = 0

    public init() {}

    public init(_ fields: [(String, String)]) {
        for (name, value) in fields { add(name, value) }
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    public mutating func add(_ name: String, _ value: String) {
        known |= KnownName.bit(ofFieldName: name)
        fields.append(Field(name, value))
    }

    /// The first value of `name`, ignoring case.
    public subscript(_ name: String) -> String? {
        if mayContain(name) == false { return nil }
        return fields.first { Self.equalIgnoringCase($0.name, name) }?.value
    }

    /// Whether a field `name` is present, ignoring case.
    public func contains(_ name: String) -> Bool {
        if let known = mayContain(name) { return known }
        return fields.contains { Self.equalIgnoringCase($0.name, name) }
    }

    /// How many fields are named `name`, ignoring case.
    public func count(_ name: String) -> Int {
        if mayContain(name) == false { return 0 }
        var count = 0
        for field in fields where Self.equalIgnoringCase(field.name, name) { count += 1 }
        return count
    }

    /// For a known name (looked up in lower case, as this module does): whether a field of
    /// that name is present; nil for other names (then the fields are searched).
    private func mayContain(_ name: String) -> Bool? {
        let bit = KnownName.bit(ofLookup: name)
        return bit == 0 ? nil : known & bit != 0
    }

    /// The field names the message rules look up for every message (RFC 9112 §3.2, §6, §9.6;
    /// RFC 9110 §7.8, §10.1.1), one bit each.
    enum KnownName {
        /// The bit of a received field's name (any case); 0 for other names.
        static func bit(ofFieldName name: String) -> UInt8 {
            let candidate = bit(ofLength: name.utf8.count)
            guard candidate.bit != 0, HTTP1Fields.equalIgnoringCase(name, candidate.name) else { return 0 }
            return candidate.bit
        }

        /// The bit of a looked-up name if it is one of these, in lower case; 0 otherwise.
        static func bit(ofLookup name: String) -> UInt8 {
            let candidate = bit(ofLength: name.utf8.count)
            return candidate.bit != 0 && name == candidate.name ? candidate.bit : 0
        }

        private static func bit(ofLength length: Int) -> (name: String, bit: UInt8) {
            switch length {
            case 4: return ("host", 1)
            case 6: return ("expect", 2)
            case 7: return ("upgrade", 4)
            case 10: return ("connection", 8)
            case 14: return ("content-length", 16)
            case 17: return ("transfer-encoding", 32)
            case 2: return ("te", 64)
            default: return ("", 0)
            }
        }
    }

    /// Room for `capacity` fields without growing (a parser reserves a typical head's).
    public mutating func reserveCapacity(_ capacity: Int) {
        fields.reserveCapacity(capacity)
    }

    /// Every value of `name`, ignoring case, in order.
    public func values(_ name: String) -> [String] {
        if mayContain(name) == false { return [] }
        return fields.filter { Self.equalIgnoringCase($0.name, name) }.map(\.value)
    }

    /// Whether a comma-separated field `name` lists `token` (ignoring case), as Connection
    /// and Transfer-Encoding do (RFC 9110 §5.6.1).
    public func contains(_ name: String, token: String) -> Bool {
        guard contains(name) else { return false }
        return values(name).contains { value in
            value.split(separator: ",").contains { Self.equalIgnoringCase(String($0.trimmingSpaces), token) }
        }
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { Self.equalIgnoringCase($0.name, name) }
        known = fields.reduce(0) { $0 | KnownName.bit(ofFieldName: $1.name) }
    }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// ASCII case-insensitive equality, as field names and most tokens compare (RFC 9110 §5.1).
    public static func equalIgnoringCase(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        // Over the contiguous UTF-8 of native strings: no iterator per byte (this runs for
        // every field of every request).
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                for index in 0..<x.count {
                    let p = x[index], q = y[index]
                    if p == q { continue }
                    let folded = p | 0x20
                    guard folded == q | 0x20, folded >= UInt8(ascii: "a"), folded <= UInt8(ascii: "z") else { return false }
                }
                return true
            }
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (OWS, RFC 9110 §5.6.3).
    var trimmingSpaces: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
