/// Splits a stream into lines ending in `\n` or `\r\n`; passes on each line without its
/// ending, as a slice of the input.
///
/// ```swift
/// try channel.pipeline.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumLength: 8192)))
/// ```
public struct LineFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// Longest line accepted (without its ending); longer is `CodecError.lineTooLong`.
    public let maximumLength: Int

    public init(maximumLength: Int = 8192) {
        precondition(maximumLength > 0, "maximumLength must be positive")
        self.maximumLength = maximumLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > maximumLength + 1 { throw CodecError.lineTooLong(maximum: maximumLength) }
            return nil
        }
        let start = buffer.readerIndex
        var end = newline
        if end > start, buffer.getInteger(at: end - 1, as: UInt8.self) == UInt8(ascii: "\r") { end -= 1 }
        guard end - start <= maximumLength else { throw CodecError.lineTooLong(maximum: maximumLength) }
        let line = buffer.getSlice(at: start, length: end - start)
        buffer.moveReaderIndex(to: newline + 1)
        return line
    }

    /// At the end of input, a last line without an ending is passed on as it is.
    public mutating func decodeLast(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        if let line = try decode(buffer: &buffer) { return line }
        guard buffer.readableBytes > 0 else { return nil }
        return buffer.readSlice(length: buffer.readableBytes)
    }
}
