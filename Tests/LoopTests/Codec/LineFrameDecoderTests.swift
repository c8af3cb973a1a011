import Testing
@testable import Loop

@Suite struct LineFrameDecoderTests {
    private func lines(_ channel: EmbeddedChannel) throws -> [String] {
        var result: [String] = []
        while let line = try channel.readInbound(as: ByteBuffer.self) {
            result.append(String(decoding: line.readableBytesView, as: UTF8.self))
        }
        return result
    }

    @Test func splitsOnNewlineAndCRLF() throws {
        let channel = EmbeddedChannel(handlers: [ByteToMessageHandler(LineFrameDecoder())])
        try channel.writeInbound(ByteBuffer(string: "one\ntwo\r\n\nthr"))
        #expect(try lines(channel) == ["one", "two", ""])
        try channel.writeInbound(ByteBuffer(string: "ee\r"))
        #expect(try lines(channel) == [])
        try channel.writeInbound(ByteBuffer(string: "\n"))
        #expect(try lines(channel) == ["three"])
    }

    @Test func lastLineWithoutEndingIsDeliveredAtEndOfInput() throws {
        let channel = EmbeddedChannel(handlers: [ByteToMessageHandler(LineFrameDecoder())])
        try channel.writeInbound(ByteBuffer(string: "a\ntail"))
        #expect(try lines(channel) == ["a"])
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try lines(channel) == ["tail"])
        #expect(channel.readUserEvents().compactMap { $0 as? ChannelEvent } == [.inputClosed])
    }

    @Test func lineLongerThanTheMaximumIsRejected() throws {
        let channel = EmbeddedChannel(handlers: [ByteToMessageHandler(LineFrameDecoder(maximumLength: 4))])
        try channel.writeInbound(ByteBuffer(string: "abcd\n"))
        #expect(try lines(channel) == ["abcd"])
        #expect(throws: CodecError.lineTooLong(maximum: 4)) {
            try channel.writeInbound(ByteBuffer(string: "abcdef"))
        }
    }

    @Test func overlongCompleteLineIsRejected() throws {
        var decoder = LineFrameDecoder(maximumLength: 3)
        var buffer = ByteBuffer(string: "abcd\n")
        #expect(throws: CodecError.lineTooLong(maximum: 3)) { try decoder.decode(buffer: &buffer) }
    }
}
