import Glibc
/// A google.api.http path template, parsed once and matched against request paths.
///
/// The grammar (google/api/http.proto):
///
/// ```
/// Template = "/" Segments [ Verb ] ;
/// Segments = Segment { "/" Segment } ;
/// Segment  = "*" | "**" | LITERAL | Variable ;
/// Variable = "{" FieldPath [ "=" Segments ] "}" ;
/// FieldPath = IDENT { "." IDENT } ;
/// Verb     = ":" LITERAL ;
/// ```
///
/// `*` matches one segment, `**` zero or more (only as the last segment), a variable
/// captures what its segments match (`{name}` is `{name=*}`), and the verb must end the
/// path's last segment after a colon. Matching walks the path once per template, left to
/// right, with no backtracking (`**` is always last) and no allocation unless it records
/// captures. Captured values stay raw (percent-encoded) until ``GatewayPathCaptures``
/// decodes them by the spec's rule for their variable.
///
/// ```swift
/// let template = try GatewayPathTemplate("/v1/{name=shelves/*}/books/{book}:publish")
/// let captures = template.match("/v1/shelves/7/books/a%20b:publish")
/// // captures?.values == [("name", "shelves/7"), ("book", "a b")]
/// ```
public final class GatewayPathTemplate: Sendable, CustomStringConvertible {
    /// One segment of the template, variables' segments included.
    public enum Segment: Sendable, Equatable {
        /// Matches exactly this text (stored percent-decoded).
        case literal(String)
        /// `*`: any one segment.
        case wildcard
        /// `**`: zero or more segments, always the template's last.
        case deepWildcard
    }

    /// A `{field.path=segments}` variable: which of ``GatewayPathTemplate/segments`` it covers.
    public struct Variable: Sendable, Equatable {
        /// The field path's identifiers, `["options", "name"]` for `{options.name}`.
        public let fieldPath: [String]
        /// The indices in ``GatewayPathTemplate/segments`` the variable captures.
        public let segments: Range<Int>

        /// A variable of more than one segment, or with `**`, keeps `%2F` encoded when its
        /// value is decoded (google.api.http: "except %2F and %2f are left unchanged").
        public let isMultiSegment: Bool

        /// The field path as written, `options.name`.
        public var dottedPath: String { fieldPath.joined(separator: ".") }
    }

    /// A template that does not follow the grammar, with the UTF-8 offset where parsing
    /// stopped.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let template: String
        /// Offset (in UTF-8 bytes, from 0) of the character that broke the rule.
        public let offset: Int
        public let reason: String

