import CoreMetrics
import InMemoryLogging
import InteropTestSupport
import Logging
import Loop
import LoopTLS
import MetricsTestKit
import Testing
@testable import LoopHTTP2

/// What HTTP/2 connections log and count (Observability/): connections accepted, open and
/// closed by reason; streams; resets sent and received by code; abuse-limit trips; and the
/// log lines of a protocol violation, a handler error and a TLS handshake failure, with
/// their level and metadata.
@Suite struct HTTP2ObservabilityTests {
    private final class NoStreams: HTTP2StreamDelegate {
        func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {}
    }

    /// A server handler on an embedded channel counting into `metrics` and logging into
    /// `logs`, after the client's preface and SETTINGS.
    private func startedServer(_ metrics: TestMetrics, _ logs: InMemoryLogHandler = InMemoryLogHandler(),
                               configure: (inout HTTP2Configuration) -> Void = { _ in }) throws -> EmbeddedChannel {
        var configuration = HTTP2Configuration(role: .server)
        var handler = logs
        handler.logLevel = .trace
        configuration.logger = Logger(label: "test", factory: { _ in handler })
        configure(&configuration)
        let channel = EmbeddedChannel(handlers: [HTTP2ConnectionHandler(configuration: configuration, delegate: NoStreams(),
                                                                         metrics: HTTP2Metrics(factory: metrics, role: .server))])
        try channel.writeInbound(joined([prefaceBytes(), settingsFrame()]))
        while try channel.readOutbound(as: ByteBuffer.self) != nil {}
        return channel
    }

    private func counter(_ metrics: TestMetrics, _ label: String, _ dimensions: [(String, String)] = []) -> Int64 {
        (try? metrics.expectCounter(label, dimensions).totalValue) ?? 0
    }

    private func openConnections(_ metrics: TestMetrics) throws -> Double? {
        try metrics.expectMeter("loop_http2_connections_open").lastValue
    }

    @Test func connectionsAreCountedAcceptedOpenAndClosedByReason() throws {
        let metrics = TestMetrics()
        let violating = try startedServer(metrics)
        let graceful = try startedServer(metrics)
        #expect(counter(metrics, "loop_http2_connections_accepted_total") == 2)
        #expect(try openConnections(metrics) == 2)

        // A PING on a stream: GOAWAY(PROTOCOL_ERROR) and the close (RFC 9113 §6.7, §5.4.1).
        try violating.writeInbound(pingFrame(1, streamID: 1))
        #expect(!violating.isActive)
        #expect(counter(metrics, "loop_http2_connections_closed_total", [("reason", "protocol_error")]) == 1)
        #expect(try openConnections(metrics) == 1)

        // The peer's GOAWAY with no stream open: our GOAWAY, a FIN, the close after the linger.
        try graceful.writeInbound(goAwayFrame(lastStreamID: 0, code: .noError))
        graceful.eventLoop.advanceTime(by: HTTP2ConnectionHandler.lingerTimeout)
        #expect(!graceful.isActive)
        #expect(counter(metrics, "loop_http2_connections_closed_total", [("reason", "graceful")]) == 1)
        #expect(try openConnections(metrics) == 0)

        // A socket that just closes.
        let dropped = try startedServer(metrics)
        dropped.close()
        #expect(counter(metrics, "loop_http2_connections_closed_total", [("reason", "peer_closed")]) == 1)
        #expect(counter(metrics, "loop_http2_connections_accepted_total") == 3)
        #expect(try openConnections(metrics) == 0)
    }

    @Test func streamsAndResetsAreCountedByCodeEachWay() throws {
        let metrics = TestMetrics()
        let channel = try startedServer(metrics)
        var encoder = HPACKEncoder()
        // Stream 1: a request the client then cancels.
        try channel.writeInbound(headersFrame(streamID: 1, block: encodeBlock(requestHead(), with: &encoder)))
        try channel.writeInbound(rstStreamFrame(streamID: 1, code: .cancel))
        // Stream 3: an uppercase header name, a stream error (RFC 9113 §8.2.1): RST_STREAM(PROTOCOL_ERROR).
        try channel.writeInbound(headersFrame(streamID: 3, block: encodeBlock(requestHead(extra: [("X-Upper", "1")]), with: &encoder)))
        #expect(channel.isActive)
        #expect(counter(metrics, "loop_http2_streams_opened_total") == 1)
        #expect(counter(metrics, "loop_http2_resets_received_total", [("code", "CANCEL")]) == 1)
        #expect(counter(metrics, "loop_http2_resets_sent_total", [("code", "PROTOCOL_ERROR")]) == 1)
        #expect(metrics.counters(label: "loop_http2_resets_sent_total").count == 1)  // no series for codes never sent
    }

