/// Writes each outbound buffer after a length field holding its size (the counterpart of
/// ``LengthFieldFrameDecoder``). A buffer too long for the field fails its write with
/// `CodecError.lengthNotRepresentable`.
public final class LengthFieldPrepender: ChannelOutboundHandler {
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let lengthFieldBytes: Int
    private let endianness: Endianness

    public init(lengthFieldBytes: Int, endianness: Endianness = .big) {
        precondition([1, 2, 4, 8].contains(lengthFieldBytes), "lengthFieldBytes must be 1, 2, 4 or 8")
        self.lengthFieldBytes = lengthFieldBytes
        self.endianness = endianness
    }

    public func write(context: ChannelHandlerContext, data: ByteBuffer, promise: EventLoopPromise<Void>?) {
        let length = data.readableBytes
        let limit = lengthFieldBytes == 8 ? UInt64(Int.max) : (UInt64(1) << UInt64(lengthFieldBytes * 8)) - 1
        guard UInt64(length) <= limit else {
            promise?.fail(CodecError.lengthNotRepresentable(length: length, fieldBytes: lengthFieldBytes))
            return
        }
        var header = ByteBuffer(capacity: lengthFieldBytes)
        switch lengthFieldBytes {
        case 1: header.writeInteger(UInt8(length), endianness: endianness)
        case 2: header.writeInteger(UInt16(length), endianness: endianness)
        case 4: header.writeInteger(UInt32(length), endianness: endianness)
        default: header.writeInteger(UInt64(length), endianness: endianness)
        }
        // Two writes, gathered into one writev by the socket: the payload is not copied.
        context.write(header, promise: nil)
        context.write(data, promise: promise)
    }
}
