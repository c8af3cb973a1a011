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

    public func serializeWithPrefix(_ message: Message, prefixLength: Int) throws -> ByteBuffer {
        guard prefixLength == ProtobufPrefixedBytes.prefixLength else {
            var buffer = ByteBuffer(capacity: prefixLength + 64)
            buffer.writeRepeatingByte(0, count: prefixLength)
            try serialize(message, into: &buffer)
            return buffer
        }
        // SwiftProtobuf sizes the message, asks for a bag of that many bytes and fills it:
        // the bag leaves room for the prefix in front, so the framed message is one buffer.
        let bytes: ProtobufPrefixedBytes = try message.serializedBytes()
        var framed = bytes.buffer
        framed.moveReaderIndex(to: 0)
        return framed
    }
}

/// Parses protobuf messages for gRPC straight from the received buffer (no copy).
public struct ProtobufDeserializer<Message: SwiftProtobuf.Message>: GRPCDeserializer {
    public init() {}

    public func deserialize(_ bytes: ByteBuffer) throws -> Message {
        try Message(serializedBytes: ProtobufBytes(bytes))
    }
}

/// A bag of bytes for SwiftProtobuf that keeps the 5-byte gRPC prefix in front of what it
/// exposes (reader index 5), so serializing writes the message exactly where it is sent from.
struct ProtobufPrefixedBytes: SwiftProtobufContiguousBytes {
    static let prefixLength = 5
    var buffer: ByteBuffer

    init(repeating byte: UInt8, count: Int) {
        buffer = ByteBuffer(capacity: count + Self.prefixLength)
        buffer.writeRepeatingByte(0, count: Self.prefixLength)
        buffer.writeRepeatingByte(byte, count: count)
        buffer.moveReaderIndex(forwardBy: Self.prefixLength)
    }

    init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
        buffer = ByteBuffer(capacity: Self.prefixLength + sequence.underestimatedCount)
        buffer.writeRepeatingByte(0, count: Self.prefixLength)
        buffer.writeBytes(sequence)
        buffer.moveReaderIndex(forwardBy: Self.prefixLength)
    }

    var count: Int { buffer.readableBytes }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeReadableBytes(body)
    }

    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutableReadableBytes(body)
    }
}

/// A ByteBuffer seen as SwiftProtobuf's bag of bytes, so messages are parsed from and
/// serialized into Loop's buffers directly (binary and JSON alike; the HTTP/JSON gateway uses
/// it too).
///
/// ```swift
/// let message = try MyMessage(serializedBytes: ProtobufBytes(buffer))
/// let json: ProtobufBytes = try message.jsonUTF8Bytes()
/// ```
public struct ProtobufBytes: SwiftProtobufContiguousBytes {
    /// The bytes (its readable part).
    public var buffer: ByteBuffer

    public init(_ buffer: ByteBuffer) { self.buffer = buffer }

    public init(repeating byte: UInt8, count: Int) {
        buffer = ByteBuffer(capacity: count)
        buffer.writeRepeatingByte(byte, count: count)
    }

    public init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
        buffer = ByteBuffer(bytes: sequence)
    }

    public var count: Int { buffer.readableBytes }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeReadableBytes(body)
    }

    public mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutableReadableBytes(body)
    }
}
