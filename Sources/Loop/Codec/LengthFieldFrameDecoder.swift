/// Splits a stream into frames that each start with a big- or little-endian length field;
/// passes on each frame's payload (without the field) as a slice of the input.
///
/// ```swift
/// try channel.pipeline.addHandler(ByteToMessageHandler(LengthFieldFrameDecoder(lengthFieldBytes: 4)))
/// try channel.pipeline.addHandler(LengthFieldPrepender(lengthFieldBytes: 4))
/// ```
public struct LengthFieldFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// Bytes in the length field: 1, 2, 4 or 8.
    public let lengthFieldBytes: Int
    /// Byte order of the length field.
    public let endianness: Endianness
    /// Largest payload accepted; a larger announced length is `CodecError.frameTooLarge`.
    public let maximumFrameLength: Int

    public init(lengthFieldBytes: Int, endianness: Endianness = .big, maximumFrameLength: Int = 16 * 1024 * 1024) {
        precondition([1, 2, 4, 8].contains(lengthFieldBytes), "lengthFieldBytes must be 1, 2, 4 or 8")
        self.lengthFieldBytes = lengthFieldBytes
        self.endianness = endianness
        self.maximumFrameLength = maximumFrameLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        let start = buffer.readerIndex
        let announced: UInt64?
        switch lengthFieldBytes {
        case 1: announced = buffer.getInteger(at: start, endianness: endianness, as: UInt8.self).map(UInt64.init)
        case 2: announced = buffer.getInteger(at: start, endianness: endianness, as: UInt16.self).map(UInt64.init)
        case 4: announced = buffer.getInteger(at: start, endianness: endianness, as: UInt32.self).map(UInt64.init)
        default: announced = buffer.getInteger(at: start, endianness: endianness, as: UInt64.self)
        }
        guard let announced else { return nil }
        guard announced <= UInt64(maximumFrameLength) else {
            throw CodecError.frameTooLarge(length: announced > UInt64(Int.max) ? Int.max : Int(announced), maximum: maximumFrameLength)
        }
        let length = Int(announced)
        guard let frame = buffer.getSlice(at: start + lengthFieldBytes, length: length) else { return nil }
        buffer.moveReaderIndex(to: start + lengthFieldBytes + length)
        return frame
    }
}
