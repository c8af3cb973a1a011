import Foundation
import InteropTestSupport
import Loop
import LoopHTTP1
import Synchronization
import Testing
@testable import LoopHTTP2

/// HTTP2Server with `configuration.http1` on real sockets (127.0.0.1, port 0), driven by raw
/// TCP clients with exact bytes: HTTP/1.1 (RFC 9112) beside HTTP/2 on one port. Each abusive
/// case is served while a good client makes keep-alive requests on another connection
/// (`withGoodClient`). The limits, timeouts and the protocol detection are in
/// OnePortLimitsSocketTests.
@Suite(.serialized) struct OnePortSocketTests {
    // MARK: The server

    /// What the server read from its sockets and what the handlers consumed.
    final class Meter: Sendable {
        let read = Atomic<Int>(0)
        let consumed = Atomic<Int>(0)
        /// The most bytes read but not yet consumed by a handler, sampled at every read.
        let peakHeld = Atomic<Int>(0)
        /// The most bytes one read event brought (up to `maxReadsPerEvent` reads).
        let largestReadBatch = Atomic<Int>(0)
        let handlersWaiting = Atomic<Int>(0)
        /// Lets /upload and /wait go on.
        let release = Atomic<Bool>(false)
    }

    /// First in every connection's pipeline: counts the bytes read from the socket.
    final class ReadMeter: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let meter: Meter
        private var batch = 0
        init(_ meter: Meter) { self.meter = meter }

