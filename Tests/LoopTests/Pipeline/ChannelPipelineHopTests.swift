import Testing
@testable import Loop

// ChannelPipeline from another thread: each operation hops to the channel's loop instead of
// touching loop-owned state from the caller's thread.

extension RealLoopTests {
    @Suite struct ChannelPipelineHopTests {
        @Test func handlersAreAddedListedAndRemovedFromAsyncCodeOffTheLoop() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let server = try await startEchoServer(group: group)
                let client = try await connect(group: group, to: try boundAddress(server))
                #expect(!client.eventLoop.inEventLoop)
                let recorder = Recorder()
                try await client.pipeline.addHandler(RecordingHandler(recorder), name: "recorder")
                try await client.pipeline.addHandlers([CountingPassThrough(), CountingPassThrough()])
                let names = await client.pipeline.currentHandlerNames()
                #expect(names.first == "recorder")
                #expect(names.count == 3)
                await #expect(throws: PipelineError.duplicateName("recorder")) {
                    try await client.pipeline.addHandler(RecordingHandler(recorder), name: "recorder")
                }

                // The echo server answers a write made off the loop; the added handler sees it.
                client.writeAndFlush(ByteBuffer(string: "hop"))
                try await waitUntil("the echo reached the recorder") { recorder.text == "hop" }

                try await client.pipeline.removeHandler(name: "recorder")
                #expect(await client.pipeline.currentHandlerNames().count == 2)
                await #expect(throws: PipelineError.notFound("recorder")) {
                    try await client.pipeline.removeHandler(name: "recorder")
                }
                try await client.close().get(within: .seconds(5), "close")
                try await server.close().get(within: .seconds(5), "close the server")
            }
        }

        @Test func eventsFiredOffTheLoopArriveOnIt() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let server = try await startEchoServer(group: group)
                let onLoop = Locked<[Bool]>([])
                let client = try await connect(group: group, to: try boundAddress(server)) { channel in
                    try channel.pipeline.addHandler(LoopCheckingHandler(seen: onLoop))
                }
                #expect(!client.eventLoop.inEventLoop)
                client.pipeline.fireChannelRead(ByteBuffer(string: "x"))
                client.pipeline.fireChannelReadComplete()
                client.pipeline.fireUserInboundEventTriggered("event")
                client.pipeline.fireErrorCaught(PipelineError.closed)
                try await waitUntil("four events on the loop") { onLoop.value.count == 4 }
                #expect(onLoop.value == [true, true, true, true])
                try await client.close().get(within: .seconds(5), "close")
                try await server.close().get(within: .seconds(5), "close the server")
            }
        }
    }
}

/// Passes everything on; a second kind of handler for the pipeline.
private final class CountingPassThrough: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: ByteBuffer) { context.fireChannelRead(data) }
}

/// Records, for each inbound event, whether it ran on the channel's loop.
private final class LoopCheckingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let seen: Locked<[Bool]>
    init(seen: Locked<[Bool]>) { self.seen = seen }

    func channelRead(context: ChannelHandlerContext, data: ByteBuffer) { seen.mutate { $0.append(context.eventLoop.inEventLoop) } }
    func channelReadComplete(context: ChannelHandlerContext) { seen.mutate { $0.append(context.eventLoop.inEventLoop) } }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) { seen.mutate { $0.append(context.eventLoop.inEventLoop) } }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { seen.mutate { $0.append(context.eventLoop.inEventLoop) } }
}
