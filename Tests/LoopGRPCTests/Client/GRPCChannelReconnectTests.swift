import Loop
import LoopHTTP2
import Synchronization
import Testing
@testable import LoopGRPC

/// A server that ends each connection right after its handshake (its maximum age closing an
/// idle connection at once, seen by a client that was slow to get back to its loop): the
/// channel connects again at once, a few times in a row, before it counts a failed attempt.
@Suite struct GRPCChannelReconnectTests {
    /// Answers each connection with an empty SETTINGS frame (and, with `tooManyPings`, a
    /// GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings") as grpc-go sends it) and closes it; counts them.
    final class SettingsThenClose: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let connections: Atomic<Int>
        let tooManyPings: Bool
        init(tooManyPings: Bool = false) {
            connections = Atomic(0)
            self.tooManyPings = tooManyPings
        }
        func channelActive(context: ChannelHandlerContext) {
            connections.add(1, ordering: .relaxed)
            var bytes = ByteBuffer()
            HTTP2FrameEncoder.writeSettings([], into: &bytes)
            if tooManyPings {
                HTTP2FrameEncoder.writeGoAway(lastStreamID: 0, code: .enhanceYourCalm, debugData: "too_many_pings", into: &bytes)
            }
            context.writeAndFlush(bytes, promise: nil)
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

    /// gRFC A8: "too_many_pings" doubles the interval for the next connection even when that
    /// GOAWAY arrived before the channel set its callbacks on the new connection.
    @Test func tooManyPingsRightAfterTheHandshakeStillDoublesTheKeepaliveInterval() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let server = SettingsThenClose(tooManyPings: true)
        let listener = try await ServerBootstrap(group: group)
            .childChannelInitializer { try $0.pipeline.addHandler(server) }
            .bind(host: "127.0.0.1", port: 0).get()
        var configuration = GRPCChannelConfiguration()
        configuration.http2.keepalive = .init(interval: .milliseconds(100), timeout: .seconds(5), permitWithoutCalls: true)
        let channel = GRPCChannel(host: "127.0.0.1", port: listener.localAddress!.port, group: group, configuration: configuration)
        await #expect(throws: GRPCStatus.self) {
            _ = try await channel.unary(path: "/t.T/Echo", request: ByteBuffer(string: "hi"), serializer: ByteBufferCodec(),
                                        deserializer: ByteBufferCodec(), options: GRPCCallOptions())
        }
        // Four connections, each told "too_many_pings": 100 ms doubled four times.
        #expect(server.connections.load(ordering: .relaxed) == 4)
        #expect(channel.keepaliveInterval == .milliseconds(1_600), "\(String(describing: channel.keepaliveInterval))")
        await channel.close()
        try await listener.close().get()
        try await group.shutdownGracefully()
    }
}