        func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
            batch += data.readableBytes
            let read = meter.read.add(data.readableBytes, ordering: .relaxed).newValue
            meter.peakHeld.max(read - meter.consumed.load(ordering: .relaxed), ordering: .relaxed)
            context.fireChannelRead(data)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            meter.largestReadBatch.max(batch, ordering: .relaxed)
            batch = 0
            context.fireChannelReadComplete()
        }
    }

    struct Server {
        let group: EventLoopGroup
        let server: HTTP2Server
        let meter: Meter
        var port: Int { server.port }

        func stop() async throws {
            server.beginGracefulShutdown(deadline: .now)
            try await server.serve()
            try await group.shutdownGracefully()
        }
    }

    /// A one-port server on one event loop; `receiveBuffer` caps each connection's SO_RCVBUF.
    static func start(receiveBuffer: Int32? = nil, _ configure: (inout HTTP2Configuration, inout HTTP1Options) -> Void = { _, _ in }) async throws -> Server {
        let group = EventLoopGroup(numberOfThreads: 1)
        var configuration = HTTP2Configuration(role: .server)
        var http1 = HTTP1Options()
        configure(&configuration, &http1)
        configuration.http1 = http1
        let meter = Meter()
        let handler = routes(meter)
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group, configuration: configuration, pipelineSetup: { channel in
            if let receiveBuffer { _ = channel.setOption(.receiveBufferSize(receiveBuffer)) }
            try channel.pipeline.addHandler(ReadMeter(meter))
        }, makeDelegate: { channel in HTTP2AsyncStreamDelegate(loop: channel.eventLoop, handler: handler) })
        return Server(group: group, server: server, meter: meter)
    }

    /// GET or HEAD /n/ID: "response ID" with its length. POST /echo: the body back (chunked)
    /// with the request's trailers. POST /upload: waits for `release`, then reads the body
    /// slowly and says how many bytes came and how many were not where pattern(offset)
    /// puts them. GET /wait: "response wait" once released.
    static func routes(_ meter: Meter) -> HTTP2AsyncStreamDelegate.Handler {
        { request, response in
            func text(_ text: String) async throws {
                let head = HTTP2ResponseHead(status: 200, headers: [HPACKHeader("content-length", String(text.utf8.count))])
                if request.head.method == "HEAD" {
                    try await response.sendHead(head, endStream: true)
                } else {
                    try await response.respond(head, body: ByteBuffer(string: text))
                }
            }
            let path = request.head.path
            if path.hasPrefix("/n/") {
                try await text("response \(path.dropFirst(3))")
            } else if path == "/echo" {
                let body = try await request.body.collect(upTo: 1 << 20)
                let trailers = await request.body.trailers ?? []
                try await response.sendHead(HTTP2ResponseHead(status: 200))
                if body.readableBytes > 0 { try await response.write(body) }
                try await response.finish(trailers: trailers)
            } else if path == "/upload" || path == "/wait" {
                meter.handlersWaiting.add(1, ordering: .relaxed)
                while !meter.release.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
                guard path == "/upload" else { return try await text("response wait") }
                var offset = 0
                var misplaced = 0
                var chunks = 0
                for try await chunk in request.body {
                    chunk.withUnsafeReadableBytes { bytes in
                        for (index, byte) in bytes.enumerated() where byte != pattern(offset + index) { misplaced += 1 }
                    }
                    offset += chunk.readableBytes
                    meter.consumed.add(chunk.readableBytes, ordering: .relaxed)
                    chunks += 1
                    if chunks % 8 == 0 { try await Task.sleep(for: .milliseconds(1)) }   // a slow reader
                }
                try await text("\(offset) bytes, \(misplaced) misplaced")
            } else {
                try await response.respond(HTTP2ResponseHead(status: 404))
            }
        }
    }

    /// The upload's byte at `offset` (251 is prime: a shifted or reordered chunk shows).
    static func pattern(_ offset: Int) -> UInt8 { UInt8(offset % 251) }

    /// The exact response to GET /n/ID.
    static func expected(_ id: String, version: String = "HTTP/1.1", close: Bool = false) -> String {
        let body = "response \(id)"
        return "\(version) 200 OK\r\ncontent-length: \(body.utf8.count)\r\n\(close ? "connection: close\r\n" : "")\r\n\(body)"
    }

    static func get(_ id: String, _ extra: String = "") -> String { "GET /n/\(id) HTTP/1.1\r\nHost: a\r\n\(extra)\r\n" }

    // MARK: A good client beside

    final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    /// Runs `body` while a good client makes keep-alive requests on a connection of its own
    /// (one before, one every 10 ms during, at most 500, one after); every one must be answered exactly.
    static func withGoodClient<T>(_ server: Server, sourceLocation: SourceLocation = #_sourceLocation,
                                  _ body: () async throws -> T) async throws -> T {
        let stop = Flag()
        let started = Flag()
        let port = server.port
        let good = Task { () -> (served: Int, failures: [String]) in
            var served = 0
            var failures: [String] = []
            do {
                let connection = try RawHTTP1Connection(port: port)
                var index = 0
                while index < 500 {
                    let last = stop.value.load(ordering: .relaxed)
                    try await connection.send(get("good\(index)"))
                    let response = try await connection.readResponse()
                    if response.text == expected("good\(index)") { served += 1 } else { failures.append("good\(index): \(response)") }
                    started.value.store(true, ordering: .relaxed)
                    if last { break }
                    index += 1
                    try await Task.sleep(for: .milliseconds(10))
                }
            } catch {
                failures.append("\(error)")
                started.value.store(true, ordering: .relaxed)
            }
            return (served, failures)
        }
        try await waitUntilTrue("the good client's first response") { started.value.load(ordering: .relaxed) }
        let result: T
        do {
            result = try await body()
        } catch {
            stop.value.store(true, ordering: .relaxed)
            _ = await good.value
            throw error
        }
        stop.value.store(true, ordering: .relaxed)
        let tally = await good.value
        #expect(tally.failures.isEmpty && tally.served >= 2, "good client: \(tally.served) served, failures \(tally.failures)",
                sourceLocation: sourceLocation)
        return result
    }

    // MARK: Keep-alive, pipelining, bodies

    @Test func rfc9112Section9_3AHundredRequestsOnOneKeepAliveConnection() async throws {
        let server = try await Self.start()
        let connection = try RawHTTP1Connection(port: server.port)
        for index in 0..<100 {
            try await connection.send(Self.get("\(index)"))
            #expect(try await connection.readResponse().text == Self.expected("\(index)"))
        }
        #expect(server.server.connectionCount == 1)
        try await server.stop()
    }

    @Test func rfc9112Section9_3_2TwentyPipelinedRequestsInOneWriteAreAnsweredInOrder() async throws {
        let server = try await Self.start()
        let connection = try RawHTTP1Connection(port: server.port)
        try await connection.send((0..<20).map { Self.get("p\($0)") }.joined())
        let all = (0..<20).map { Self.expected("p\($0)") }.joined()
        #expect(try await connection.readText(like: all) == all)
        // And the connection goes on.
        try await connection.send(Self.get("after"))
        #expect(try await connection.readResponse().text == Self.expected("after"))
        try await server.stop()
    }

    @Test func rfc9112Section6_2AContentLengthBodyIsEchoed() async throws {
        let server = try await Self.start()
        let connection = try RawHTTP1Connection(port: server.port)
        try await connection.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world")
        #expect(try await connection.readResponse().text == "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n")
        try await server.stop()
    }

    @Test func rfc9112Section7_1AChunkedBodyAndItsTrailersAreEchoed() async throws {
        let server = try await Self.start()
        let connection = try RawHTTP1Connection(port: server.port)
        try await connection.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n")
        #expect(try await connection.readResponse().text
                == "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\nx-sum: 11\r\n\r\n")
        // Keep-alive after a chunked request.
        try await connection.send(Self.get("next"))
        #expect(try await connection.readResponse().text == Self.expected("next"))
        try await server.stop()
    }

    /// 8 MiB to a handler that reads nothing until the client's writes block, then reads slowly:
    /// the bytes arrive intact, and what the server read but no handler consumed never exceeds
    /// maxBufferedBytes + the stream window + one read event (the read that crossed the limit).
    @Test func rfc9113Section5_2AnEightMebibyteUploadKeepsBackpressureAndArrivesIntact() async throws {
        let window = 256 * 1024
        let server = try await Self.start(receiveBuffer: 64 * 1024) { configuration, http1 in
            configuration.initialStreamWindowSize = UInt32(window)
            configuration.maximumStreamWindowSize = nil   // no BDP growth: the window stays fixed
            http1.limits.maxBodySize = 16 << 20
        }
        let size = 8 << 20
        let connection = try RawHTTP1Connection(port: server.port, sendBuffer: 64 * 1024)
        let body = (0..<size).map(Self.pattern)
        try await connection.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: \(size)\r\n\r\n")
        // Send until nothing is taken for 300 ms: the server must have stopped reading.
        let sentBeforeBlocking = try await onThread { try connection.sendUntilBlocked(body[...], stall: 0.3) }
        let readWhenBlocked = server.meter.read.load(ordering: .relaxed)
        #expect(server.meter.handlersWaiting.load(ordering: .relaxed) == 1)
        server.meter.release.store(true, ordering: .relaxed)
        try await connection.send(Array(body[sentBeforeBlocking...]), timeout: 60)
        let response = try await connection.readResponse(timeout: 60)
        let answer = "\(size) bytes, 0 misplaced"
        #expect(response.text == "HTTP/1.1 200 OK\r\ncontent-length: \(answer.utf8.count)\r\n\r\n\(answer)")

        let bound = HTTP1Options().maxBufferedBytes + window + server.meter.largestReadBatch.load(ordering: .relaxed)
        let peak = server.meter.peakHeld.load(ordering: .relaxed)
        // The two socket buffers: the kernel doubles SO_RCVBUF, and a loaded machine showed the
        // send side holding more than its SO_SNDBUF too (735,232 bytes against 695,355): both count twice.
        let kernel = 2 * connection.option(SO_SNDBUF) + 2 * 64 * 1024
        print("[one-port upload] blocked after \(sentBeforeBlocking) of \(size) bytes; the server had read \(readWhenBlocked); "
              + "peak held \(peak) (bound \(bound)); largest read event \(server.meter.largestReadBatch.load(ordering: .relaxed))")
        #expect(sentBeforeBlocking < size, "the client's writes never blocked")
        #expect(readWhenBlocked <= bound + 100, "the server read \(readWhenBlocked) bytes while the handler read none")
        #expect(sentBeforeBlocking <= readWhenBlocked + kernel, "bytes neither read by the server nor in the socket buffers")
        #expect(peak <= bound + 100, "the server held \(peak) bytes, over \(bound)")
        try await server.stop()
    }

    @Test func rfc9110Section10_1_1ExpectContinueGets100BeforeTheBodyIsSent() async throws {
        let server = try await Self.start()
        let connection = try RawHTTP1Connection(port: server.port)
        try await connection.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        #expect(try await connection.readResponse().text == "HTTP/1.1 100 Continue\r\n\r\n")
        try await connection.send("hello")
        #expect(try await connection.readResponse().text == "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        try await server.stop()
    }

    @Test func rfc9110Section9_3_2HEADGetsTheLengthAndNoBodyAndTheConnectionGoesOn() async throws {
        let server = try await Self.start()
        let connection = try RawHTTP1Connection(port: server.port)
        try await connection.send("HEAD /n/7 HTTP/1.1\r\nHost: a\r\n\r\n" + Self.get("8"))
        let both = "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n" + Self.expected("8")
        #expect(try await connection.readText(like: both) == both)
        try await server.stop()
    }

    @Test func rfc9112Section9_3AnHTTP1_0RequestWithoutKeepAliveIsAnsweredAndClosed() async throws {
        let server = try await Self.start()
        let connection = try RawHTTP1Connection(port: server.port)
        try await connection.send("GET /n/old HTTP/1.0\r\n\r\n")
        #expect(try await connection.readResponse().text == Self.expected("old", version: "HTTP/1.0", close: true))
        #expect(try await connection.readUntilClosed().isEmpty)
        try await server.stop()
    }

    @Test func rfc9112Section9_6ConnectionCloseEndsTheConnectionAfterTheResponse() async throws {
        let server = try await Self.start()
        let connection = try RawHTTP1Connection(port: server.port)
        // The request pipelined behind it is never answered.
        try await connection.send(Self.get("last", "Connection: close\r\n") + Self.get("never"))
        #expect(try await connection.readResponse().text == Self.expected("last", close: true))
        #expect(try await connection.readUntilClosed().isEmpty)
        try await server.stop()
    }

    // MARK: h2c and HTTP/2 on the same port

    /// Reads HTTP/2 frames until `done` says so (at most 50).
    static func readFrames(_ connection: RawHTTP1Connection, decoder: inout HTTP2FrameDecoder,
                           until done: ([HTTP2Frame]) -> Bool) async throws -> [HTTP2Frame] {
        var frames: [HTTP2Frame] = []
        while !done(frames), frames.count < 50 {
            let header = try await connection.read(9)
            guard header.count == 9 else { throw InteropError("closed after \(frames.map(FrameSummary.init))") }
            let length = Int(header[0]) << 16 | Int(header[1]) << 8 | Int(header[2])
            decoder.append(ByteBuffer(bytes: header + (try await connection.read(length))))
            while let frame = try decoder.nextFrame() { frames.append(frame) }
        }
        return frames
    }

    static func isSettings(_ frame: HTTP2Frame) -> Bool { if case .settings = frame.payload { true } else { false } }

    static func endsStream(_ id: UInt32) -> ([HTTP2Frame]) -> Bool {
        { frames in frames.contains { if case .data(_, true, _) = $0.payload { $0.streamID == id } else { false } } }
    }

    /// The handshake rule (docs/architecture.md) on a one-port server: the preface alone,
    /// nothing else sent, gets the server's SETTINGS back.
    @Test func rfc9113Section3_4ThePrefaceAloneGetsTheServersSettingsAtOnce() async throws {
        let server = try await Self.start()
        let connection = try RawHTTP1Connection(port: server.port)
        try await connection.send(http2ClientPreface)
        let written = ContinuousClock.now
        var decoder = HTTP2FrameDecoder(role: .client)
        let frames = try await Self.readFrames(connection, decoder: &decoder) { !$0.isEmpty }
        #expect(frames.first.map(Self.isSettings) == true, "\(frames.map(FrameSummary.init))")
        #expect(ContinuousClock.now - written < .seconds(3), "SETTINGS came after \(ContinuousClock.now - written)")
        try await server.stop()
    }

    @Test func rfc7540Section3_2AnH2cUpgradeGets101ThenStream1AsHTTP2() async throws {
        let server = try await Self.start()
        let connection = try RawHTTP1Connection(port: server.port)
        // HTTP2-Settings: SETTINGS_MAX_CONCURRENT_STREAMS = 100, base64url.
        try await connection.send("GET /n/up HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n")
        let switching = "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n"
        #expect(try await connection.readText(like: switching) == switching)
        try await connection.send(Array(joined([prefaceBytes(), settingsFrame()]).readableBytesView))
        var decoder = HTTP2FrameDecoder(role: .client)
        let frames = try await Self.readFrames(connection, decoder: &decoder, until: Self.endsStream(1))
        let summary = frames.map(FrameSummary.init).filter { if case .settingsAck = $0 { false } else { true } }
        #expect(frames.first.map(Self.isSettings) == true, "the server's SETTINGS come first: \(summary)")
        // The connection window opened to 16 MiB, then the response (`respond` sends its body with END_STREAM).
        #expect(summary.dropFirst() == [.windowUpdate(0, increment: (16 << 20) - 65_535),
                                        .headers(1, [":status: 200", "content-length: 11"], endStream: false),
                                        .data(1, length: 11, endStream: true)], "\(summary)")
        #expect(String(decoding: dataBytes(frames, streamID: 1), as: UTF8.self) == "response up")
        // Then HTTP/2 proper: stream 3.
        try await connection.send(Array(joined([settingsAckFrame(),
                                                headersFrame(streamID: 3, block: encodeBlock(requestHead(path: "/n/h2")), endStream: true)]).readableBytesView))
        let more = try await Self.readFrames(connection, decoder: &decoder, until: Self.endsStream(3))
        #expect(String(decoding: dataBytes(more, streamID: 3), as: UTF8.self) == "response h2")
        try await server.stop()
    }

    // MARK: Graceful shutdown

    @Test func rfc9113Section6_8AGracefulShutdownAnswersTheRequestInFlightThenCloses() async throws {
        let server = try await Self.start()
        let connection = try RawHTTP1Connection(port: server.port)
        try await connection.send("GET /wait HTTP/1.1\r\nHost: a\r\n\r\n")
        try await waitUntilTrue("the handler to start") { server.meter.handlersWaiting.load(ordering: .relaxed) == 1 }
        server.server.beginGracefulShutdown(deadline: .now + .seconds(20))
        // The connection's GOAWAY was written (one loop: this runs after it).
        try await server.group.next().submit {}.get()
        server.meter.release.store(true, ordering: .relaxed)
        #expect(try await connection.readResponse().text == Self.expected("wait", close: true))
        #expect(try await connection.readUntilClosed().isEmpty)
        try await withDeadline(10, "serve() after the graceful shutdown") { try await server.server.serve() }
        #expect(server.server.connectionCount == 0)
        try await server.group.shutdownGracefully()
    }
}