    @Test func anAbuseLimitTripIsCountedByLimit() throws {
        let metrics = TestMetrics()
        let channel = try startedServer(metrics) { $0.glitchBudget = .init(burst: 3, perSecond: 0) }
        // PINGs with no traffic to pay for them: the fourth spends the budget.
        for opaque in 1...4 where channel.isActive { try channel.writeInbound(pingFrame(UInt64(opaque))) }
        #expect(!channel.isActive)
        #expect(counter(metrics, "loop_http2_abuse_limit_trips_total", [("limit", "glitch_budget")]) == 1)
        #expect(counter(metrics, "loop_http2_connections_closed_total", [("reason", "abuse_limit")]) == 1)
    }

    @Test func aCONTINUATIONFloodIsCountedAsItsOwnLimit() throws {
        let metrics = TestMetrics()
        let channel = try startedServer(metrics) { $0.maxContinuationFrames = 2 }
        try channel.writeInbound(headersFrame(streamID: 1, block: [], endHeaders: false))
        for _ in 0..<3 where channel.isActive { try channel.writeInbound(continuationFrame(streamID: 1, block: [], endHeaders: false)) }
        #expect(!channel.isActive)
        #expect(counter(metrics, "loop_http2_abuse_limit_trips_total", [("limit", "continuation_frames")]) == 1)
    }

    // The timeouts read the monotonic clock: a little real time passes, then the embedded
    // loop's time moves past the timer.
    @Test func anIdleTimeoutIsAReasonOfItsOwn() async throws {
        let metrics = TestMetrics()
        let channel = try startedServer(metrics) { $0.idleTimeout = .milliseconds(20) }
        try await Task.sleep(for: .milliseconds(40))
        channel.eventLoop.advanceTime(by: .seconds(1))
        channel.eventLoop.advanceTime(by: HTTP2ConnectionHandler.lingerTimeout)
        #expect(!channel.isActive)
        #expect(counter(metrics, "loop_http2_connections_closed_total", [("reason", "idle_timeout")]) == 1)
    }

    @Test func aHeaderBlockTimeoutIsAnAbuseLimitTrip() async throws {
        let metrics = TestMetrics()
        let channel = try startedServer(metrics) { $0.headerBlockTimeout = .milliseconds(20) }
        try channel.writeInbound(headersFrame(streamID: 1, block: [], endHeaders: false))
        try await Task.sleep(for: .milliseconds(40))
        channel.eventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
        #expect(counter(metrics, "loop_http2_abuse_limit_trips_total", [("limit", "header_block_timeout")]) == 1)
        #expect(counter(metrics, "loop_http2_connections_closed_total", [("reason", "abuse_limit")]) == 1)
    }

    // MARK: Logs

    @Test func aProtocolViolationIsLoggedWithItsCodeAndReason() throws {
        let logs = InMemoryLogHandler()
        let channel = try startedServer(TestMetrics(), logs)
        var encoder = HPACKEncoder()
        try channel.writeInbound(headersFrame(streamID: 1, block: encodeBlock(requestHead(extra: [("X-Upper", "1")]), with: &encoder)))
        try channel.writeInbound(pingFrame(1, streamID: 1))

        let streamError = try #require(logs.entries.first { $0.message == "HTTP/2 stream error: RST_STREAM sent" })
        #expect(streamError.level == .info)
        #expect(streamError.metadata["http2.error_code"] == "PROTOCOL_ERROR")
        #expect(streamError.metadata["http2.stream_id"] == "1")
        #expect(streamError.metadata["http2.reason"]?.description.contains("RFC 9113") == true)
        #expect(streamError.metadata["loop.connection_id"] != nil)

        let connectionError = try #require(logs.entries.first { $0.message == "HTTP/2 connection error: GOAWAY sent" })
        #expect(connectionError.level == .notice)
        #expect(connectionError.metadata["http2.error_code"] == "PROTOCOL_ERROR")
        #expect(connectionError.metadata["http2.reason"]?.description.contains("§6.7") == true)

        let closed = try #require(logs.entries.first { $0.message == "HTTP/2 connection closed" })
        #expect(closed.level == .debug)
        #expect(closed.metadata["loop.close_reason"] == "protocol_error")
        #expect(logs.entries.map(\.message.description).prefix(2) == ["HTTP/2 connection accepted", "HTTP/2 connection ready"])
    }

