/// The recursive-descent parser behind ``GatewayPathTemplate``: one pass over the
/// template's UTF-8 bytes, one function per grammar rule, and errors that name the offset.
struct GatewayPathTemplateParser {
    struct Parsed {
        var segments: [GatewayPathTemplate.Segment] = []
        var variables: [GatewayPathTemplate.Variable] = []
        var verb: String?
    }

    private let text: String
    private let bytes: [UInt8]
    private var offset = 0
    private var parsed = Parsed()
    /// Where each `**` was, to point at the first one that is not last.
    private var deepWildcardOffsets: [(segment: Int, offset: Int)] = []
    /// Where each variable's "{" was, to point at a field captured twice.
    private var variableOffsets: [Int] = []

    init(_ text: String) {
        self.text = text
        self.bytes = Array(text.utf8)
    }

    /// Template = "/" Segments [ Verb ]
    mutating func parseTemplate() throws(GatewayPathTemplate.ParseError) -> Parsed {
        guard peek == UInt8(ascii: "/") else { throw error("a template starts with \"/\"") }
        offset += 1
        try parseSegments(inVariable: false)
        if peek == UInt8(ascii: ":") {
            offset += 1
            parsed.verb = try parseLiteral(what: "a verb after \":\"")
        }
        if let byte = peek {
            throw error("unexpected \"\(Character(Unicode.Scalar(byte)))\"")
        }
        for (segment, at) in deepWildcardOffsets where segment != parsed.segments.count - 1 {
            offset = at
            throw error("\"**\" must be the last segment")
        }
        var seen: Set<String> = []
        for (variable, at) in zip(parsed.variables, variableOffsets) where !seen.insert(variable.dottedPath).inserted {
            offset = at
            throw error("the field \(variable.dottedPath) is captured twice")
        }
        return parsed
    }

    /// Segments = Segment { "/" Segment }
    private mutating func parseSegments(inVariable: Bool) throws(GatewayPathTemplate.ParseError) {
        try parseSegment(inVariable: inVariable)
        while peek == UInt8(ascii: "/") {
            offset += 1
            try parseSegment(inVariable: inVariable)
        }
    }

    /// Segment = "*" | "**" | LITERAL | Variable
    private mutating func parseSegment(inVariable: Bool) throws(GatewayPathTemplate.ParseError) {
        switch peek {
        case UInt8(ascii: "*"):
            if peek(at: 1) == UInt8(ascii: "*") {
                deepWildcardOffsets.append((parsed.segments.count, offset))
                offset += 2
                parsed.segments.append(.deepWildcard)
            } else {
                offset += 1
                parsed.segments.append(.wildcard)
            }
        case UInt8(ascii: "{"):
            guard !inVariable else { throw error("a variable cannot contain another variable") }
            try parseVariable()
        default:
            parsed.segments.append(.literal(try parseLiteral(what: "a segment")))
        }
    }

    /// Variable = "{" FieldPath [ "=" Segments ] "}"
    private mutating func parseVariable() throws(GatewayPathTemplate.ParseError) {
        variableOffsets.append(offset)
        offset += 1
        let fieldPath = try parseFieldPath()
        let first = parsed.segments.count
        if peek == UInt8(ascii: "=") {
            offset += 1
            try parseSegments(inVariable: true)
        } else {
            parsed.segments.append(.wildcard)
        }
        guard peek == UInt8(ascii: "}") else { throw error("expected \"}\" to end the variable \(fieldPath.joined(separator: "."))") }
        offset += 1
        let range = first..<parsed.segments.count
        let multi = range.count > 1 || parsed.segments[range].contains(.deepWildcard)
        parsed.variables.append(GatewayPathTemplate.Variable(fieldPath: fieldPath, segments: range, isMultiSegment: multi))
    }

    /// FieldPath = IDENT { "." IDENT }, IDENT = [A-Za-z_][A-Za-z0-9_]*
    private mutating func parseFieldPath() throws(GatewayPathTemplate.ParseError) -> [String] {
        var path: [String] = []
        repeat {
            if !path.isEmpty { offset += 1 }
            let start = offset
            guard let first = peek, Self.isIdentifierStart(first) else {
                throw error("expected a field name (a letter or \"_\" first)")
            }
            offset += 1
            while let byte = peek, Self.isIdentifierStart(byte) || Self.isDigit(byte) { offset += 1 }
            path.append(String(decoding: bytes[start..<offset], as: UTF8.self))
        } while peek == UInt8(ascii: ".")
        return path
    }

    /// LITERAL: one or more path characters (RFC 3986 pchar, without ":", which starts the
    /// verb, and "*" and "=", which the grammar uses), percent escapes allowed and decoded.
    private mutating func parseLiteral(what: String) throws(GatewayPathTemplate.ParseError) -> String {
        let start = offset
        while let byte = peek {
            if byte == UInt8(ascii: "%") {
                guard peek(at: 1).flatMap(GatewayPercentDecoding.hexValue) != nil,
                      peek(at: 2).flatMap(GatewayPercentDecoding.hexValue) != nil else {
                    throw error("\"%\" must be followed by two hexadecimal digits")
                }
                offset += 3
            } else if Self.isLiteralByte(byte) {
                offset += 1
            } else {
                break
            }
        }
        guard offset > start else {
            if let byte = peek { throw error("expected \(what), found \"\(Character(Unicode.Scalar(byte)))\"") }
            throw error("expected \(what) at the end")
        }
        let raw = bytes[start..<offset]
        guard let decoded = GatewayPercentDecoding.decode(raw, keepEncodedSlash: false),
              let literal = String(validating: decoded, as: UTF8.self) else {
            offset = start
            throw error("the literal is not valid UTF-8 once decoded")
        }
        return literal
    }

    private var peek: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    private func peek(at distance: Int) -> UInt8? {
        offset + distance < bytes.count ? bytes[offset + distance] : nil
    }

    private func error(_ reason: String) -> GatewayPathTemplate.ParseError {
        GatewayPathTemplate.ParseError(template: text, offset: offset, reason: reason)
    }

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "_")
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// unreserved / sub-delims / "@" of RFC 3986, minus "*" and "=".
    private static func isLiteralByte(_ byte: UInt8) -> Bool {
        if isIdentifierStart(byte) || isDigit(byte) { return true }
        switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "~"),
             UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
             UInt8(ascii: ")"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "@"):
            return true
        default:
            return false
        }
    }
}
