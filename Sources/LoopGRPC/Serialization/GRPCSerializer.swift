import Loop

/// Turns messages into bytes. Conform to plug in a codec (LoopGRPCProtobuf has
/// `ProtobufSerializer`); `ByteBufferCodec` passes bytes through.
public protocol GRPCSerializer<Message>: Sendable {
    associatedtype Message: Sendable
    /// Appends the encoded message to `buffer` (after the 5-byte gRPC prefix the caller
    /// reserved, so no second copy is needed).
    func serialize(_ message: Message, into buffer: inout ByteBuffer) throws
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
