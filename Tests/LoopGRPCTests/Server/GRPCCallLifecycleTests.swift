import Testing
import Synchronization
import Loop
import LoopHTTP2
@testable import LoopGRPC
import LoopGRPCProtobuf
import InteropTestSupport

/// Cancellation, early ends, health and reconnection across a real connection.
@Suite struct GRPCCallLifecycleTests {
    let codec = ByteBufferCodec()

    /// Records what a handler saw, shared between the server's handler and the test.
    final class Observed: Sendable {
        let state = Mutex<(started: Bool, cancelled: Bool)>((false, false))
    }

    struct Probe: GRPCService {
        let observed: Observed
        func register(with router: inout GRPCRouter) {
            let codec = ByteBufferCodec()
            router.registerUnary("/probe.P/Wait", deserializer: codec, serializer: codec) { request, context in
                observed.state.withLock { $0.started = true }
                do {
                    try await Task.sleep(for: .seconds(20))
                } catch {
                    observed.state.withLock { $0.cancelled = context.isCancelled && Task.isCancelled }
                    throw error
                }
                return request
            }
            // Answers after the first request message, while the client is still sending.
            router.registerClientStreaming("/probe.P/First", deserializer: codec, serializer: codec) { requests, _ in
                for try await request in requests { return request }
                return ByteBuffer()
            }
        }
    }

    func withProbe(_ body: (GRPCChannel, Observed) async throws -> Void) async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let observed = Observed()
        let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [Probe(observed: observed)])
        let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: group)
        try await body(channel, observed)
        await channel.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    /// RST_STREAM(CANCEL) from the client cancels the handler's task and its context.
    @Test func clientCancellationReachesTheHandler() async throws {
        try await withProbe { channel, observed in
            let codec = self.codec
            let call = Task {
                try await channel.unary(path: "/probe.P/Wait", request: ByteBuffer(), serializer: codec, deserializer: codec, options: GRPCCallOptions())
            }
            // Each wait has its own limit, and the cancel waits for the handler to be running: a
            // call cancelled before its handler started has no handler to reach (on a loaded
            // machine the start alone once took longer than a shared 5 s limit).
            let started = ContinuousClock.now + .seconds(10)
            while !observed.state.withLock({ $0.started }) && ContinuousClock.now < started { try await Task.sleep(for: .milliseconds(10)) }
            try #require(observed.state.withLock { $0.started }, "the handler did not start within 10 s")
            call.cancel()
            await #expect(throws: GRPCStatus.self) { _ = try await call.value }
            let cancelled = ContinuousClock.now + .seconds(10)
            while !observed.state.withLock({ $0.cancelled }) && ContinuousClock.now < cancelled { try await Task.sleep(for: .milliseconds(10)) }
            #expect(observed.state.withLock { $0.cancelled })
        }
    }

    /// The stream-end rule (docs/architecture.md), server side: the response completes before the request
    /// does; the server resets with NO_ERROR and the client keeps the OK status.
    @Test func serverEndsBeforeTheClientFinishedSending() async throws {
        try await withProbe { channel, _ in
            let response = try await channel.clientStreaming(path: "/probe.P/First", serializer: codec, deserializer: codec,
                                                             options: GRPCCallOptions()) { requests in
                try await requests.send(ByteBuffer(string: "first"))
                // Keep sending until the server's end stops us.
                for _ in 0..<10_000 {
                    try await requests.send(ByteBuffer(bytes: [UInt8](repeating: 7, count: 1024)))
                }
            }
            #expect(text(response.message) == "first")
        }
    }

    /// The stream-end rule, client side: a server that aborts a bidi call with trailers and
    /// sends no RST_STREAM (allowed by RFC 9113) leaves the client's request side open; the
    /// client ends it itself, so 1,000 such calls share one connection and `close()` returns
    /// at once instead of waiting for streams nobody will finish.
    @Test func clientReleasesTheStreamWhenTheServerEndsWithoutAReset() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        var router = GRPCRouter()
        router.registerBidirectionalStreaming("/probe.P/Abort", deserializer: codec, serializer: codec) { _, _, _ in
            throw GRPCStatus(.permissionDenied, "no")
        }
        var configuration = GRPCServerConfiguration()
        configuration.http2.unfinishedRequestPolicy = .waitForClient
        let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, router: router, configuration: configuration)
        let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: group)
        let codec = self.codec
        for _ in 0..<1000 {
            do {
                // The request side is left open on purpose: no `requests.finish()`.
                try await channel.bidirectionalStreaming(path: "/probe.P/Abort", serializer: codec, deserializer: codec,
                                                         options: GRPCCallOptions()) { requests, responses in
                    try await requests.send(ByteBuffer(string: "hello"))
                    for try await _ in responses {}
                }
                Issue.record("the call succeeded")
            } catch let status as GRPCStatus {
                #expect(status.code == .permissionDenied, "\(status)")
            }
        }
        #expect(channel.connectionCount == 1)
        let start = ContinuousClock.now
        do {
            try await withDeadline(5, "channel.close() with 1,000 aborted calls behind it") { await channel.close() }
        } catch {
            Issue.record("\(error)")
        }
        #expect(ContinuousClock.now - start < .seconds(2), "close() waited for streams the client never ended")
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test func healthCheckAndWatch() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let health = GRPCHealthService()
        health.setStatus(.serving, for: "svc")
        let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [health])
        let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: group)
        let client = Grpc_Health_V1_HealthClient(channel: channel)

        #expect(try await client.check(.with { $0.service = "" }).status == .serving)
        #expect(try await client.check(.with { $0.service = "svc" }).status == .serving)
        await #expect(throws: GRPCStatus(.notFound, "unknown service \"other\"")) {
            _ = try await client.check(.with { $0.service = "other" })
        }

        let seen = try await client.watch(.with { $0.service = "svc" }) { responses in
            var seen: [Grpc_Health_V1_HealthCheckResponse.ServingStatus] = []
            for try await response in responses {
                seen.append(response.status)
                if seen.count == 1 { health.setStatus(.notServing, for: "svc") }
                if seen.count == 2 { health.clearStatus(for: "svc") }
                if seen.count == 3 { break }
            }
            return seen
        }
        #expect(seen == [.serving, .notServing, .serviceUnknown])

        await channel.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    /// TRANSIENT_FAILURE, then the server appears: the channel reconnects after its backoff.
    @Test func reconnectsWithBackoffOnceTheServerIsUp() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let probe = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [])
        let port = probe.port
        try await probe.close()

        var configuration = GRPCChannelConfiguration()
        configuration.backoff.initial = .milliseconds(50)
        configuration.backoff.maximum = .milliseconds(200)
        let states = Mutex<[GRPCConnectivityState]>([])
        configuration.onStateChange = { state in states.withLock { $0.append(state) } }
        let channel = GRPCChannel(host: "127.0.0.1", port: port, group: group, configuration: configuration)
        await #expect(throws: GRPCStatus.self) {
            _ = try await channel.unary(path: EchoService.unary, request: ByteBuffer(), serializer: codec, deserializer: codec, options: GRPCCallOptions())
        }
        #expect(channel.connectivityState == .transientFailure)

        let server = try await GRPCServer.bind(host: "127.0.0.1", port: port, group: group, services: [EchoService()])
        // An upper bound only (the backoff is 200 ms at most); a loaded machine took over 5 s once.
        let deadline = ContinuousClock.now + .seconds(20)
        while channel.connectivityState != .ready && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(channel.connectivityState == .ready)
        var options = GRPCCallOptions()
        options.waitForReady = true
        let response = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: "back"), serializer: codec, deserializer: codec, options: options)
        #expect(text(response.message) == "back")
        #expect(states.withLock { $0 }.starts(with: [.connecting, .transientFailure]))
        #expect(states.withLock { $0 }.contains(.ready))

        await channel.close()
        try await server.close()
        try await group.shutdownGracefully()
    }
}

