import Loop

/// Tells a new connection's protocol from its first bytes, I/O-free: the HTTP/2 client
/// preface (prior knowledge, RFC 9113 §3.4), an HTTP/1.x request line (RFC 9112 §3), or a TLS
/// ClientHello (a handshake record, RFC 8446 §5.1). Decides on as few bytes as it can: one for
/// TLS and HTTP/1.x (the preface's own first bytes excepted), the 24 of the preface for
/// HTTP/2, so it never reads more than 24 bytes before deciding.
///
/// ```
///  first byte 0x16 ───────────────────────────────────────▶ tls
///  a prefix of "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" ──24 bytes──▶ http2
///                                           └─differs──────▶ http1 (a request line "PRI …")
///  an upper-case letter (a method's first character) ─────▶ http1
///  anything else ─────────────────────────────────────────▶ unknown
/// ```
///
/// ```swift
/// switch HTTPProtocolDetector.detect(buffer) {
/// case .http2: …   // install the HTTP/2 handler; its SETTINGS leave now
/// case .needMoreBytes: break
/// default: …
/// }
/// ```
public enum HTTPProtocolDetector {
    public enum Verdict: Sendable, Equatable {
        /// The HTTP/2 client preface, complete.
        case http2
        /// An HTTP/1.x request line starts here.
        case http1
        /// A TLS record (a ClientHello) starts here.
        case tls
        /// Not HTTP: nothing this server speaks.
        case unknown
        /// So far a prefix of the HTTP/2 preface: more bytes are needed.
        case needMoreBytes
    }

    /// The bytes the longest decision needs.
    public static let maxBytesNeeded = http2ClientPreface.count

    /// Decides from the readable bytes of `buffer` (not consumed).
    public static func detect(_ buffer: ByteBuffer) -> Verdict {
        buffer.withUnsafeReadableBytes { bytes in
            guard let first = bytes.first else { return .needMoreBytes }
            if first == 0x16 { return .tls }
            if first == UInt8(ascii: "P") {
                let preface = http2ClientPreface
                let compared = min(bytes.count, preface.count)
                for index in 0..<compared where bytes[index] != preface[index] {
                    return .http1
                }
                return compared == preface.count ? .http2 : .needMoreBytes
            }
            // RFC 9110 §9.1: methods are tokens, and every registered one is upper-case.
            if first >= UInt8(ascii: "A") && first <= UInt8(ascii: "Z") { return .http1 }
            return .unknown
        }
    }
}
