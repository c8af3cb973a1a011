import Loop
import LoopGRPC
import SwiftProtobuf

/// Serializes protobuf messages for gRPC (binary wire format).
///
/// ```swift
/// router.registerUnary("/helloworld.Greeter/SayHello",
///                      deserializer: ProtobufDeserializer<HelloRequest>(),
///                      serializer: ProtobufSerializer<HelloReply>()) { request, _ in ... }
/// ```
public struct ProtobufSerializer<Message: SwiftProtobuf.Message>: GRPCSerializer {
    public init() {}

    public func serialize(_ message: Message, into buffer: inout ByteBuffer) throws {
        let bytes: ProtobufBytes = try message.serializedBytes()
        buffer.writeImmutableBuffer(bytes.buffer)
    }
}

/// Parses protobuf messages for gRPC straight from the received buffer (no copy).
public struct ProtobufDeserializer<Message: SwiftProtobuf.Message>: GRPCDeserializer {
    public init() {}

    public func deserialize(_ bytes: ByteBuffer) throws -> Message {
        try Message(serializedBytes: ProtobufBytes(bytes))
    }
}

/// A ByteBuffer seen as SwiftProtobuf's bag of bytes, so messages are parsed from and
/// serialized into Loop's buffers directly.
struct ProtobufBytes: SwiftProtobufContiguousBytes {
    var buffer: ByteBuffer

    init(_ buffer: ByteBuffer) { self.buffer = buffer }

    init(repeating byte: UInt8, count: Int) {
        buffer = ByteBuffer(capacity: count)
        buffer.writeRepeatingByte(byte, count: count)
    }

    init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
        buffer = ByteBuffer(bytes: sequence)
    }

    var count: Int { buffer.readableBytes }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeReadableBytes(body)
    }

    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutableReadableBytes(body)
    }
}
