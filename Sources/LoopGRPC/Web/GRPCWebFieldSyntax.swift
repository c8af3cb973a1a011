/// The pieces of HTTP field syntax (RFC 9110 §5.6) that the gRPC-Web types parse: media
/// types, trailer lines and CORS header lists.
enum GRPCWebFieldSyntax {
    /// tchar (RFC 9110 §5.6.2): the bytes of a token, such as a field name or a codec.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// `text` without leading and trailing spaces and tabs (OWS, RFC 9110 §5.6.3).
    static func trimmed(_ text: Substring) -> Substring {
        var result = text
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