        public var description: String {
            "invalid path template \"\(template)\" at offset \(offset): \(reason)"
        }
    }

    /// The template's text, as given.
    public let text: String
    public let segments: [Segment]
    public let variables: [Variable]
    /// The custom verb after the last segment's colon, without the colon.
    public let verb: String?

    /// The variable each segment index starts and ends, so matching records captures
    /// without searching.
    private let variableStartingAt: [Int?]
    private let variableEndingAt: [Int?]
    private let literalBytes: [[UInt8]?]
    private let verbBytes: [UInt8]?

    /// Parses `text`; throws ``ParseError`` naming the offset and the rule broken.
    public init(_ text: String) throws(ParseError) {
        var parser = GatewayPathTemplateParser(text)
        let parsed = try parser.parseTemplate()
        self.text = text
        self.segments = parsed.segments
        self.variables = parsed.variables
        self.verb = parsed.verb
        var starting = [Int?](repeating: nil, count: parsed.segments.count)
        var ending = [Int?](repeating: nil, count: parsed.segments.count)
        for (index, variable) in parsed.variables.enumerated() {
            starting[variable.segments.lowerBound] = index
            ending[variable.segments.upperBound - 1] = index
        }
        self.variableStartingAt = starting
        self.variableEndingAt = ending
        self.literalBytes = parsed.segments.map { segment in
            if case .literal(let literal) = segment { return Array(literal.utf8) }
            return nil
        }
        self.verbBytes = parsed.verb.map { Array($0.utf8) }
    }

    public var description: String { text }

    /// The captures if `path` (the request target's path, without the query, still
    /// percent-encoded) matches, nil otherwise.
    public func match(_ path: String) -> GatewayPathCaptures? {
        match(path[...])
    }

    /// The captures if `path` matches, nil otherwise.
    public func match(_ path: Substring) -> GatewayPathCaptures? {
        var none: [Substring]?
        guard walk(path, recording: &none) else { return nil }
        guard !variables.isEmpty else { return GatewayPathCaptures(variables: [], values: []) }
        var values: [Substring]? = []
        values!.reserveCapacity(variables.count)
        _ = walk(path, recording: &values)
        return GatewayPathCaptures(variables: variables, values: values!)
    }

    /// Whether `path` matches, without recording anything.
    public func matches(_ path: Substring) -> Bool {
        var none: [Substring]?
        return walk(path, recording: &none)
    }

    /// Walks the path's segments against the template's, once. `recording` (when not nil)
    /// receives each variable's raw text in order.
    private func walk(_ path: Substring, recording captures: inout [Substring]?) -> Bool {
        // Over the path's contiguous UTF-8 by offset: String.Index arithmetic per byte costs
        // several times the comparison itself, and this runs for every route tried.
        if let matched = path.utf8.withContiguousStorageIfAvailable({ bytes in walk(bytes, path, recording: &captures) }) {
            return matched
        }
        return Array(path.utf8).withUnsafeBufferPointer { walk($0, path, recording: &captures) }
    }

    private func walk(_ bytes: UnsafeBufferPointer<UInt8>, _ path: Substring, recording captures: inout [Substring]?) -> Bool {
        guard let first = bytes.first, first == UInt8(ascii: "/") else { return false }
        var end = bytes.count
        if let verbBytes {
            // The verb ends the last segment: ":verb" with no "/" after the colon.
            guard end > verbBytes.count + 1 else { return false }
            let colon = end - verbBytes.count - 1
            guard bytes[colon] == UInt8(ascii: ":"), UnsafeBufferPointer(rebasing: bytes[(colon + 1)..<end]).elementsEqual(verbBytes) else {
                return false
            }
            end = colon
        }
        var cursor = 1
        var hasSegment = true
        var variableStart = cursor
        for index in segments.indices {
            if variableStartingAt[index] != nil { variableStart = cursor }
            let segmentEnd: Int
            if case .deepWildcard = segments[index] {
                segmentEnd = end
                cursor = end
                hasSegment = false
            } else {
                guard hasSegment else { return false }
                var slash = cursor
                while slash < end, bytes[slash] != UInt8(ascii: "/") { slash += 1 }
                segmentEnd = slash
                if let literal = literalBytes[index], !Self.segment(UnsafeBufferPointer(rebasing: bytes[cursor..<segmentEnd]), equals: literal) {
                    return false
                }
                if segmentEnd < end {
                    cursor = segmentEnd + 1
                } else {
                    cursor = end
                    hasSegment = false
                }
            }
            if variableEndingAt[index] != nil, captures != nil {
                let utf8 = path.utf8
                let lower = utf8.index(utf8.startIndex, offsetBy: variableStart)
                let upper = utf8.index(lower, offsetBy: segmentEnd - variableStart)
                captures!.append(path[lower..<upper])
            }
        }
        return !hasSegment
    }

    /// A raw path segment against a literal: byte for byte, or after percent-decoding when the
    /// segment has escapes (`gr%65etings` is `greetings`).
    private static func segment(_ raw: UnsafeBufferPointer<UInt8>, equals literal: [UInt8]) -> Bool {
        if raw.count == literal.count, literal.withUnsafeBufferPointer({ memcmp(raw.baseAddress!, $0.baseAddress!, raw.count) == 0 }) {
            return true
        }
        guard raw.contains(UInt8(ascii: "%")), let decoded = GatewayPercentDecoding.decode(raw, keepEncodedSlash: false) else {
            return false
        }
        return decoded == literal
    }
}

extension GatewayPathTemplate {
    /// Orders overlapping templates: whether `self` is tried before `other` for the same
    /// method. Segment by segment, a literal comes before `*`, and `*` before `**`; at the
    /// end of the shorter template the shorter one comes first (the longer one's remaining
    /// segments can only be an empty `**`); a template with a verb comes before the same
    /// shape without one.
    func precedes(_ other: GatewayPathTemplate) -> Bool {
        for (mine, theirs) in zip(segments, other.segments) {
            let (a, b) = (mine.rank, theirs.rank)
            if a != b { return a < b }
        }
        if segments.count != other.segments.count { return segments.count < other.segments.count }
        return verb != nil && other.verb == nil
    }

    /// Whether both templates match exactly the same paths (variables' names aside), so a
    /// route with the second could never be chosen.
    func hasSameShape(as other: GatewayPathTemplate) -> Bool {
        segments == other.segments && verb == other.verb
    }
}

extension GatewayPathTemplate.Segment {
    /// Literal 0, `*` 1, `**` 2: lower is more specific.
    var rank: Int {
        switch self {
        case .literal: return 0
        case .wildcard: return 1
        case .deepWildcard: return 2
        }
    }
}
