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
        // The client opens 2,500 bytes of window every 100 ms: 100,000 bytes take about four
        // seconds, twice the stall limit, and the response completes. The stall limit is 2 s,
        // twenty times the client's interval, and the client runs on a thread of its own,
        // driven by its loop's timers (not the test's task, which a loaded machine's
        // cooperative pool can hold back for a second), so only output that truly stops counts.
        let serverGroup = EventLoopGroup(numberOfThreads: 1)
        let clientGroup = EventLoopGroup(numberOfThreads: 1)
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: serverGroup,
                                                configuration: Self.configuration(writeStall: .seconds(2))) { _, response in
            var bytes = ByteBuffer()
            bytes.writeRepeatingByte(0x61, count: 100_000)
            try await response.respond(HTTP2ResponseHead(status: 200), body: bytes)
        }
        let closed = clientGroup.next().makePromise(of: ByteBuffer.self)
        let recorder = HTTP2HandshakeTimeoutTests.Recorder(closed: closed)
        let client = try await ClientBootstrap(group: clientGroup)
            .channelInitializer { try $0.pipeline.addHandler(recorder) }
            .connect(host: "127.0.0.1", port: server.localAddress!.port).get()
        let request = headersFrame(streamID: 1, block: encodeBlock(requestHead()), endStream: true)
        try await client.writeAndFlush(joined([prefaceBytes(), settingsFrame([HTTP2Setting(HTTP2Setting.initialWindowSize, 0)]),
                                               settingsAckFrame(), request])).get()
        let updatesSent = client.eventLoop.makePromise(of: Void.self)
        try await client.eventLoop.submit {
            Self.openWindow(client, times: 40, every: .milliseconds(100), bytes: 2_500, then: updatesSent)
        }.get()
        try await withDeadline(30, "the client's window updates") { try await updatesSent.futureResult.get() }
        // The last 2,500 bytes may still be on their way.
        var bodyBytes = 0
        var ended = false
        var goAway: HTTP2ErrorCode?
        for _ in 0..<50 where !ended {
            let received = try await client.eventLoop.submit { recorder.received }.get()
            var decoder = HTTP2FrameDecoder(role: .client)
            decoder.append(received)
            (bodyBytes, ended, goAway) = (0, false, nil)
            while let frame = try decoder.nextFrame() {
                if case .data(let data, let endStream, _) = frame.payload, frame.streamID == 1 {
                    bodyBytes += data.readableBytes
                    ended = ended || endStream
                }
                if case .goAway(_, let code, _) = frame.payload { goAway = code }
            }
            if !ended { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(bodyBytes == 100_000 && ended)
        #expect(goAway == nil)
        try await client.close().get()
        try await server.close()
        try await serverGroup.shutdownGracefully()
        try await clientGroup.shutdownGracefully()
    }

    /// Writes WINDOW_UPDATEs of `bytes` for stream 1 and the connection `times` times, one
    /// every `interval`, from the channel's loop; completes `done` after the last. Call on the loop.
    private static func openWindow(_ channel: Channel, times: Int, every interval: Duration, bytes: UInt32,
                                   then done: EventLoopPromise<Void>) {
        guard times > 0 else { return done.succeed(()) }
        channel.eventLoop.scheduleCallback(in: interval) {
            channel.writeAndFlush(joined([windowUpdateFrame(streamID: 1, increment: bytes), windowUpdateFrame(streamID: 0, increment: bytes)]))
                .whenComplete { result in
                    if case .failure(let error) = result { return done.fail(error) }
                    openWindow(channel, times: times - 1, every: interval, bytes: bytes, then: done)
                }
        }
    }
}
