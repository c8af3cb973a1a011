import Foundation
import InteropSupport
import InteropTestSupport
import Loop
import LoopHTTP2
@testable import LoopGRPC
import LoopGRPCProtobuf
import Synchronization
import Testing

/// LoopHTTP2's HTTP2Proxy (the GRPCProxy example's engine) between our GRPCChannel and
/// TestService backends, over real sockets on 127.0.0.1: every call kind with 4 MiB
/// messages and metadata, aborted bidi calls, a 1 GB download to a slow reader with the
/// proxy's buffering measured, a backend killed mid-stream, backends down or unreachable, and
/// a backend's graceful shutdown under traffic. Each test runs under a hard deadline.
@Suite(.serialized) struct GRPCProxyTests {
    // MARK: Set-up

    /// A TestService backend on a free port (its own loop), and something to stop it.
    final class Backend: Sendable {
        let port: Int
        let group: EventLoopGroup
        let listener: HTTP2Server

        let health = GRPCHealthService()

        init(serverID: String = "backend", maxConcurrentStreams: UInt32? = 1000) async throws {
            group = EventLoopGroup(numberOfThreads: 1)
            var router = GRPCRouter()
            TestService(serverID: serverID).register(with: &router)
            health.register(with: &router)
            let routes = router
            var configuration = GRPCServerConfiguration()
            configuration.maxReceiveMessageSize = 8 << 20
            configuration.http2.maxConcurrentStreams = maxConcurrentStreams
            let fixed = configuration
            listener = try await HTTP2Server.bind(.hostAndPort(host: "127.0.0.1", port: 0), group: group, configuration: fixed.http2) { channel in
                GRPCServerConnection(router: routes, configuration: fixed, loop: channel.eventLoop)
            }
            port = listener.localAddress!.port
        }

        /// Stops listening and shuts every connection down gracefully (GOAWAY, in-flight
        /// streams finish).
        func shutDownGracefully() async throws {
            listener.beginGracefulShutdown()
        }

        func stop() async {
            try? await listener.close()
            try? await group.shutdownGracefully()
        }
    }

