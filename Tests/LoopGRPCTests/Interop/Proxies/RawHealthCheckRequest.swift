import Foundation

/// grpc.health.v1.Health/Check for the empty service name (the whole server) as the bytes a
/// client sends on a new h2c connection, for HAProxy's `tcp-check send-binary`: the
/// connection preface, an empty SETTINGS frame, HEADERS on stream 1 and DATA on stream 1
/// with END_STREAM holding the empty request message (its 5-byte prefix alone).
///
/// The header block is HPACK without Huffman coding or dynamic-table entries, so it is the
/// same on every connection: `:method POST` and `:scheme http` from the static table, then
/// literals without indexing for `:path`, `:authority`, `content-type: application/grpc`
/// and `te: trailers`.
enum RawHealthCheckRequest {
    static let path = "/grpc.health.v1.Health/Check"

    static var bytes: [UInt8] {
        let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        let settings = frame(type: 0x4, flags: 0, stream: 0, payload: [])
        var block: [UInt8] = [0x83, 0x86]  // :method POST (index 3), :scheme http (index 6)
        block += literal(nameIndex: 4, value: path)  // :path
        block += literal(nameIndex: 1, value: "localhost")  // :authority
        block += [0x0F, 0x10] + string("application/grpc")  // content-type (index 31 = 15 + 16)
        block += [0x00] + string("te") + string("trailers")  // new name
        let headers = frame(type: 0x1, flags: 0x4, stream: 1, payload: block)  // END_HEADERS
        let data = frame(type: 0x0, flags: 0x1, stream: 1, payload: [0, 0, 0, 0, 0])  // END_STREAM
        return preface + settings + headers + data
    }

    static var hex: String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// The response message for SERVING, prefix included: uncompressed, 2 bytes, field 1
    /// (status) = 1. NOT_SERVING would end in 02.
    static let servingResponseMessageHex = "00000000020801"

    /// A literal header field without indexing whose name is static-table entry
    /// `nameIndex` (< 15: it fits the 4-bit prefix).
    private static func literal(nameIndex: UInt8, value: String) -> [UInt8] {
        [nameIndex] + string(value)
    }

    /// An HPACK string literal without Huffman coding (length < 127: it fits the 7-bit prefix).
    private static func string(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8)
        precondition(utf8.count < 127)
        return [UInt8(utf8.count)] + utf8
    }

    private static func frame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        let length = payload.count
        return [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, flags,
                UInt8(stream >> 24 & 0xFF), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)]
            + payload
    }
}
