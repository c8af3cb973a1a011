import InteropTestSupport
import Loop
import Testing
@testable import LoopHTTP2

/// A client that sends its request and shuts down its writing side (TCP half-close) still
/// gets the whole response, then the server closes (HTTP2Connection.peerClosedInput).
@Suite(.serialized) struct HTTP2ServerHalfCloseTests {
    @Test func aClientThatHalfClosesAfterItsRequestGetsTheResponse() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        // Answers after the half-close has surely arrived.
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group) { _, response in
            try await Task.sleep(for: .milliseconds(100))
            try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: "still here"))
        }
        let closed = group.next().makePromise(of: ByteBuffer.self)
        let client = try await ClientBootstrap(group: group)
            .channelInitializer { try $0.pipeline.addHandler(HTTP2HandshakeTimeoutTests.Recorder(closed: closed)) }
            .connect(host: "127.0.0.1", port: server.localAddress!.port).get()
        let request = joined([prefaceBytes(), settingsFrame(), settingsAckFrame(),
                              headersFrame(streamID: 1, block: encodeBlock(requestHead()), endStream: true)])
        try await client.writeAndFlush(request).get()
        try await client.close(mode: .output).get()
        let bytes = try await withDeadline(5, "the response and the server's close") { try await closed.futureResult.get() }
        var decoder = HTTP2FrameDecoder(role: .client)
        decoder.append(bytes)
        var frames: [FrameSummary] = []
        while let frame = try decoder.nextFrame() { frames.append(FrameSummary(frame)) }
        let stream1 = frames.filter {
            switch $0 {
            case .headers(1, _, _), .data(1, _, _), .rst(1, _): return true
            default: return false
            }
        }
        // The head, then 10 body bytes ending the stream (the last frame may be an empty
        // END_STREAM), and no reset; the GOAWAY(NO_ERROR) went out at the half-close.
        if case .headers(1, let fields, endStream: false)? = stream1.first {
            #expect(fields.first == ":status: 200")
        } else {
            Issue.record("no response head: \(frames)")
        }
        let bodyBytes = stream1.reduce(0) { if case .data(_, let length, _) = $1 { $0 + length } else { $0 } }
        #expect(bodyBytes == 10, "\(frames)")
        #expect({ if case .data(1, _, endStream: true)? = stream1.last { true } else { false } }(), "\(frames)")
        #expect(frames.contains(.goAway(last: 1, .noError)), "\(frames)")
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test func aClientThatHalfClosesWithItsWindowShutIsClosedAtOnce() async throws {
        // SETTINGS_INITIAL_WINDOW_SIZE 0 and a request for 100,000 bytes, then the client shuts
        // its side: no WINDOW_UPDATE can come any more, so the response can never leave.
        // The server closes now (GOAWAY CANCEL) instead of holding it until the write-stall
        // timeout (30 s by default).
        let group = EventLoopGroup(numberOfThreads: 1)
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group) { _, response in
            var body = ByteBuffer()
            body.writeRepeatingByte(0x61, count: 100_000)
            try await response.respond(HTTP2ResponseHead(status: 200), body: body)
        }
        let closed = group.next().makePromise(of: ByteBuffer.self)
        let client = try await ClientBootstrap(group: group)
            .channelInitializer { try $0.pipeline.addHandler(HTTP2HandshakeTimeoutTests.Recorder(closed: closed)) }
            .connect(host: "127.0.0.1", port: server.localAddress!.port).get()
        let request = joined([prefaceBytes(), settingsFrame([HTTP2Setting(HTTP2Setting.initialWindowSize, 0)]), settingsAckFrame(),
                              headersFrame(streamID: 1, block: encodeBlock(requestHead()), endStream: true)])
        try await client.writeAndFlush(request).get()
        try await Task.sleep(for: .milliseconds(100))   // the response is queued by now
        let start = ContinuousClock.now
        try await client.close(mode: .output).get()
        let bytes = try await withDeadline(5, "the server's close") { try await closed.futureResult.get() }
        #expect(ContinuousClock.now - start < .seconds(2))
        var decoder = HTTP2FrameDecoder(role: .client)
        decoder.append(bytes)
        var codes: [HTTP2ErrorCode] = []
        while let frame = try decoder.nextFrame() {
            if case .goAway(_, let code, _) = frame.payload { codes.append(code) }
        }
        #expect(codes.last == .cancel, "\(codes)")
        try await server.close()
        try await group.shutdownGracefully()
    }
}
