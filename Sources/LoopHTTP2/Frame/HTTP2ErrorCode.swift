/// HTTP/2 error codes (RFC 9113 §7), carried by RST_STREAM and GOAWAY.
public struct HTTP2ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let noError = HTTP2ErrorCode(rawValue: 0x0)
    public static let protocolError = HTTP2ErrorCode(rawValue: 0x1)
    public static let internalError = HTTP2ErrorCode(rawValue: 0x2)
    public static let flowControlError = HTTP2ErrorCode(rawValue: 0x3)
    public static let settingsTimeout = HTTP2ErrorCode(rawValue: 0x4)
    public static let streamClosed = HTTP2ErrorCode(rawValue: 0x5)
    public static let frameSizeError = HTTP2ErrorCode(rawValue: 0x6)
    public static let refusedStream = HTTP2ErrorCode(rawValue: 0x7)
    public static let cancel = HTTP2ErrorCode(rawValue: 0x8)
    public static let compressionError = HTTP2ErrorCode(rawValue: 0x9)
    public static let connectError = HTTP2ErrorCode(rawValue: 0xa)
    public static let enhanceYourCalm = HTTP2ErrorCode(rawValue: 0xb)
    public static let inadequateSecurity = HTTP2ErrorCode(rawValue: 0xc)
    public static let http11Required = HTTP2ErrorCode(rawValue: 0xd)

    public var description: String {
        let names = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
                     "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
                     "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]
        return rawValue < names.count ? names[Int(rawValue)] : "UNKNOWN(0x\(String(rawValue, radix: 16)))"
    }
}

/// A protocol violation with its RFC answer: a connection error (GOAWAY) or a stream error
/// (RST_STREAM), with a reason for logs and the GOAWAY debug data.
public struct HTTP2ProtocolError: Error, Equatable, CustomStringConvertible {
    /// The error code to send.
    public let code: HTTP2ErrorCode
    /// The stream to reset, or nil for a connection error.
    public let streamID: UInt32?
    /// What was wrong, e.g. "SETTINGS frame on stream 1 (RFC 9113 §6.5)".
    public let reason: String

    /// A connection error: GOAWAY with `code`.
    public static func connection(_ code: HTTP2ErrorCode, _ reason: String) -> HTTP2ProtocolError {
        HTTP2ProtocolError(code: code, streamID: nil, reason: reason)
    }

    /// A stream error: RST_STREAM on `streamID` with `code`.
    public static func stream(_ streamID: UInt32, _ code: HTTP2ErrorCode, _ reason: String) -> HTTP2ProtocolError {
        HTTP2ProtocolError(code: code, streamID: streamID, reason: reason)
    }

    public var isConnectionError: Bool { streamID == nil }

    public var description: String {
        if let streamID { return "stream error \(code) on stream \(streamID): \(reason)" }
        return "connection error \(code): \(reason)"
    }
}
