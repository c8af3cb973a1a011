import Foundation
import InteropTestSupport
import Loop
import Testing
@testable import LoopHTTP2

/// The handler's timeouts on a real socket (HTTP2Timeouts, one timer per connection): an
/// idle connection, a header block left unfinished, and output stalled by a peer that keeps
/// its windows shut are each closed with the right GOAWAY within the limit, and a connection
/// that keeps working is not.
@Suite(.serialized) struct HTTP2ConnectionTimeoutTests {
    /// One timeout at `limit` under test, the others far enough away not to interfere on a
    /// busy machine.
    private static func configuration(idle: Duration = .seconds(30), headerBlock: Duration = .seconds(30),
                                      writeStall: Duration = .seconds(30)) -> HTTP2Configuration {
        var configuration = HTTP2Configuration(role: .server)
        configuration.idleTimeout = idle
        configuration.headerBlockTimeout = headerBlock
        configuration.writeStallTimeout = writeStall
        return configuration
    }

    /// Runs a raw client that writes `bytes` and records everything until the server closes;
    /// returns the frames and how long the server took to close.
    private static func exchange(_ bytes: ByteBuffer, configuration: HTTP2Configuration,
                                 body: Int = 10) async throws -> (frames: [HTTP2Frame], seconds: Double) {
        let group = EventLoopGroup(numberOfThreads: 1)
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group, configuration: configuration) { _, response in
            var bytes = ByteBuffer()
            bytes.writeRepeatingByte(0x61, count: body)
            try await response.respond(HTTP2ResponseHead(status: 200), body: bytes)
        }
        let closed = group.next().makePromise(of: ByteBuffer.self)
        let client = try await ClientBootstrap(group: group)
            .channelInitializer { try $0.pipeline.addHandler(HTTP2HandshakeTimeoutTests.Recorder(closed: closed)) }
            .connect(host: "127.0.0.1", port: server.localAddress!.port).get()
        let start = ContinuousClock.now
        // On a loaded machine the server's idle limit (counted from the accept) may pass before
        // this write: the write then fails, and what the server sent before closing is recorded.
        try? await client.writeAndFlush(bytes).get()
        let received = try await withDeadline(5, "the server's close") { try await closed.futureResult.get() }
        let seconds = Double((ContinuousClock.now - start).components.attoseconds) / 1e18 + Double((ContinuousClock.now - start).components.seconds)
        var decoder = HTTP2FrameDecoder(role: .client)
        decoder.append(received)
        var frames: [HTTP2Frame] = []
        while let frame = try decoder.nextFrame() { frames.append(frame) }
        try await server.close()
        try await group.shutdownGracefully()
        return (frames, seconds)
    }

    private static func goAway(_ frames: [HTTP2Frame]) -> (code: HTTP2ErrorCode, debug: String)? {
        for frame in frames {
            if case .goAway(_, let code, let debug) = frame.payload { return (code, String(decoding: debug.readableBytesView, as: UTF8.self)) }
        }
        return nil
    }

    @Test func anIdleConnectionIsClosedWithNoError() async throws {
        let result = try await Self.exchange(joined([prefaceBytes(), settingsFrame(), settingsAckFrame()]),
                                             configuration: Self.configuration(idle: .seconds(1)))
        let goAway = Self.goAway(result.frames)
        #expect(goAway?.code == .noError, "\(result.frames)")
        #expect(goAway?.debug == "idle for 1.0 seconds with no open stream")
        #expect(result.seconds < 10, "closed after \(result.seconds) s")
    }

    @Test func aConnectionAnsweredThenIdleIsClosedAfterTheLimit() async throws {
        // The request is served; the idle time counts from its end.
        let request = headersFrame(streamID: 1, block: encodeBlock(requestHead()), endStream: true)
        let result = try await Self.exchange(joined([prefaceBytes(), settingsFrame(), settingsAckFrame(), request]),
                                             configuration: Self.configuration(idle: .seconds(1)))
        #expect(result.frames.contains { if case .data(_, true, _) = $0.payload { $0.streamID == 1 } else { false } })
        #expect(Self.goAway(result.frames)?.code == .noError)
    }

    @Test func rfc9113Section6_10AnUnfinishedHeaderBlockIsEnhanceYourCalm() async throws {
        // HEADERS without END_HEADERS, and no CONTINUATION: nothing else may come on this
        // connection, so the slow-loris client holds it until the limit.
        let head = headersFrame(streamID: 1, block: encodeBlock(requestHead()), endStream: true, endHeaders: false)
        let result = try await Self.exchange(joined([prefaceBytes(), settingsFrame(), settingsAckFrame(), head]),
                                             configuration: Self.configuration(headerBlock: .milliseconds(300)))
        let goAway = Self.goAway(result.frames)
        #expect(goAway?.code == .enhanceYourCalm, "\(result.frames)")
        #expect(goAway?.debug == "header block not finished within 0.3 seconds")
        #expect(result.seconds < 10)
    }

    @Test func aPeerThatKeepsItsWindowShutIsClosedAfterTheWriteStallLimit() async throws {
        // SETTINGS_INITIAL_WINDOW_SIZE 0: the response's 100,000 bytes wait forever.
        let request = headersFrame(streamID: 1, block: encodeBlock(requestHead()), endStream: true)
        let result = try await Self.exchange(joined([prefaceBytes(), settingsFrame([HTTP2Setting(HTTP2Setting.initialWindowSize, 0)]),
                                                     settingsAckFrame(), request]),
                                             configuration: Self.configuration(writeStall: .milliseconds(300)), body: 100_000)
        let goAway = Self.goAway(result.frames)
        #expect(goAway?.code == .enhanceYourCalm, "\(result.frames)")
        #expect(goAway?.debug.hasPrefix("no output could be sent for 0.3 seconds") == true, "\(goAway?.debug ?? "")")
        #expect(result.seconds >= 0.29 && result.seconds < 10, "closed after \(result.seconds) s")
    }

    @Test func aSlowButMovingDownloadIsNotAStall() async throws {
        // The client opens 3,400 bytes of window every 100 ms: 100,000 bytes take about three
        // seconds, three times the stall limit, and the response completes.
        let group = EventLoopGroup(numberOfThreads: 1)
        // The stall limit is 1 s, ten times the client's interval (room for a loaded machine).
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group,
                                                configuration: Self.configuration(writeStall: .seconds(1))) { _, response in
            var bytes = ByteBuffer()
            bytes.writeRepeatingByte(0x61, count: 100_000)
            try await response.respond(HTTP2ResponseHead(status: 200), body: bytes)
        }
        let closed = group.next().makePromise(of: ByteBuffer.self)
        let recorder = HTTP2HandshakeTimeoutTests.Recorder(closed: closed)
        let client = try await ClientBootstrap(group: group)
            .channelInitializer { try $0.pipeline.addHandler(recorder) }
            .connect(host: "127.0.0.1", port: server.localAddress!.port).get()
        let request = headersFrame(streamID: 1, block: encodeBlock(requestHead()), endStream: true)
        try await client.writeAndFlush(joined([prefaceBytes(), settingsFrame([HTTP2Setting(HTTP2Setting.initialWindowSize, 0)]),
                                               settingsAckFrame(), request])).get()
        for _ in 0..<30 {
            try await Task.sleep(for: .milliseconds(100))
            try await client.writeAndFlush(joined([windowUpdateFrame(streamID: 1, increment: 3_400), windowUpdateFrame(streamID: 0, increment: 3_400)])).get()
        }
        try await Task.sleep(for: .milliseconds(100))
        let received = try await client.eventLoop.submit { recorder.received }.get()
        var decoder = HTTP2FrameDecoder(role: .client)
        decoder.append(received)
        var bodyBytes = 0
        var ended = false
        var goAway: HTTP2ErrorCode?
        while let frame = try decoder.nextFrame() {
            if case .data(let data, let endStream, _) = frame.payload, frame.streamID == 1 {
                bodyBytes += data.readableBytes
                ended = ended || endStream
            }
            if case .goAway(_, let code, _) = frame.payload { goAway = code }
        }
        #expect(bodyBytes == 100_000 && ended)
        #expect(goAway == nil)
        try await client.close().get()
        try await server.close()
        try await group.shutdownGracefully()
    }
}
