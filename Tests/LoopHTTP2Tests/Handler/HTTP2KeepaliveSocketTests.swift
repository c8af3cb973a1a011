import Foundation
import InteropTestSupport
import Loop
import Synchronization
import Testing
@testable import LoopHTTP2

/// Keepalive and the maximum connection age on real sockets, driven by the handler's one timer
/// per connection (HTTP2Keepalive beside HTTP2Timeouts): a peer that completes the handshake
/// and then answers nothing is closed after the interval and the timeout (RFC 9113 §6.7), a
/// peer that answers is kept, and a connection past its age gets GOAWAY "max_age" and, once
/// the grace is over, GOAWAY(NO_ERROR) and the close (§6.8).
@Suite(.serialized) struct HTTP2KeepaliveSocketTests {
    /// A count shared with a closure that runs on the loop.
    final class Counter: Sendable {
        private let count = Atomic<Int>(0)
        func add() { count.add(1, ordering: .relaxed) }
        var value: Int { count.load(ordering: .relaxed) }
    }

    /// A raw client that completes the handshake and then sends nothing (it acknowledges no
    /// PING); returns the frames the server sent and how long it took to close: `seconds` from
    /// before the connect (the server's clocks start at its accept, so on a loaded machine this
    /// is never shorter than what the server measured: the lower bounds use it) and `sinceWrite`
    /// from after the handshake's write (a slow connect does not count: the upper bounds use it).
    private static func silentPeer(configuration: HTTP2Configuration) async throws -> (frames: [HTTP2Frame], seconds: Double, sinceWrite: Double) {
        let group = EventLoopGroup(numberOfThreads: 1)
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group, configuration: configuration) { _, response in
            try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: "ok"))
        }
        let closed = group.next().makePromise(of: ByteBuffer.self)
        // The server's clocks start at its accept: time from before the connect, so a loaded
        // machine can only make the measured time longer, never shorter than the server's.
        let start = ContinuousClock.now
        let client = try await ClientBootstrap(group: group)
            .channelInitializer { try $0.pipeline.addHandler(HTTP2HandshakeTimeoutTests.Recorder(closed: closed)) }
            .connect(host: "127.0.0.1", port: server.localAddress!.port).get()
        // On a loaded machine the server may have closed before this write: what it sent is recorded anyway.
        try? await client.writeAndFlush(joined([prefaceBytes(), settingsFrame(), settingsAckFrame()])).get()
        let written = ContinuousClock.now
        let received = try await withDeadline(10, "the server's close") { try await closed.futureResult.get() }
        let elapsed = ContinuousClock.now - start
        let sinceWrite = ContinuousClock.now - written
        var decoder = HTTP2FrameDecoder(role: .client)
        decoder.append(received)
        var frames: [HTTP2Frame] = []
        while let frame = try decoder.nextFrame() { frames.append(frame) }
        try await server.close()
        try await group.shutdownGracefully()
        func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }
        return (frames, seconds(elapsed), seconds(sinceWrite))
    }

    @Test func rfc9113Section6_7APeerThatNeverAcknowledgesIsClosedAfterTheIntervalAndTheTimeout() async throws {
        var configuration = HTTP2Configuration(role: .server)
        configuration.keepalive = .init(interval: .milliseconds(300), timeout: .milliseconds(300), permitWithoutCalls: true)
        let result = try await Self.silentPeer(configuration: configuration)
        let pings = result.frames.filter { if case .ping(HTTP2Keepalive.pingData, false) = $0.payload { true } else { false } }
        #expect(pings.count == 1, "\(result.frames.map(FrameSummary.init))")
        // No GOAWAY: a peer that answers nothing reads nothing.
        #expect(!result.frames.contains { if case .goAway = $0.payload { true } else { false } })
        #expect(result.seconds >= 0.59 && result.sinceWrite < 5, "closed after \(result.seconds) s (\(result.sinceWrite) s after the write)")
    }

    @Test func rfc9113Section6_8TheMaximumAgeSendsMaxAgeAndTheGraceClosesAPeerThatNeverAnswers() async throws {
        // The silent peer never acknowledges the shutdown's PING, so only the grace ends it.
        var configuration = HTTP2Configuration(role: .server)
        configuration.maxConnectionAge = .milliseconds(300)
        configuration.maxConnectionAgeGrace = .milliseconds(300)
        let result = try await Self.silentPeer(configuration: configuration)
        let goAways = result.frames.compactMap { frame -> String? in
            guard case .goAway(let last, let code, let debug) = frame.payload else { return nil }
            return "\(last) \(code) \(String(decoding: debug.readableBytesView, as: UTF8.self))"
        }
        #expect(goAways == ["2147483647 NO_ERROR max_age", "0 NO_ERROR max connection age grace of 0.3 seconds passed"],
                "\(result.frames.map(FrameSummary.init))")
        #expect(result.frames.contains { if case .ping(HTTP2Shutdown.pingData, false) = $0.payload { true } else { false } })
        // 300 ms ± 10 % of age, then 300 ms of grace (then up to the linger's second).
        #expect(result.seconds >= 0.56 && result.sinceWrite < 5, "closed after \(result.seconds) s (\(result.sinceWrite) s after the write)")
    }

    @Test func rfc9113Section6_7AClientThatAnswersIsKeptAndItsRequestsServed() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        var configuration = HTTP2Configuration(role: .server)
        configuration.keepalive = .init(interval: .milliseconds(100), timeout: .milliseconds(500), permitWithoutCalls: true)
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group, configuration: configuration) { _, response in
            try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: "ok"))
        }
        let pingsAnswered = Counter()
        let ack = "send PING ACK opaque=0x\(String(HTTP2Keepalive.pingData, radix: 16))"
        let client = try await HTTP2Client.connect(host: "127.0.0.1", port: server.localAddress!.port, group: group,
                                                   frameLogger: { line in if line.contains(ack) { pingsAnswered.add() } })
        try await Task.sleep(for: .milliseconds(1500))
        let response = try await client.send(HTTP2RequestHead(method: "GET", path: "/", authority: "127.0.0.1"))
        #expect(response.head.status == 200)
        #expect(client.channel.isActive)
        // One PING per 100 ms of quiet, each after the last ACK: about 10 in 1.5 s on a quiet
        // machine; at least 3 on a loaded one.
        #expect(pingsAnswered.value >= 3, "\(pingsAnswered.value) PINGs answered")
        try await client.close()
        try await server.close()
        try await group.shutdownGracefully()
    }
}