    /// A proxy in front of `upstreams` (ports on 127.0.0.1), with a client channel to it.
    static func withProxy<T: Sendable>(
        upstreams: [Int], seconds: Double = 60, _ what: String,
        configure: (inout HTTP2ProxyConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (HTTP2Proxy, GRPCChannel, Grpc_Testing_TestServiceClient) async throws -> T
    ) async throws -> T {
        let proxyGroup = EventLoopGroup(numberOfThreads: 1)
        var configuration = HTTP2ProxyConfiguration(upstreams: upstreams.map { .hostAndPort(host: "127.0.0.1", port: $0) })
        configuration.connectTimeout = .seconds(2)
        configure(&configuration)
        let proxy = try await HTTP2Proxy.bind(host: "127.0.0.1", port: 0, group: proxyGroup, configuration: configuration)
        let clientGroup = EventLoopGroup(numberOfThreads: 1)
        let channel = GRPCChannel(host: "127.0.0.1", port: proxy.port, group: clientGroup)
        let client = Grpc_Testing_TestServiceClient(channel: channel)
        defer { _ = proxyGroup; _ = clientGroup }
        do {
            let result = try await withDeadline(seconds, what) { try await body(proxy, channel, client) }
            await channel.close()
            try? await proxy.close()
            try? await clientGroup.shutdownGracefully()
            try? await proxyGroup.shutdownGracefully()
            return result
        } catch {
            await channel.close()
            try? await proxy.close()
            try? await clientGroup.shutdownGracefully()
            try? await proxyGroup.shutdownGracefully()
            throw error
        }
    }

    static func options(timeout: Duration = .seconds(30)) -> GRPCCallOptions {
        var options = GRPCCallOptions()
        options.timeout = timeout
        options.maxReceiveMessageSize = 8 << 20
        return options
    }

    // MARK: 1. Every call kind, 4 MiB messages, metadata

    @Test func everyCallKindWithFourMebibyteMessagesAndMetadata() async throws {
        let backend = try await Backend()
        defer { Task { await backend.stop() } }
        let big = 4 << 20
        try await Self.withProxy(upstreams: [backend.port], "4 MiB calls through the proxy") { _, channel, client in
            var options = Self.options()
            options.metadata.add("x-grpc-test-echo-initial", "initial value")
            options.metadata.add(binary: "x-grpc-test-echo-trailing-bin", [0xab, 0x00, 0xff, 0x10])
            // Unary: 4 MiB each way, metadata both ways.
            let unary = try await client.unaryCall(simpleRequest(requestSize: big, responseSize: big), options: options) { $0 }
            #expect(unary.message.payload.body.count == big && unary.message.payload.body.allSatisfy { $0 == 0 })
            #expect(unary.initialMetadata["x-grpc-test-echo-initial"] == "initial value")
            #expect(unary.trailingMetadata.binary("x-grpc-test-echo-trailing-bin") == [0xab, 0x00, 0xff, 0x10])
            // Client streaming: three 4 MiB messages up.
            let aggregated = try await client.streamingInputCall(options: options) { requests in
                for _ in 0..<3 { try await requests.send(Grpc_Testing_StreamingInputCallRequest.with { $0.payload = zeros(big) }) }
            } onResponse: { $0 }
            #expect(aggregated.message.aggregatedPayloadSize == Int32(3 * big))
            #expect(aggregated.trailingMetadata.binary("x-grpc-test-echo-trailing-bin") == [0xab, 0x00, 0xff, 0x10])
            // Server streaming: three 4 MiB messages down.
            let sizes = try await client.streamingOutputCall(streamingRequest(responseSizes: [big, big, big]), options: options) { responses in
                var sizes: [Int] = []
                for try await response in responses { sizes.append(response.payload.body.count) }
                #expect(try await responses.initialMetadata["x-grpc-test-echo-initial"] == "initial value")
                #expect(await responses.trailingMetadata.binary("x-grpc-test-echo-trailing-bin") == [0xab, 0x00, 0xff, 0x10])
                return sizes
            }
            #expect(sizes == [big, big, big])
            // Bidi: 4 MiB up and down, twice, interleaved.
            let rounds = try await client.fullDuplexCall(options: options) { requests, responses in
                var count = 0
                var iterator = responses.makeAsyncIterator()
                for _ in 0..<2 {
                    try await requests.send(streamingRequest(requestSize: big, responseSizes: [big]))
                    let response = try await iterator.next()
                    if response?.payload.body.count == big { count += 1 }
                }
                try await requests.finish()
                while try await iterator.next() != nil {}
                return count
            }
            #expect(rounds == 2)
            // And the interop cases our client runs (cancellations, deadlines, statuses,
            // unimplemented methods), all through the proxy.
            for name in interopClientCases {
                let testCase = try #require(InteropTestCase(rawValue: name))
                do {
                    try await testCase.run(on: channel)
                } catch {
                    Issue.record("\(name) through the proxy: \(error)")
                }
            }
        }
    }

    // MARK: 2. The bidi abort

    /// FullDuplexCall whose first request asks for status 7; the client never half-closes.
    @Test func thousandAbortedBidiCallsEndPermissionDenied() async throws {
        let backend = try await Backend()
        defer { Task { await backend.stop() } }
        let (denied, other) = try await Self.withProxy(upstreams: [backend.port], "1,000 aborted bidi calls") { proxy, _, client in
            var denied = 0
            var other: [String] = []
            for _ in 0..<1000 {
                do {
                    try await client.fullDuplexCall(options: Self.options(timeout: .seconds(10))) { requests, responses in
                        try await requests.send(Grpc_Testing_StreamingOutputCallRequest.with {
                            $0.responseStatus = Grpc_Testing_EchoStatus.with { $0.code = 7; $0.message = "denied by request" }
                        })
                        for try await _ in responses {}
                    }
                    other.append("OK")
                } catch let status as GRPCStatus {
                    if status.code == .permissionDenied && status.message == "denied by request" { denied += 1 } else { other.append("\(status)") }
                }
            }
            return (denied, other)
        }
        print("GRPCProxyTests: aborted bidi calls: \(denied)/1000 PERMISSION_DENIED, other outcomes: \(other.prefix(5))")
        #expect(denied == 1000, "other outcomes: \(other.prefix(10))")
    }

    // MARK: 3. 1 GB to a slow reader

    @Test func oneGigabyteToASlowReaderWithBoundedProxyBuffering() async throws {
        let backend = try await Backend()
        defer { Task { await backend.stop() } }
        let messageSize = 1 << 20
        let messages = 1024
        let start = ContinuousClock.now
        let (received, statistics) = try await Self.withProxy(upstreams: [backend.port], seconds: 90, "1 GB through the proxy") { proxy, _, client in
            let request = Grpc_Testing_StreamingOutputCallRequest.with {
                $0.responseParameters = Array(repeating: Grpc_Testing_ResponseParameters.with { $0.size = Int32(messageSize) }, count: messages)
            }
            let received = try await client.streamingOutputCall(request, options: Self.options(timeout: .seconds(85))) { responses in
                var total = 0
                var count = 0
                for try await response in responses {
                    total += response.payload.body.count
                    count += 1
                    // A slow reader: a pause every 16 messages (16 MiB).
                    if count % 16 == 0 { try await Task.sleep(for: .milliseconds(20)) }
                }
                return total
            }
            return (received, await proxy.statistics())
        }
        let elapsed = ContinuousClock.now - start
        // What the proxy may hold: the upstream's stream window (response bytes not yet
        // credited) plus the downstream's (request bytes), each 1 MiB by default.
        let bound = Int(HTTP2ProxyConfiguration(upstreams: []).upstream.initialStreamWindowSize
                        + HTTP2ProxyConfiguration(upstreams: []).downstream.initialStreamWindowSize)
        print("GRPCProxyTests: 1 GiB through the proxy in \(elapsed); max bytes held by the proxy \(statistics.maxHeldBytes) (bound \(bound)), held at the end \(statistics.heldBytes)")
        #expect(received == messageSize * messages)
        #expect(statistics.maxHeldBytes <= bound)
        #expect(statistics.heldBytes == 0)
    }

    // MARK: 4. Upstream killed mid-stream

    @Test func upstreamKilledMidStreamEndsTheCallPromptly() async throws {
        let server = try await startServer(try locateBuiltProduct("InteropServer"), name: "InteropServer") {
            ["--host", "127.0.0.1", "--port", String($0), "--threads", "1"]
        }
        let outcome = try await Self.withProxy(upstreams: [server.port], seconds: 30, "a call whose backend dies") { _, _, client in
            let request = Grpc_Testing_StreamingOutputCallRequest.with {
                $0.responseParameters = Array(repeating: Grpc_Testing_ResponseParameters.with { $0.size = 10; $0.intervalUs = 100_000 }, count: 100)
            }
            do {
                try await client.streamingOutputCall(request, options: Self.options(timeout: .seconds(20))) { responses in
                    var first = true
                    for try await _ in responses where first {
                        first = false
                        await server.process.stop(grace: 1)
                    }
                }
                return "OK"
            } catch let status as GRPCStatus {
                return "\(status.code)"
            }
        }
        await server.process.stop()
        print("GRPCProxyTests: backend killed mid-stream: the call ended \(outcome)")
        #expect(outcome == "\(GRPCStatus.Code.unavailable)", "the call ended \(outcome)")
    }

    // MARK: 5. One upstream of three down

    @Test func oneUpstreamOfThreeDownFailsNoCall() async throws {
        let first = try await Backend()
        let second = try await Backend()
        defer { Task { await first.stop(); await second.stop() } }
        let dead = try freeLocalPort()
        let (failures, statistics) = try await Self.withProxy(upstreams: [first.port, dead, second.port], "300 calls, one upstream down") { proxy, _, client in
            var failures: [String] = []
            for _ in 0..<300 {
                do {
                    _ = try await client.unaryCall(simpleRequest(requestSize: 10, responseSize: 10), options: Self.options())
                } catch {
                    failures.append("\(error)")
                }
            }
            return (failures, await proxy.statistics())
        }
        print("GRPCProxyTests: 300 calls with one of three upstreams down: \(failures.count) failed; \(statistics.connectFailures) connect failures, \(statistics.retries) refused retries")
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        #expect(statistics.connectFailures >= 1)
    }

    // MARK: 6. The only upstream unreachable

    @Test func unreachableOnlyUpstreamAnswersUnavailableNamingIt() async throws {
        let dead = try freeLocalPort()
        let (status, http) = try await Self.withProxy(upstreams: [dead], seconds: 20, "calls to an unreachable upstream") { proxy, _, client in
            var status: GRPCStatus?
            do {
                _ = try await client.unaryCall(simpleRequest(requestSize: 10, responseSize: 10), options: Self.options())
            } catch let error as GRPCStatus {
                status = error
            }
            // A plain HTTP/2 request gets a 502 instead.
            let group = EventLoopGroup(numberOfThreads: 1)
            let plain = try await HTTP2Client.connect(host: "127.0.0.1", port: proxy.port, group: group)
            let response = try await plain.send(HTTP2RequestHead(method: "GET", path: "/", authority: "127.0.0.1"))
            let body = try await response.body.collect(upTo: 4096)
            try await plain.close()
            try await group.shutdownGracefully()
            return (status, (response.head.status, String(decoding: body.readableBytesView, as: UTF8.self)))
        }
        let unavailable = try #require(status)
        print("GRPCProxyTests: unreachable upstream: \(unavailable); HTTP/2: \(http.0) \(http.1)")
        #expect(unavailable.code == .unavailable)
        #expect(unavailable.message.contains("127.0.0.1:\(dead)"), "\(unavailable.message)")
        #expect(http.0 == 502 && http.1.contains("127.0.0.1:\(dead)"))
    }

    // MARK: 7. GOAWAY from an upstream under traffic

    @Test func gracefulShutdownOfOneBackendUnderTrafficFailsNoCall() async throws {
        let first = try await Backend()
        let second = try await Backend()
        defer { Task { await first.stop(); await second.stop() } }
        let (calls, failures, statistics) = try await Self.withProxy(upstreams: [first.port, second.port], "traffic across a backend's shutdown") { proxy, _, client in
            let stopAt = ContinuousClock.now + .milliseconds(1500)
            let results = try await withThrowingTaskGroup(of: (Int, [String]).self) { tasks in
                for _ in 0..<8 {
                    tasks.addTask {
                        var calls = 0
                        var failures: [String] = []
                        while ContinuousClock.now < stopAt {
                            do {
                                _ = try await client.unaryCall(simpleRequest(requestSize: 100, responseSize: 100), options: Self.options())
                            } catch {
                                failures.append("\(error)")
                            }
                            calls += 1
                        }
                        return (calls, failures)
                    }
                }
                tasks.addTask {
                    try await Task.sleep(for: .milliseconds(500))
                    try await first.shutDownGracefully()
                    return (0, [])
                }
                var calls = 0
                var failures: [String] = []
                for try await (count, failed) in tasks {
                    calls += count
                    failures += failed
                }
                return (calls, failures)
            }
            return (results.0, results.1, await proxy.statistics())
        }
        print("GRPCProxyTests: \(calls) calls across a backend's graceful shutdown: \(failures.count) failed; \(statistics.retries) refused retries, \(statistics.connectFailures) connect failures")
        #expect(calls > 100)
        #expect(failures.isEmpty, "\(failures.prefix(3))")
    }

    // MARK: Health checks

    /// A backend whose grpc.health.v1 status is NOT_SERVING gets no calls once a check saw
    /// it, and gets them again once it is SERVING.
    @Test func healthChecksSteerCallsAwayFromANotServingBackend() async throws {
        let first = try await Backend(serverID: "first")
        let second = try await Backend(serverID: "second")
        defer { Task { await first.stop(); await second.stop() } }
        second.health.setStatus(.notServing, for: "")
        let (during, after) = try await Self.withProxy(upstreams: [first.port, second.port], "calls steered by health checks",
                                                   configure: { $0.healthCheckInterval = .milliseconds(100) }) { _, _, client in
            try await Task.sleep(for: .milliseconds(400))
            var during: Set<String> = []
            for _ in 0..<20 {
                let request = Grpc_Testing_SimpleRequest.with { $0.fillServerID = true }
                during.insert(try await client.unaryCall(request, options: Self.options()).serverID)
            }
            second.health.setStatus(.serving, for: "")
            try await Task.sleep(for: .milliseconds(400))
            var after: Set<String> = []
            for _ in 0..<20 {
                let request = Grpc_Testing_SimpleRequest.with { $0.fillServerID = true }
                after.insert(try await client.unaryCall(request, options: Self.options()).serverID)
            }
            return (during, after)
        }
        #expect(during == ["first"])
        #expect(after == ["first", "second"])
    }

    // MARK: The GRPCProxy program

    /// The built GRPCProxy example in front of two backends: calls go through round-robin,
    /// and its peak RSS (VmHWM in /proc) stays small across a 1 GiB download.
    @Test func theGRPCProxyProgramForwardsCalls() async throws {
        let first = try await Backend(serverID: "first")
        let second = try await Backend(serverID: "second")
        defer { Task { await first.stop(); await second.stop() } }
        let proxy = try await startServer(try locateBuiltProduct("GRPCProxy"), name: "GRPCProxy") {
            ["--listen", "127.0.0.1:\($0)", "--upstream", "127.0.0.1:\(first.port)", "--upstream", "127.0.0.1:\(second.port)",
             "--threads", "1", "--health-check"]
        }
        try await withServer(proxy) { proxy in
            let (servers, downloaded) = try await withTestServiceClient(port: proxy.port, seconds: 60, "calls through GRPCProxy") { client in
                var servers: Set<String> = []
                for _ in 0..<10 {
                    let request = Grpc_Testing_SimpleRequest.with { $0.fillServerID = true; $0.responseSize = 1000 }
                    servers.insert(try await client.unaryCall(request, options: Self.options()).serverID)
                }
                let request = streamingRequest(responseSizes: Array(repeating: 1 << 20, count: 1024))
                let downloaded = try await client.streamingOutputCall(request, options: Self.options()) { responses in
                    var total = 0
                    for try await response in responses { total += response.payload.body.count }
                    return total
                }
                return (servers, downloaded)
            }
            #expect(servers == ["first", "second"])
            #expect(downloaded == 1 << 30)
            let pid = proxy.process.process.processIdentifier
            let kilobytes = processMemoryKiB(pid, "VmHWM") ?? 0
            print("GRPCProxyTests: GRPCProxy (debug build) after 1 GiB through it: peak RSS \(kilobytes) kB")
            // The program itself is ~15 MB; the proxied stream may hold a window (1 MiB) per
            // direction, plus socket write buffers.
            #expect(kilobytes > 0 && kilobytes < 64 * 1024)
        }
    }

    // MARK: REFUSED_STREAM

    /// Refuses every stream (RST_STREAM REFUSED_STREAM): nothing is processed.
    final class Refuser: HTTP2StreamDelegate {
        func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
            stream.reset(.refusedStream)
        }
    }

