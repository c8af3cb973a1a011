import Testing
@testable import Loop

@Suite struct LengthFieldFrameDecoderTests {
    private func frame(_ payload: String, fieldBytes: Int = 2) -> ByteBuffer {
        var buffer = ByteBuffer()
        switch fieldBytes {
        case 1: buffer.writeInteger(UInt8(payload.utf8.count))
        case 2: buffer.writeInteger(UInt16(payload.utf8.count))
        case 4: buffer.writeInteger(UInt32(payload.utf8.count))
        default: buffer.writeInteger(UInt64(payload.utf8.count))
        }
        buffer.writeString(payload)
        return buffer
    }

    @Test(arguments: [1, 2, 4, 8])
    func decodesFramesSplitAcrossReads(fieldBytes: Int) throws {
        let channel = EmbeddedChannel(handlers: [ByteToMessageHandler(LengthFieldFrameDecoder(lengthFieldBytes: fieldBytes))])
        var stream = frame("hello", fieldBytes: fieldBytes)
        var second = frame("world!", fieldBytes: fieldBytes)
        stream.writeBuffer(&second)
        // Feed one byte at a time: nothing may come out before a frame is complete.
        var outputs: [String] = []
        while let byte = stream.readSlice(length: 1) {
            try channel.writeInbound(byte)
            while let message = try channel.readInbound(as: ByteBuffer.self) {
                outputs.append(String(decoding: message.readableBytesView, as: UTF8.self))
            }
        }
        #expect(outputs == ["hello", "world!"])
        #expect(try channel.finish().inboundLeft == false)
    }

    @Test func decodesSeveralFramesFromOneReadAsSlices() throws {
        let channel = EmbeddedChannel(handlers: [ByteToMessageHandler(LengthFieldFrameDecoder(lengthFieldBytes: 2))])
        var stream = frame("a")
        var b = frame("bb")
        var empty = frame("")
        stream.writeBuffer(&b)
        stream.writeBuffer(&empty)
        try channel.writeInbound(stream)
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "a"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "bb"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: ""))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
    }

    @Test func littleEndianLengthField() throws {
        var decoder = LengthFieldFrameDecoder(lengthFieldBytes: 4, endianness: .little)
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(3), endianness: .little)
        buffer.writeString("xyz")
        #expect(try decoder.decode(buffer: &buffer) == ByteBuffer(string: "xyz"))
        #expect(buffer.readableBytes == 0)
    }

    @Test func oversizedFrameIsRejectedWithExactError() throws {
        let channel = EmbeddedChannel(handlers: [ByteToMessageHandler(LengthFieldFrameDecoder(lengthFieldBytes: 4, maximumFrameLength: 10))])
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(11))
        #expect(throws: CodecError.frameTooLarge(length: 11, maximum: 10)) { try channel.writeInbound(buffer) }
        // After the error the handler ignores further input instead of decoding garbage.
        try channel.writeInbound(frame("ok", fieldBytes: 4))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
    }

    @Test func truncatedFrameAtEndOfInputIsLeftoverBytes() throws {
        let channel = EmbeddedChannel(handlers: [ByteToMessageHandler(LengthFieldFrameDecoder(lengthFieldBytes: 2))])
        var partial = frame("hello")
        partial.moveWriterIndex(to: partial.writerIndex - 2)
        try channel.writeInbound(partial)
        #expect(throws: CodecError.leftoverBytes(5)) { try channel.finish() }
    }

    @Test func prependerWritesLengthThenPayload() throws {
        let channel = EmbeddedChannel(handlers: [LengthFieldPrepender(lengthFieldBytes: 2)])
        try channel.writeOutbound(ByteBuffer(string: "hey"))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: [0, 3]))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "hey"))
    }

    @Test func prependerRejectsFramesTheFieldCannotDescribe() async throws {
        let channel = EmbeddedChannel(handlers: [LengthFieldPrepender(lengthFieldBytes: 1)])
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.pipeline.write(ByteBuffer(bytes: [UInt8](repeating: 7, count: 256)), promise: promise)
        channel.pipeline.flush()
        await #expect(throws: CodecError.lengthNotRepresentable(length: 256, fieldBytes: 1)) {
            try await promise.futureResult.get()
        }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    }

    @Test func prependerAndDecoderRoundTrip() throws {
        let sender = EmbeddedChannel(handlers: [LengthFieldPrepender(lengthFieldBytes: 4)])
        let receiver = EmbeddedChannel(handlers: [ByteToMessageHandler(LengthFieldFrameDecoder(lengthFieldBytes: 4))])
        let payloads = (0..<50).map { String(repeating: "x", count: $0 * 7) }
        for payload in payloads { try sender.writeOutbound(ByteBuffer(string: payload)) }
        var wire = ByteBuffer()
        while var piece = try sender.readOutbound(as: ByteBuffer.self) { wire.writeBuffer(&piece) }
        // Deliver in uneven chunks.
        var chunk = 1
        while wire.readableBytes > 0 {
            try receiver.writeInbound(wire.readSlice(length: min(chunk, wire.readableBytes))!)
            chunk = chunk * 3 % 97 + 1
        }
        var received: [String] = []
        while let message = try receiver.readInbound(as: ByteBuffer.self) {
            received.append(String(decoding: message.readableBytesView, as: UTF8.self))
        }
        #expect(received == payloads)
    }
}
