/// Turns a byte stream into messages, one at a time. Wrap it in a ``ByteToMessageHandler``,
/// which accumulates the bytes and calls `decode` until it needs more.
///
/// ```swift
/// struct UInt32Decoder: ByteToMessageDecoder {
///     mutating func decode(buffer: inout ByteBuffer) throws -> UInt32? {
///         buffer.readInteger(as: UInt32.self)
///     }
/// }
/// try channel.pipeline.addHandler(ByteToMessageHandler(UInt32Decoder()))
/// ```
public protocol ByteToMessageDecoder {
    /// The messages this decoder produces.
    associatedtype InboundOut

    /// Decodes one message from the front of `buffer`, consuming its bytes, or returns nil
    /// (consuming nothing) when more bytes are needed. A thrown error reaches `errorCaught`
    /// and the handler stops decoding.
    mutating func decode(buffer: inout ByteBuffer) throws -> InboundOut?

    /// Called when no more bytes will come (the peer closed its side or the channel closed).
    /// The default decodes what it can and then throws `CodecError.leftoverBytes` if bytes
    /// remain.
    mutating func decodeLast(buffer: inout ByteBuffer) throws -> InboundOut?
}

extension ByteToMessageDecoder {
    public mutating func decodeLast(buffer: inout ByteBuffer) throws -> InboundOut? {
        if let message = try decode(buffer: &buffer) { return message }
        if buffer.readableBytes > 0 { throw CodecError.leftoverBytes(buffer.readableBytes) }
        return nil
    }
}

/// Errors of Loop's codecs.
public enum CodecError: Error, Equatable, CustomStringConvertible {
    /// A length field announced a frame larger than the decoder accepts.
    case frameTooLarge(length: Int, maximum: Int)
    /// No line ending within the allowed line length.
    case lineTooLong(maximum: Int)
    /// The input ended in the middle of a message.
    case leftoverBytes(Int)
    /// A frame is too long for the length field that must describe it.
    case lengthNotRepresentable(length: Int, fieldBytes: Int)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let maximum):
            return "CodecError.frameTooLarge: a frame of \(length) bytes exceeds the maximum of \(maximum)"
        case .lineTooLong(let maximum):
            return "CodecError.lineTooLong: no line ending within \(maximum) bytes"
        case .leftoverBytes(let count):
            return "CodecError.leftoverBytes: the input ended with \(count) bytes of an incomplete message"
        case .lengthNotRepresentable(let length, let fieldBytes):
            return "CodecError.lengthNotRepresentable: \(length) bytes do not fit a \(fieldBytes)-byte length field"
        }
    }
}
