import Loop

/// A decoded HTTP/2 frame (RFC 9113 §6). Header blocks arrive already assembled from
/// HEADERS + CONTINUATION and decoded by HPACK; padding is removed; priority fields are
/// parsed and ignored (RFC 9113 §5.3.2).
public struct HTTP2Frame: Sendable, CustomStringConvertible {
    /// The stream, or 0 for connection-level frames.
    public var streamID: UInt32
    public var payload: Payload

    public init(streamID: UInt32, payload: Payload) {
        self.streamID = streamID
        self.payload = payload
    }

    public enum Payload: Sendable {
        /// DATA: the payload (a slice of the read buffer), END_STREAM, and the length that
        /// counts against flow control (payload plus padding, RFC 9113 §6.1).
        case data(ByteBuffer, endStream: Bool, flowControlledLength: Int)
        /// HEADERS (+ CONTINUATION), decoded.
        case headers([HPACKHeader], endStream: Bool)
        /// A header block that decoded but exceeds SETTINGS_MAX_HEADER_LIST_SIZE: the stream
        /// is refused; the connection goes on (RFC 9113 §6.5.2).
        case oversizedHeaders(endStream: Bool)
        case priority
        case rstStream(HTTP2ErrorCode)
        case settings([HTTP2Setting])
        case settingsAck
        case pushPromise(promisedStreamID: UInt32, headers: [HPACKHeader])
        case ping(UInt64, ack: Bool)
        case goAway(lastStreamID: UInt32, errorCode: HTTP2ErrorCode, debugData: ByteBuffer)
        case windowUpdate(increment: UInt32)
    }

    public var description: String {
        switch payload {
        case .data(let data, let endStream, let length):
            return "DATA stream=\(streamID) length=\(length)\(data.readableBytes != length ? " (\(data.readableBytes) + padding)" : "")\(endStream ? " END_STREAM" : "")"
        case .headers(let headers, let endStream):
            let fields = headers.map { "\n    \($0.name): \($0.value)" }.joined()
            return "HEADERS stream=\(streamID)\(endStream ? " END_STREAM" : "")\(fields)"
        case .oversizedHeaders(let endStream):
            return "HEADERS stream=\(streamID)\(endStream ? " END_STREAM" : "") (header list too large)"
        case .priority: return "PRIORITY stream=\(streamID)"
        case .rstStream(let code): return "RST_STREAM stream=\(streamID) error=\(code)"
        case .settings(let parameters): return "SETTINGS [\(parameters.map(\.description).joined(separator: ", "))]"
        case .settingsAck: return "SETTINGS ACK"
        case .pushPromise(let promised, _): return "PUSH_PROMISE stream=\(streamID) promised=\(promised)"
        case .ping(let data, let ack): return "PING\(ack ? " ACK" : "") opaque=0x\(String(data, radix: 16))"
        case .goAway(let last, let code, let debug):
            let text = debug.readableBytes > 0 ? " debug=\"\(String(decoding: debug.readableBytesView, as: UTF8.self))\"" : ""
            return "GOAWAY last_stream=\(last) error=\(code)\(text)"
        case .windowUpdate(let increment): return "WINDOW_UPDATE stream=\(streamID) increment=\(increment)"
        }
    }
}

/// Frame type codes (RFC 9113 §6).
enum HTTP2FrameType {
    static let data: UInt8 = 0x0
    static let headers: UInt8 = 0x1
    static let priority: UInt8 = 0x2
    static let rstStream: UInt8 = 0x3
    static let settings: UInt8 = 0x4
    static let pushPromise: UInt8 = 0x5
    static let ping: UInt8 = 0x6
    static let goAway: UInt8 = 0x7
    static let windowUpdate: UInt8 = 0x8
    static let continuation: UInt8 = 0x9
}

/// Frame flags (RFC 9113 §6).
enum HTTP2FrameFlags {
    static let endStream: UInt8 = 0x1
    static let ack: UInt8 = 0x1
    static let endHeaders: UInt8 = 0x4
    static let padded: UInt8 = 0x8
    static let priority: UInt8 = 0x20
}

/// The 24-octet client connection preface (RFC 9113 §3.4).
public let http2ClientPreface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
