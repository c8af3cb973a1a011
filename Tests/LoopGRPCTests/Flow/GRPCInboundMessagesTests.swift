import Testing
import Loop
@testable import LoopGRPC

/// Queued messages and flow-control credit (docs/architecture.md, backpressure: credit follows consumption).
@Suite struct GRPCInboundMessagesTests {
    func message(_ size: Int) -> ByteBuffer { ByteBuffer(bytes: [UInt8](repeating: 1, count: size)) }

    @Test func keepsOrder() {
        var queue = GRPCInboundMessages()
        for size in [1, 2, 3] { queue.append(message(size)) }
        #expect(!queue.hasSingleMessage)
        var sizes: [Int] = []
        while let (taken, _) = queue.take() { sizes.append(taken.readableBytes) }
        #expect(sizes == [1, 2, 3])
        queue.append(message(4))
        #expect(queue.hasSingleMessage)
        queue.append(message(5))
        #expect(queue.take()?.message.readableBytes == 4)
        queue.append(message(6))
        #expect(queue.take()?.message.readableBytes == 5)
        #expect(queue.take()?.message.readableBytes == 6)
        #expect(queue.isEmpty)
    }

    @Test func creditReturnedAtOnceWhileTheReaderKeepsUp() {
        var queue = GRPCInboundMessages()
        queue.append(message(1000))
        #expect(queue.received(1005) == 1005)
        #expect(queue.take()?.credit == 0)
    }

    @Test func creditHeldWhileTheReaderIsBehindThenReturnedAsItReads() {
        var queue = GRPCInboundMessages()
        let big = GRPCInboundMessages.highWaterMark / 2 + 1
        queue.append(message(big))
        #expect(queue.received(big) == big)
        queue.append(message(big))
        #expect(queue.received(big) == 0)          // over the mark: held
        queue.append(message(10))
        #expect(queue.received(10) == 0)
        #expect(queue.take()?.credit == big + 10)   // back under the mark: all held credit
        #expect(queue.take()?.credit == 0)
        #expect(queue.queuedBytes == 10)
    }
}
