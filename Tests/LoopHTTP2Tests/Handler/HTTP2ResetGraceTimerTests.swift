import InteropTestSupport
import Loop
import Testing
@testable import LoopHTTP2

/// The connection handler drives the stream-end rule's grace period (HTTP2ResetGrace): a
/// client that keeps its request open after the complete response gets RST_STREAM(NO_ERROR)
/// after one to two periods, over a real socket.
@Suite(.serialized) struct HTTP2ResetGraceTimerTests {
    /// A raw client: decodes what the server sends and notes when each frame arrived.
    // @unchecked Sendable: filled on the channel's loop; the test reads `frames` only after
    // `done` completed on that loop.
    final class TimedFrames: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var decoder = HTTP2FrameDecoder(role: .client)
        var frames: [(at: ContinuousClock.Instant, frame: HTTP2Frame)] = []
        let done: EventLoopPromise<Void>
        init(done: EventLoopPromise<Void>) { self.done = done }
        func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
            decoder.append(data)
            let now = ContinuousClock.now
            while let frame = try? decoder.nextFrame() {
                frames.append((now, frame))
                if case .rstStream = frame.payload { done.succeed(()) }
            }
        }
        func channelInactive(context: ChannelHandlerContext) { done.succeed(()) }
    }

    @Test func aClientThatKeepsUploadingIsResetAfterTheGracePeriod() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        var configuration = HTTP2Configuration(role: .server)
        let period = Duration.milliseconds(100)
        configuration.unfinishedRequestPolicy = .resetAfterGracePeriod(period)
        // Answers every request in full at once, without reading the body.
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group, configuration: configuration) { _, response in
            try await response.respond(HTTP2ResponseHead(status: 403))
        }
        let done = group.next().makePromise(of: Void.self)
        let recorder = TimedFrames(done: done)
        let client = try await ClientBootstrap(group: group)
            .channelInitializer { try $0.pipeline.addHandler(recorder) }
            .connect(host: "127.0.0.1", port: server.localAddress!.port).get()
        // A POST whose body never ends.
        let request = joined([prefaceBytes(), settingsFrame(), settingsAckFrame(),
                              headersFrame(streamID: 1, block: encodeBlock(requestHead(method: "POST"))),
                              dataFrame(streamID: 1, [1, 2, 3])])
        try await client.writeAndFlush(request).get()
        try await withDeadline(5, "the server's RST_STREAM") { try await done.futureResult.get() }
        let frames = try await client.eventLoop.submit { recorder.frames.map { ($0.at, FrameSummary($0.frame)) } }.get()
        let response = frames.first { if case .headers(1, _, endStream: true) = $0.1 { true } else { false } }
        let reset = frames.first { if case .rst(1, _) = $0.1 { true } else { false } }
        guard let response, let reset else {
            Issue.record("expected the response and a reset: \(frames.map(\.1))")
            return
        }
        #expect(reset.1 == .rst(1, .noError))
        let waited = reset.0 - response.0
        #expect(waited >= period && waited < period * 4, "the reset came \(waited) after the response")
        try await client.close().get()
        try await server.close()
        try await group.shutdownGracefully()
    }
}
