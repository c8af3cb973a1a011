import Testing
import Loop
import LoopGRPC
import LoopGRPCProtobuf
import SwiftProtobuf

/// ProtobufSerializer / ProtobufDeserializer: the binary wire format straight into and out
/// of Loop's buffers, and the gRPC message prefix written in front without a copy.
@Suite struct ProtobufCodecTests {
    typealias Request = Grpc_Health_V1_HealthCheckRequest
    typealias Response = Grpc_Health_V1_HealthCheckResponse

    let serializer = ProtobufSerializer<Request>()
    let deserializer = ProtobufDeserializer<Request>()

    func bytes(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

    @Test func roundTrip() throws {
        let request = Request.with { $0.service = "helloworld.Greeter" }
        var buffer = ByteBuffer()
        try serializer.serialize(request, into: &buffer)
        // Field 1 (service), length-delimited: tag 0x0a, length 18, the UTF-8 bytes.
        #expect(bytes(buffer) == [0x0a, 18] + Array("helloworld.Greeter".utf8))
        #expect(try deserializer.deserialize(buffer) == request)

        let response = Response.with { $0.status = .notServing }
        var encoded = ByteBuffer()
        try ProtobufSerializer<Response>().serialize(response, into: &encoded)
        #expect(bytes(encoded) == [0x08, 0x02])
        #expect(try ProtobufDeserializer<Response>().deserialize(encoded) == response)
    }

    /// The 5-byte gRPC prefix is left in front of the message in the same buffer, ready for
    /// GRPCMessageFramer to fill in; other prefix lengths take the generic path.
    @Test func serializeWithPrefix() throws {
        let request = Request.with { $0.service = "x" }
        let framedSpace = try serializer.serializeWithPrefix(request, prefixLength: 5)
        #expect(bytes(framedSpace) == [0, 0, 0, 0, 0, 0x0a, 0x01, 0x78])
        let other = try serializer.serializeWithPrefix(request, prefixLength: 2)
        #expect(bytes(other) == [0, 0, 0x0a, 0x01, 0x78])
        // An empty message is no bytes at all: the prefix alone.
        #expect(bytes(try serializer.serializeWithPrefix(Request(), prefixLength: 5)) == [0, 0, 0, 0, 0])
    }

    /// PROTOCOL-HTTP2.md "Length-Prefixed-Message": compressed flag 0, 4-byte big-endian length, message.
    @Test func framedMessage() throws {
        let framed = try GRPCMessageFramer.frame(Request.with { $0.service = "x" }, serializer: serializer, compression: nil)
        #expect(bytes(framed) == [0, 0, 0, 0, 3, 0x0a, 0x01, 0x78])
        var deframer = GRPCMessageDeframer(maxMessageSize: 1 << 20, compression: nil)
        deframer.append(framed)
        let message = try #require(try deframer.next())
        #expect(try deserializer.deserialize(message).service == "x")
    }

    /// Invalid bytes are SwiftProtobuf's exact decoding error (the server turns it into
    /// INTERNAL "could not parse the request message: …", see GRPCHealthServiceTests).
    @Test(arguments: [
        ([UInt8]([0x0a, 0x05, 0x61]), BinaryDecodingError.truncated),  // length 5, one byte present
        ([0x0a, 0x01, 0xff], .invalidUTF8),                          // a string field that is not UTF-8
        ([0x10, 0xff, 0xff], .malformedProtobuf),                     // a varint that never ends
    ])
    func invalidBytes(_ input: [UInt8], _ expected: BinaryDecodingError) {
        #expect(throws: expected) {
            try deserializer.deserialize(ByteBuffer(bytes: input))
        }
    }
}
