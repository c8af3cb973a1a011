import Testing
import Loop
@testable import LoopHTTP2

/// The handshake rule (docs/architecture.md), both sides: a client is ready only once the server's SETTINGS
/// arrived, and either side gives up on a peer that never completes the handshake.
@Suite(.serialized) struct HTTP2HandshakeTimeoutTests {
    /// Accepts TCP connections and never says anything (a server that is not HTTP/2).
    final class Silent: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {}
    }

    /// Records what a raw client receives and when the connection closes.
    // @unchecked Sendable: filled on the channel's loop; the test reads `received` only through the
    // `closed` promise, after the loop completed it.
    final class Recorder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var received = ByteBuffer()
        let closed: EventLoopPromise<ByteBuffer>
        init(closed: EventLoopPromise<ByteBuffer>) { self.closed = closed }
        func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
            var data = data
            received.writeBuffer(&data)
        }
        func channelInactive(context: ChannelHandlerContext) { closed.succeed(received) }
    }

    @Test func clientGivesUpOnAServerThatNeverSendsSettings() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let silent = try await ServerBootstrap(group: group)
            .childChannelInitializer { try $0.pipeline.addHandler(Silent()) }
            .bind(host: "127.0.0.1", port: 0).get()
        var configuration = HTTP2Configuration(role: .client)
        configuration.handshakeTimeout = .milliseconds(300)
        await #expect(throws: HTTP2ConnectionError.handshakeTimeout(.milliseconds(300))) {
            _ = try await HTTP2Client.connect(host: "127.0.0.1", port: silent.localAddress!.port, group: group,
                                              configuration: configuration)
        }
        try await silent.close().get()
        try await group.shutdownGracefully()
    }

    /// Answers each connection with an empty SETTINGS frame, then closes it (a server whose
    /// maximum age ends an idle connection at once).
    final class SettingsThenClose: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        func channelActive(context: ChannelHandlerContext) {
            var settings = ByteBuffer()
            HTTP2FrameEncoder.writeSettings([], into: &settings)
            context.writeAndFlush(settings, promise: nil)
            context.close(promise: nil)
        }
        func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {}
    }

    /// The handshake is done once the server's SETTINGS arrived, even when the connection ends
    /// right after and before the connecting task is back on the loop: the client then has a
    /// closed connection, not "closed before the peer's SETTINGS arrived" (which it was not).
    @Test func rfc9113Section3_4SettingsThenACloseIsAHandshakeThatCompleted() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { try $0.pipeline.addHandler(SettingsThenClose()) }
            .bind(host: "127.0.0.1", port: 0).get()
        for _ in 0..<20 {
            let connected = try await HTTP2Client.connectHandler(to: .hostAndPort(host: "127.0.0.1", port: server.localAddress!.port),
                                                                 group: group) { _ in HTTP2AsyncStreamDelegate(loop: group.next()) { _, _ in } }
            try await connected.channel.closeFuture.get()
        }
        try await server.close().get()
        try await group.shutdownGracefully()
    }

    @Test func serverClosesAClientThatNeverCompletesTheHandshake() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        var configuration = HTTP2Configuration(role: .server)
        configuration.handshakeTimeout = .milliseconds(300)
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group, configuration: configuration) { _, response in
            try await response.respond(HTTP2ResponseHead(status: 200))
        }
        let closed = group.next().makePromise(of: ByteBuffer.self)
        let client = try await ClientBootstrap(group: group)
            .channelInitializer { try $0.pipeline.addHandler(Recorder(closed: closed)) }
            .connect(host: "127.0.0.1", port: server.localAddress!.port).get()
        // Send nothing: the server's SETTINGS arrive at once, then GOAWAY(SETTINGS_TIMEOUT).
        let bytes = try await closed.futureResult.get()
        var decoder = HTTP2FrameDecoder(role: .client)
        decoder.append(bytes)
        var frames: [HTTP2Frame] = []
        while let frame = try decoder.nextFrame() { frames.append(frame) }
        guard case .settings = frames.first?.payload else {
            Issue.record("first frame is not SETTINGS: \(frames)")
            return
        }
        guard case .goAway(_, let code, _)? = frames.last?.payload else {
            Issue.record("last frame is not GOAWAY: \(frames)")
            return
        }
        #expect(code == .settingsTimeout)
        _ = client
        try await server.close()
        try await group.shutdownGracefully()
    }
}