    @Test func anAbuseLimitIsLoggedAtNoticeNamingTheLimit() throws {
        let logs = InMemoryLogHandler()
        let channel = try startedServer(TestMetrics(), logs) { $0.glitchBudget = .init(burst: 1, perSecond: 0) }
        for opaque in 1...2 where channel.isActive { try channel.writeInbound(pingFrame(UInt64(opaque))) }
        let entry = try #require(logs.entries.first { $0.message == "HTTP/2 abuse limit: GOAWAY sent" })
        #expect(entry.level == .notice)
        #expect(entry.metadata["http2.error_code"] == "ENHANCE_YOUR_CALM")
        #expect(entry.metadata["http2.abuse_limit"] == "glitch_budget")
        #expect(entry.metadata["http2.reason"]?.description.contains("PING frames") == true)
    }

    @Test func theDefaultLoggerLogsNothingAndAddsNoMetadata() throws {
        let handler = HTTP2ConnectionHandler(configuration: .init(role: .server), delegate: NoStreams())
        let channel = EmbeddedChannel(handlers: [handler])
        try channel.writeInbound(joined([prefaceBytes(), settingsFrame()]))
        #expect(handler.logger.handler is SwiftLogNoOpLogHandler)
        #expect(handler.logger[metadataKey: "loop.connection_id"] == nil)
    }

    @Test func aFailingRequestHandlerIsLoggedWithMethodPathAndStatus() async throws {
        struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }
        let logs = InMemoryLogHandler()
        var configuration = HTTP2Configuration(role: .server)
        configuration.logger = Logger(label: "test", factory: { _ in logs })
        let group = EventLoopGroup(numberOfThreads: 1)
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group, configuration: configuration) { request, response in
            if request.head.path == "/late" { try await response.sendHead(HTTP2ResponseHead(status: 200)) }
            throw Boom()
        }
        let client = try await HTTP2Client.connect(host: "127.0.0.1", port: server.localAddress!.port, group: group)
        let response = try await client.send(HTTP2RequestHead(method: "POST", path: "/early", authority: "127.0.0.1"))
        #expect(response.head.status == 500)
        let late = try await client.send(HTTP2RequestHead(method: "GET", path: "/late", authority: "127.0.0.1"))
        await #expect(throws: (any Error).self) { _ = try await late.body.collect(upTo: 1024) }
        try await client.close()
        try await server.close()
        try await group.shutdownGracefully()

        let failures = logs.entries.filter { $0.message == "HTTP/2 request handler failed" }
        #expect(failures.count == 2)
        let early = try #require(failures.first { $0.metadata["http.path"] == "/early" })
        #expect(early.level == .error)
        #expect(early.metadata["http.method"] == "POST")
        #expect(early.metadata["http.status"] == "500")
        #expect(early.metadata["error"] == "boom")
        #expect(early.metadata["loop.remote_address"]?.description.hasPrefix("127.0.0.1:") == true)
        let reset = try #require(failures.first { $0.metadata["http.path"] == "/late" })
        #expect(reset.metadata["http2.reset_code"] == "INTERNAL_ERROR")
        #expect(reset.metadata["http.method"] == "GET")
    }

    @Test func aTLSHandshakeFailureIsLoggedWithTheTLSErrorOnBothEnds() async throws {
        let certificates = try await TestCertificates.shared()
        let serverLogs = InMemoryLogHandler()
        var serverConfiguration = HTTP2Configuration(role: .server)
        serverConfiguration.logger = Logger(label: "server", factory: { _ in serverLogs })
        let group = EventLoopGroup(numberOfThreads: 1)
        let tls = TLSConfiguration.server(certificateChain: .file(certificates.file("self-signed.pem")),
                                          privateKey: .file(certificates.file("self-signed.key")))
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group, configuration: serverConfiguration, tls: tls) { _, response in
            try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer())
        }
        let clientLogs = InMemoryLogHandler()
        var clientConfiguration = HTTP2Configuration(role: .client)
        clientConfiguration.logger = Logger(label: "client", factory: { _ in clientLogs })
        await #expect(throws: TLSError.self) {
            _ = try await HTTP2Client.connect(host: "localhost", port: server.localAddress!.port, group: group,
                                              configuration: clientConfiguration,
                                              tls: .client(trustRoots: .pem(.file(certificates.file("ca.pem")))))
        }
        let clientEntry = try #require(clientLogs.entries.first { $0.message == "TLS handshake failed" })
        #expect(clientEntry.level == .info)
        #expect(clientEntry.metadata["error"]?.description.contains("certificate verify failed: self-signed certificate") == true)

        // The server hears the client's alert.
        let deadline = ContinuousClock.now + .seconds(5)
        while !serverLogs.entries.contains(where: { $0.message == "TLS handshake failed" }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let serverEntry = try #require(serverLogs.entries.first { $0.message == "TLS handshake failed" })
        #expect(serverEntry.level == .info)
        #expect(serverEntry.metadata["error"]?.description.contains("alert") == true)
        try await server.close()
        try await group.shutdownGracefully()
    }
}
