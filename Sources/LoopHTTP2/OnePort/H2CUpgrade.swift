import Loop
import LoopHTTP1

/// The h2c upgrade (RFC 7540 §3.2, kept by RFC 9113 §3.1 for servers that still offer it): an
/// HTTP/1.1 request with `Upgrade: h2c`, `Connection: Upgrade, HTTP2-Settings` and one
/// `HTTP2-Settings` field (the client's SETTINGS payload, base64url) is answered with 101, and
/// the connection speaks HTTP/2 from the next byte on, the request being stream 1. I/O-free.
enum H2CUpgrade {
    /// The 101 response.
    static let switchingProtocols = "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n"

    /// The client's SETTINGS payload if `head` asks for h2c and may have it: the first request
    /// of a connection, without a body, `Connection` naming both tokens, exactly one valid
    /// `HTTP2-Settings`. Nil: serve the request over HTTP/1.1 (a server may ignore Upgrade,
    /// RFC 9110 §7.8).
    static func settingsPayload(of head: HTTP1RequestHead) -> ByteBuffer? {
        guard head.version == .http1_1, head.upgradeProtocols.contains(where: { HTTP1Fields.equalIgnoringCase($0, "h2c") }),
              head.fields.contains("connection", token: "http2-settings") else { return nil }
        switch head.framing {
        case .none, .length(0): break
        default: return nil
        }
        let values = head.fields.values("http2-settings")
        guard values.count == 1, let payload = decodeBase64URL(values[0]), payload.readableBytes % 6 == 0 else { return nil }
        return payload
    }

    /// base64url without padding (RFC 4648 §5), as `token68` carries it; nil if malformed.
    static func decodeBase64URL(_ text: String) -> ByteBuffer? {
        var out = ByteBuffer(capacity: text.utf8.count * 3 / 4 + 3)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text.utf8 {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"), UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "_"), UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="): continue
            default: return nil
            }
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.writeInteger(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}
