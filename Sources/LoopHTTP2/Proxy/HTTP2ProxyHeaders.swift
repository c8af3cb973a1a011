/// The header rules of a forwarding proxy, and the answers it makes up itself when no
/// upstream can answer. I/O-free.
///
/// RFC 9113 §8.2.2: connection-specific fields (`connection`, `keep-alive`,
/// `proxy-connection`, `transfer-encoding`, `upgrade`) make an HTTP/2 message malformed and
/// `te` may only be `trailers`. The connection's header validation already rejects such a message on
/// receipt, so a proxy normally forwards header lists as they are; ``forwardable(_:)`` is the
/// second line, and returns the list itself (no copy) when it holds no such field.
///
/// ```swift
/// let clean = HTTP2ProxyHeaders.forwardable([HPACKHeader(":status", "200"), HPACKHeader("connection", "close")])
/// // [":status: 200"]
/// let answer = HTTP2ProxyHeaders.grpcUnavailable(message: "upstream 127.0.0.1:50051: connection refused")
/// // :status 200, content-type application/grpc, grpc-status 14, grpc-message (percent-encoded)
/// ```
public enum HTTP2ProxyHeaders {
    /// Whether a field must not cross the proxy: connection-specific, or `te` other than
    /// `trailers` (RFC 9113 §8.2.2).
    public static func isHopByHop(_ header: HPACKHeader) -> Bool {
        let name = header.name
        switch name.utf8.count {
        case 2: return name == "te" && header.value != "trailers"
        case 7: return name == "upgrade"
        case 10: return name == "connection" || name == "keep-alive"
        case 16: return name == "proxy-connection"
        case 17: return name == "transfer-encoding"
        default: return false
        }
    }

    /// `headers` without hop-by-hop fields: the same array when it has none (the usual case,
    /// a scan and no allocation).
    public static func forwardable(_ headers: [HPACKHeader]) -> [HPACKHeader] {
        guard headers.contains(where: isHopByHop) else { return headers }
        return headers.filter { !isHopByHop($0) }
    }

    /// Whether a request head is a gRPC call: content-type `application/grpc` or
    /// `application/grpc+…` / `application/grpc;…`.
    public static func isGRPC(_ headers: [HPACKHeader]) -> Bool {
        for header in headers where header.name.utf8.count == 12 && header.name == "content-type" {
            let value = header.value.utf8
            let prefix = "application/grpc".utf8
            guard value.starts(with: prefix) else { return false }
            let rest = value.dropFirst(prefix.count)
            return rest.isEmpty || rest.first == UInt8(ascii: "+") || rest.first == UInt8(ascii: ";")
        }
        return false
    }

    /// Whether a response head is informational (1xx): more headers follow before the final one.
    static func isInformational(_ headers: [HPACKHeader]) -> Bool {
        guard let status = headers.first(where: { $0.name == ":status" }) else { return false }
        return status.value.utf8.first == UInt8(ascii: "1")
    }

    /// A gRPC Trailers-Only response with status 14 (UNAVAILABLE): `:status 200`,
    /// `content-type: application/grpc`, `grpc-status: 14` and `message` as `grpc-message`.
    public static func grpcUnavailable(message: String) -> [HPACKHeader] {
        [HPACKHeader(":status", "200"), HPACKHeader("content-type", "application/grpc")] + grpcUnavailableTrailers(message: message)
    }

    /// Trailers ending a gRPC response whose head already went out with status 14 (UNAVAILABLE).
    public static func grpcUnavailableTrailers(message: String) -> [HPACKHeader] {
        [HPACKHeader("grpc-status", "14"), HPACKHeader("grpc-message", percentEncoded(message), indexing: .nonIndexed)]
    }

    /// The head of the `502 Bad Gateway` a proxy answers non-gRPC requests with.
    public static func badGateway(bodyLength: Int) -> [HPACKHeader] {
        [HPACKHeader(":status", "502"), HPACKHeader("content-type", "text/plain; charset=utf-8"),
         HPACKHeader("content-length", String(bodyLength))]
    }

    /// `grpc-message` encoding (gRPC's PROTOCOL-HTTP2): bytes outside printable ASCII
    /// (0x20…0x7E) and `%` become `%XX` over the UTF-8 bytes.
    public static func percentEncoded(_ text: String) -> String {
        let needs = text.utf8.contains { $0 < 0x20 || $0 > 0x7E || $0 == UInt8(ascii: "%") }
        guard needs else { return text }
        let digits = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            if byte < 0x20 || byte > 0x7E || byte == UInt8(ascii: "%") {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0xF)])
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
