import Loop
import LoopHTTP2
import Synchronization
import Testing
@testable import LoopGRPC

/// A server that ends each connection right after its handshake (its maximum age closing an
/// idle connection at once, seen by a client that was slow to get back to its loop): the
/// channel connects again at once, a few times in a row, before it counts a failed attempt.
@Suite struct GRPCChannelReconnectTests {
    /// Answers each connection with an empty SETTINGS frame and closes it; counts them.
    final class SettingsThenClose: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let connections: Atomic<Int>
        init() { connections = Atomic(0) }
        func channelActive(context: ChannelHandlerContext) {
            connections.add(1, ordering: .relaxed)
            var settings = ByteBuffer()
            HTTP2FrameEncoder.writeSettings([], into: &settings)
            context.writeAndFlush(settings, promise: nil)
            context.close(promise: nil)
        }
        func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {}
    }

    @Test func connectionsEndedRightAfterTheirHandshakeAreRetriedAtOnceThenUnavailable() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let counter = SettingsThenClose()
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { try $0.pipeline.addHandler(counter) }
            .bind(host: "127.0.0.1", port: 0).get()
        let channel = GRPCChannel(host: "127.0.0.1", port: server.localAddress!.port, group: group)
        do {
            _ = try await channel.unary(path: "/t.T/Echo", request: ByteBuffer(string: "hi"), serializer: ByteBufferCodec(),
                                        deserializer: ByteBufferCodec(), options: GRPCCallOptions())
            Issue.record("a call succeeded against a server that closes every connection")
        } catch let status as GRPCStatus {
            #expect(status.code == .unavailable)
            #expect(status.message.contains("the server ended 4 connections in a row right after their handshake"), "\(status.message)")
        }
        // The first attempt and three at once; the next waits for the backoff.
        #expect(counter.connections.load(ordering: .relaxed) == 4)
        await channel.close()
        try await server.close().get()
        try await group.shutdownGracefully()
    }
}
