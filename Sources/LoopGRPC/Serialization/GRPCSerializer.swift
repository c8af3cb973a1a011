import Loop

/// Turns messages into bytes. Conform to plug in a codec (LoopGRPCProtobuf has
/// `ProtobufSerializer`); `ByteBufferCodec` passes bytes through.
public protocol GRPCSerializer<Message>: Sendable {
    associatedtype Message: Sendable
    /// Appends the encoded message to `buffer` (after the 5-byte gRPC prefix the caller
    /// reserved, so no second copy is needed).
    func serialize(_ message: Message, into buffer: inout ByteBuffer) throws

    /// The encoded message after `prefixLength` bytes left for the caller (the gRPC
    /// message prefix), in one buffer. The default calls `serialize(_:into:)`; a codec that
    /// sizes its output first can allocate exactly once.
    func serializeWithPrefix(_ message: Message, prefixLength: Int) throws -> ByteBuffer
}

extension GRPCSerializer {
    public func serializeWithPrefix(_ message: Message, prefixLength: Int) throws -> ByteBuffer {
        var buffer = ByteBuffer(capacity: prefixLength + 64)
        buffer.writeRepeatingByte(0, count: prefixLength)
        try serialize(message, into: &buffer)
        return buffer
    }
}

/// Turns bytes into messages. A thrown error ends the call with INTERNAL, the code gRPC
/// implementations use for a message that cannot be parsed.
public protocol GRPCDeserializer<Message>: Sendable {
    associatedtype Message: Sendable
    func deserialize(_ bytes: ByteBuffer) throws -> Message
}

/// Raw bytes as messages, for proxies, benchmarks and tests.
public struct ByteBufferCodec: GRPCSerializer, GRPCDeserializer {
    public init() {}
    public func serialize(_ message: ByteBuffer, into buffer: inout ByteBuffer) throws {
        _ = buffer.writeImmutableBuffer(message)
    }
    public func deserialize(_ bytes: ByteBuffer) throws -> ByteBuffer { bytes }
}