    /// An upstream that refuses every stream: each call is retried (with its held request
    /// message) on the next upstream, and none fails.
    @Test func refusedStreamsAreRetriedOnTheNextUpstream() async throws {
        let backend = try await Backend()
        let refuserGroup = EventLoopGroup(numberOfThreads: 1)
        let refuser = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: refuserGroup) { _ in Refuser() }
        defer { Task { await backend.stop(); try? await refuser.close(); try? await refuserGroup.shutdownGracefully() } }
        let (failures, statistics) = try await Self.withProxy(upstreams: [refuser.localAddress!.port, backend.port], "calls to a refusing upstream") { proxy, _, client in
            var failures: [String] = []
            for _ in 0..<50 {
                do {
                    let response = try await client.unaryCall(simpleRequest(requestSize: 1000, responseSize: 10), options: Self.options())
                    if response.payload.body.count != 10 { failures.append("payload \(response.payload.body.count)") }
                } catch {
                    failures.append("\(error)")
                }
            }
            return (failures, await proxy.statistics())
        }
        print("GRPCProxyTests: 50 calls with a refusing upstream: \(failures.count) failed, \(statistics.retries) retried")
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        // Round-robin puts every first attempt on the refuser (the retry moves the cursor
        // past it); REFUSED_STREAM is per stream, so it does not mark the upstream down.
        #expect(statistics.retries == 50)
    }

    // MARK: MAX_CONCURRENT_STREAMS

    /// A backend that allows 2 concurrent streams per connection: 10 concurrent calls make
    /// the proxy open more connections instead of failing or queueing behind one.
    @Test func moreConnectionsOpenWhenTheUpstreamsStreamLimitIsReached() async throws {
        let backend = try await Backend(maxConcurrentStreams: 2)
        defer { Task { await backend.stop() } }
        let (completed, statistics) = try await Self.withProxy(upstreams: [backend.port], "10 concurrent calls, 2 streams per upstream connection") { proxy, _, client in
            let completed = try await withThrowingTaskGroup(of: Int.self) { tasks in
                for _ in 0..<10 {
                    tasks.addTask {
                        let request = Grpc_Testing_StreamingOutputCallRequest.with {
                            $0.responseParameters = [Grpc_Testing_ResponseParameters.with { $0.size = 10; $0.intervalUs = 200_000 }]
                        }
                        return try await client.streamingOutputCall(request, options: Self.options()) { responses in
                            var count = 0
                            for try await _ in responses { count += 1 }
                            return count
                        }
                    }
                }
                return try await tasks.reduce(0, +)
            }
            return (completed, await proxy.statistics())
        }
        print("GRPCProxyTests: 10 concurrent calls, upstream limit 2 streams: \(completed) responses, \(statistics.connectsStarted) upstream connections")
        #expect(completed == 10)
        #expect(statistics.connectsStarted >= 5)
        #expect(statistics.failedRequests == 0)
    }
}