/// grpc-go's readiness rule: a connection counts only once the server's SETTINGS arrived.
@Suite struct GRPCChannelReadinessTests {
    /// Accepts TCP and never speaks HTTP/2.
    final class Silent: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {}
    }

    @Test func serverWithoutSettingsIsUnavailableNotAHang() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let silent = try await ServerBootstrap(group: group)
            .childChannelInitializer { try $0.pipeline.addHandler(Silent()) }
            .bind(host: "127.0.0.1", port: 0).get()
        var configuration = GRPCChannelConfiguration()
        configuration.http2.handshakeTimeout = .milliseconds(200)
        let channel = GRPCChannel(host: "127.0.0.1", port: silent.localAddress!.port, group: group, configuration: configuration)
        let elapsed = try await resumingOnItsOwnLoop {
            let start = ContinuousClock.now
            do {
                _ = try await channel.unary(path: EchoService.unary, request: ByteBuffer(), serializer: ByteBufferCodec(),
                                            deserializer: ByteBufferCodec(), options: GRPCCallOptions())
                Issue.record("the call should fail")
            } catch let status as GRPCStatus {
                #expect(status.code == .unavailable)
                // The handshake timer fired (or, on a very busy machine, closed the connection
                // before the client looked at it).
                #expect(status.message.contains("no SETTINGS from the server within")
                        || status.message.contains("closed before"), "\(status)")
            }
            return ContinuousClock.now - start
        }
        // Without the handshake timer the call would wait forever.
        #expect(elapsed < .seconds(5))
        #expect(channel.connectivityState == .transientFailure)
        await channel.close()
        try await silent.close().get()
        try await group.shutdownGracefully()
    }

    /// A call's deadline covers connecting (gRFC A6's per-attempt deadline includes it in
    /// every gRPC implementation): against a server that never completes the handshake, a
    /// call with a 300 ms deadline fails with DEADLINE_EXCEEDED at its deadline, not with
    /// UNAVAILABLE at the connection's 10 s handshake timeout. A second call made while the
    /// attempt goes on gets its own deadline too.
    @Test func theCallsDeadlineCoversConnecting() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let silent = try await ServerBootstrap(group: group)
            .childChannelInitializer { try $0.pipeline.addHandler(Silent()) }
            .bind(host: "127.0.0.1", port: 0).get()
        let channel = GRPCChannel(host: "127.0.0.1", port: silent.localAddress!.port, group: group)
        var options = GRPCCallOptions()
        options.timeout = .milliseconds(300)
        for _ in 0..<2 {
            let elapsed = try await resumingOnItsOwnLoop {
                let start = ContinuousClock.now
                do {
                    _ = try await channel.unary(path: EchoService.unary, request: ByteBuffer(), serializer: ByteBufferCodec(),
                                                deserializer: ByteBufferCodec(), options: options)
                    Issue.record("the call should fail")
                } catch let status as GRPCStatus {
                    #expect(status.code == .deadlineExceeded, "\(status)")
                    #expect(status.message.contains("while connecting"), "\(status)")
                }
                return ContinuousClock.now - start
            }
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(5), "\(elapsed)")
        }
        await channel.close()
        try await silent.close().get()
        try await group.shutdownGracefully()
    }
}
