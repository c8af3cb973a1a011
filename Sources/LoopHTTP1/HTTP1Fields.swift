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

    public init() {}

    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { Field($0.0, $0.1) }
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    public mutating func add(_ name: String, _ value: String) {
        fields.append(Field(name, value))
    }

    /// The first value of `name`, ignoring case.
    public subscript(_ name: String) -> String? {
        fields.first { Self.equalIgnoringCase($0.name, name) }?.value
    }

    /// Whether a field `name` is present, ignoring case.
    public func contains(_ name: String) -> Bool {
        fields.contains { Self.equalIgnoringCase($0.name, name) }
    }

    /// How many fields are named `name`, ignoring case.
    public func count(_ name: String) -> Int {
        var count = 0
        for field in fields where Self.equalIgnoringCase(field.name, name) { count += 1 }
        return count
    }

    /// Room for `capacity` fields without growing (a parser reserves a typical head's).
    public mutating func reserveCapacity(_ capacity: Int) {
        fields.reserveCapacity(capacity)
    }

    /// Every value of `name`, ignoring case, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { Self.equalIgnoringCase($0.name, name) }.map(\.value)
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
