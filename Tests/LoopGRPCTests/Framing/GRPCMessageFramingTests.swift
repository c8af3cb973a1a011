import Testing
import Loop
@testable import LoopGRPC

/// PROTOCOL-HTTP2.md "Length-Prefixed-Message": flag byte, 4-byte big-endian length, message.
@Suite struct GRPCMessageFramingTests {
    private func frame(_ text: String, _ compression: GRPCCompression? = nil) throws -> ByteBuffer {
        try GRPCMessageFramer.frame(ByteBuffer(string: text), serializer: ByteBufferCodec(), compression: compression)
    }

    @Test func framesWithThePrefix() throws {
        let framed = try frame("hi")
        #expect(framed.readableBytesView.map { $0 } == [0, 0, 0, 0, 2, 0x68, 0x69])
    }

    @Test func messagesSplitAndJoinedAnywhere() throws {
        var all = ByteBuffer()
        for text in ["a", "", "hello world", String(repeating: "x", count: 70_000)] {
            var framed = try frame(text)
            all.writeBuffer(&framed)
        }
        let bytes = all.readableBytesView.map { $0 }
        for split in [1, 3, 5, 6, 17, 40_000] {
            var deframer = GRPCMessageDeframer(maxMessageSize: 1 << 20, compression: nil)
            var messages: [String] = []
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + split, bytes.count)
                deframer.append(ByteBuffer(bytes: bytes[offset..<end]))
                while let message = try deframer.next() { messages.append(String(decoding: message.readableBytesView, as: UTF8.self)) }
                offset = end
            }
            #expect(messages == ["a", "", "hello world", String(repeating: "x", count: 70_000)])
            #expect(!deframer.hasPartialMessage)
        }
    }

    /// What the partial-message budget reads and does: the buffered bytes, the announced size
    /// once the prefix is in, room made for the whole message at once, and the bytes dropped.
    @Test func unfinishedMessageSizeCapacityAndDiscard() throws {
        let text = String(repeating: "y", count: 50_000)
        let bytes = try frame(text + "z").readableBytesView.map { $0 }
        var deframer = GRPCMessageDeframer(maxMessageSize: 1 << 20, compression: nil)
        deframer.append(ByteBuffer(bytes: bytes[0..<3]))
        #expect(try deframer.next() == nil)
        #expect(deframer.bufferedBytes == 3 && deframer.currentMessageBytes == nil)
        deframer.append(ByteBuffer(bytes: bytes[3..<1000]))
        #expect(try deframer.next() == nil)
        #expect(deframer.bufferedBytes == 1000 && deframer.currentMessageBytes == bytes.count)
        deframer.reserveCapacityForCurrentMessage()
        #expect(deframer.bufferedBytes == 1000)
        deframer.append(ByteBuffer(bytes: bytes[1000...]))
        let message = try #require(try deframer.next())
        #expect(String(decoding: message.readableBytesView, as: UTF8.self) == text + "z")
        #expect(deframer.bufferedBytes == 0 && deframer.currentMessageBytes == nil)
        deframer.append(ByteBuffer(bytes: bytes[0..<10]))
        deframer.discardBuffered()
        #expect(!deframer.hasPartialMessage && deframer.bufferedBytes == 0)
    }

    @Test func oversizedMessageIsResourceExhausted() throws {
        var deframer = GRPCMessageDeframer(maxMessageSize: 10, compression: nil)
        deframer.append(ByteBuffer(bytes: [0, 0, 0, 0, 11]))
        #expect(throws: GRPCStatus(.resourceExhausted, "received message of 11 bytes exceeds the limit of 10 bytes")) { try deframer.next() }
        #expect(throws: GRPCStatus(.resourceExhausted, "message of 11 bytes exceeds the send limit of 10 bytes")) {
            try GRPCMessageFramer.frame(ByteBuffer(string: "01234567890"), serializer: ByteBufferCodec(), compression: nil, maxMessageSize: 10)
        }
    }

    @Test func invalidFlagIsInternal() {
        var deframer = GRPCMessageDeframer(maxMessageSize: 10, compression: nil)
        deframer.append(ByteBuffer(bytes: [2, 0, 0, 0, 0]))
        #expect(throws: GRPCStatus(.internal, "invalid compressed flag 2 in a message prefix (only 0 and 1 are allowed)")) { try deframer.next() }
    }

    @Test func compressedFlagWithoutEncodingIsInternal() {
        var deframer = GRPCMessageDeframer(maxMessageSize: 10, compression: nil)
        deframer.append(ByteBuffer(bytes: [1, 0, 0, 0, 1, 0]))
        #expect(throws: GRPCStatus(.internal, "received a compressed message but the stream declared no grpc-encoding")) { try deframer.next() }
    }

    @Test(arguments: [GRPCCompression.gzip, .deflate])
    func compressedRoundTrip(_ compression: GRPCCompression) throws {
        let text = String(repeating: "compressible ", count: 1000)
        let framed = try frame(text, compression)
        #expect(framed.getInteger(at: 0, as: UInt8.self) == 1)
        #expect(framed.readableBytes < 1000)
        var deframer = GRPCMessageDeframer(maxMessageSize: 1 << 20, compression: compression)
        deframer.append(framed)
        let message = try #require(try deframer.next())
        #expect(String(decoding: message.readableBytesView, as: UTF8.self) == text)
    }

    @Test func decompressionBombIsResourceExhausted() throws {
        let framed = try frame(String(repeating: "0", count: 1 << 20), .gzip)
        #expect(framed.readableBytes < 10_000)
        var deframer = GRPCMessageDeframer(maxMessageSize: 64 * 1024, compression: .gzip)
        deframer.append(framed)
        #expect(throws: GRPCStatus(.resourceExhausted, "decompressed message exceeds the limit of 65536 bytes")) { try deframer.next() }
    }

    @Test func corruptCompressedDataIsInternal() throws {
        var deframer = GRPCMessageDeframer(maxMessageSize: 1 << 20, compression: .gzip)
        deframer.append(ByteBuffer(bytes: [1, 0, 0, 0, 4, 1, 2, 3, 4]))
        do {
            _ = try deframer.next()
            Issue.record("a corrupt gzip message was accepted")
        } catch {
            #expect(error.code == .internal)
            #expect(error.message.hasPrefix("decompressing a gzip message failed"))
        }
    }

    @Test func encodingNegotiation() {
        #expect(GRPCCompression(headerValue: "gzip") == .gzip)
        #expect(GRPCCompression(headerValue: "snappy") == nil)
        #expect(GRPCCompression.gzip.isAccepted(by: "identity,deflate,gzip"))
        #expect(GRPCCompression.gzip.isAccepted(by: "identity, gzip"))
        #expect(!GRPCCompression.gzip.isAccepted(by: "identity,deflate"))
        #expect(!GRPCCompression.gzip.isAccepted(by: nil))
        #expect(GRPCCompression.identity.isAccepted(by: nil))
    }
}
