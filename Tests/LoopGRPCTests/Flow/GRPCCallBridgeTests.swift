import Testing
import Loop
@testable import LoopGRPC

/// The state shared by the server and client calls, I/O-free: DATA in, messages and
/// flow-control credit out; the write water marks. (Its glue to a stream, GRPCBridgedCall,
/// is exercised by GRPCServerCallTests and the end-to-end tests.)
@Suite struct GRPCCallBridgeTests {
    /// A connection's budget with the default sizes (32 MiB granted, 1 MiB stream window,
    /// 16 MiB connection window).
    static func budget() -> GRPCPartialMessageBudget {
        GRPCPartialMessageBudget(limit: 32 << 20, streamWindow: 1 << 20, connectionWindow: 16 << 20)
    }

    func framed(_ text: String, compression: GRPCCompression? = nil) throws -> ByteBuffer {
        try GRPCMessageFramer.frame(ByteBuffer(string: text), serializer: ByteBufferCodec(), compression: compression)
    }

    @Test func deframesAcrossPayloadsInOrder() throws {
        var bridge = GRPCCallBridge(maxReceiveMessageSize: 1 << 20, compression: nil, partialMessages: Self.budget())
        var joined = try framed("one")
        var second = try framed("two")
        joined.writeBuffer(&second)
        let split = joined.readableBytes - 2
        let first = try framed("one").readableBytes
        // Credit for a complete message comes back at once while the reader keeps up; the
        // bytes of the unfinished one hold theirs until it is complete.
        #expect(try bridge.receive(joined.getSlice(at: 0, length: split)!) == first)
        #expect(bridge.hasSingleMessage && bridge.hasPartialMessage)
        #expect(try bridge.receive(joined.getSlice(at: split, length: 2)!) == joined.readableBytes - first)
        #expect(!bridge.hasPartialMessage)
        #expect(bridge.takeMessage()?.message == ByteBuffer(string: "one"))
        #expect(bridge.takeMessage()?.message == ByteBuffer(string: "two"))
        #expect(bridge.takeMessage() == nil)
        #expect(try bridge.receive(ByteBuffer()) == 0)  // an empty DATA frame changes nothing
        #expect(bridge.takeMessage() == nil && !bridge.hasPartialMessage)
    }

    /// docs/architecture.md, backpressure: past the queue's high-water mark, credit waits for the reader.
    @Test func creditIsHeldWhileTheReaderFallsBehind() throws {
        var bridge = GRPCCallBridge(maxReceiveMessageSize: 4 << 20, compression: nil, partialMessages: Self.budget())
        let big = try GRPCMessageFramer.frame(ByteBuffer(bytes: [UInt8](repeating: 7, count: GRPCInboundMessages.highWaterMark + 1)),
                                              serializer: ByteBufferCodec(), compression: nil)
        #expect(try bridge.receive(big) == 0)
        let small = try framed("x")
        #expect(try bridge.receive(small) == 0)
        #expect(bridge.takeMessage()?.credit == big.readableBytes + small.readableBytes)
        #expect(bridge.takeMessage()?.credit == 0)
    }

    /// A bad message is the deframer's exact status (the call ends with it).
    @Test func badMessageThrowsItsStatus() throws {
        var bridge = GRPCCallBridge(maxReceiveMessageSize: 2, compression: nil, partialMessages: Self.budget())
        #expect(throws: GRPCStatus(.resourceExhausted, "received message of 3 bytes exceeds the limit of 2 bytes")) {
            try bridge.receive(try framed("abc"))
        }
        var compressed = GRPCCallBridge(maxReceiveMessageSize: 1 << 20, compression: nil, partialMessages: Self.budget())
        #expect(throws: GRPCStatus(.internal, "received a compressed message but the stream declared no grpc-encoding")) {
            try compressed.receive(ByteBuffer(bytes: [1, 0, 0, 0, 1, 0x41]))
        }
    }

    /// The client learns the response encoding from the head, after the bridge was made.
    @Test func compressionSetLater() throws {
        var bridge = GRPCCallBridge(maxReceiveMessageSize: 1 << 20, compression: nil, partialMessages: Self.budget())
        bridge.compression = .gzip
        _ = try bridge.receive(try framed("zipped", compression: .gzip))
        #expect(bridge.takeMessage()?.message == ByteBuffer(string: "zipped"))
    }
}
