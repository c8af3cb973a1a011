import Foundation
import InteropSupport
import InteropTestSupport
import Loop
import LoopGRPC
import LoopHTTP2
import Synchronization
import Testing

extension GRPCInteropTests {
    /// Keepalive and connection age against grpc-go 1.33 configured with its own
    /// `keepalive.ClientParameters`, `ServerParameters` and `EnforcementPolicy`
    /// (Interop/Go/keepalive_peer, which prints the PING and GOAWAY frames crossing each of its
    /// connections; RFC 9113 §6.7, §6.8; gRFC A8, A9), both ways: grpc-go's client pinging
    /// too often gets our "too_many_pings", ours gets grpc-go's and doubles its interval,
    /// grpc-go's maximum age moves our calls without losing one, and grpc-go's server
    /// keepalive PINGs are answered. grpc-go clients ping every 10 s at most, so the one test
    /// with its client takes about 10 s.
    @Suite struct KeepaliveInteropTests {
        /// The `t=` of keepalive_peer's lines that start with `prefix` ("CONN 1 RECV PING t="),
        /// in milliseconds.
        static func times(_ lines: [String], _ prefix: String) -> [Int] {
            lines.filter { $0.hasPrefix(prefix) }.compactMap { Int($0.dropFirst(prefix.count)) }
        }

        /// grpc-go's client with PermitWithoutStream against our GRPCServer, whose policy
        /// (permitWithoutCalls false, one strike too many at the first: maxStrikes 0) wants
        /// PINGs without calls 2 hours apart: grpc-go's first keepalive PING, 10 s after its
        /// one call, is answered and then met with GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings"),
        /// which grpc-go reads (and would double its Time for: gRFC A8).
        @Test func grpcGoClientPingingTooOftenGetsTooManyPingsFromGRPCServer() async throws {
            let peer = try locateCachedPeer("keepalive_peer")
            var configuration = GRPCServerConfiguration()
            configuration.http2.pingPolicy = .init(minInterval: .seconds(60), permitWithoutCalls: false, maxStrikes: 0)
            let group = EventLoopGroup(numberOfThreads: 1)
            let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [TestService()], configuration: configuration)
            let started = Date()
            let result = try await runProcess(peer, ["-mode=client", "-addr=127.0.0.1:\(server.port)", "-time=10s",
                                                     "-permit_without_stream=true", "-deadline=40s"], timeout: 60)
            reportTiming("grpc-go keepalive client (Time 10 s) until too_many_pings", seconds: Date().timeIntervalSince(started))
            try await server.close()
            try await group.shutdownGracefully()
            let lines = outputLines(result.stdout)
            let said = "keepalive_peer said:\n\(result.stdout.suffix(3000))\(result.stderr.suffix(2000))"
            #expect(result.status == 0 && lines.contains("CALL OK"), "\(said)")
            let goAway = lines.first { $0.hasPrefix("CONN 1 RECV GOAWAY ") }
            #expect(goAway?.hasPrefix(#"CONN 1 RECV GOAWAY ENHANCE_YOUR_CALM "too_many_pings" t="#) == true, "\(said)")
            // The GOAWAY answers the keepalive PING of about t=10 s (grpc-go's BDP PING after
            // the call's response came before it, and was forgiven by that response).
            let goAwayAt = Self.times(lines, #"CONN 1 RECV GOAWAY ENHANCE_YOUR_CALM "too_many_pings" t="#).first ?? 0
            #expect(goAwayAt >= 9_500, "\(said)")
            // grpc-go's keepalive PING of about t=10 s: its line, or (the peer's log of what its
            // transport writes can miss it) our ACK of it.
            #expect((Self.times(lines, "CONN 1 SENT PING t=") + Self.times(lines, "CONN 1 RECV PING_ACK t=")).contains { $0 >= 9_500 }, "\(said)")
            // The peer's last word, but for the close of a connection it made again after the
            // GOAWAY: its `defer conn.Close()` runs after "DONE", and the close's line may follow.
            let lastWord = lines.last { !($0.hasPrefix("CONN ") && $0.contains(" CLOSED t=")) }
            #expect(lastWord == "DONE goaway", "\(said)")
        }

        /// Our channel pinging every 100 ms (permitWithoutCalls) against grpc-go's server with
        /// `EnforcementPolicy{MinTime: 1s, PermitWithoutStream: true}`: grpc-go strikes the
        /// second, third and fourth PINGs and sends GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings");
        /// the channel doubles its interval, and its next connection pings every 200 ms.
        @Test func ourChannelPingingTooOftenGetsTooManyPingsFromGrpcGoAndDoublesItsInterval() async throws {
            let peer = try locateCachedPeer("keepalive_peer")
            let server = try await startServerReportingPort(peer, ["-mode=server", "-port=0", "-min_time=1s", "-permit_without_stream=true"],
                                                            name: "keepalive_peer server")
            try await withServer(server) { server in
                let group = EventLoopGroup(numberOfThreads: 1)
                var configuration = GRPCChannelConfiguration()
                configuration.http2.keepalive = .init(interval: .milliseconds(100), timeout: .seconds(5), permitWithoutCalls: true)
                let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: group, configuration: configuration)
                let client = Grpc_Testing_TestServiceClient(channel: channel)
                do {
                    try await withDeadline(30, "GOAWAY too_many_pings from grpc-go, then a call on a new connection") {
                        try await channel.connect()
                        while channel.keepaliveInterval == .milliseconds(100) { try await Task.sleep(for: .milliseconds(20)) }
                        _ = try await client.emptyCall(Grpc_Testing_Empty())
                        try await Task.sleep(for: .milliseconds(1200))
                    }
                } catch {
                    Issue.record("\(error)")
                }
                let interval = channel.keepaliveInterval
                await channel.close()
                try await group.shutdownGracefully()
                let lines = outputLines(server.process.log)
                let said = "keepalive_peer said:\n\(server.process.log.suffix(4000))"
                #expect(interval.map { $0 >= .milliseconds(200) } == true, "the channel's interval is \(String(describing: interval))")
                // grpc-go's frame log can miss a frame it wrote as the connection closes (seen:
                // its GOAWAY, then our channel's GOAWAY NO_ERROR in reply, then CLOSED): the
                // doubled interval above is the channel's own record of "too_many_pings".
                let goaway = lines.contains { $0.hasPrefix(#"CONN 1 SENT GOAWAY ENHANCE_YOUR_CALM "too_many_pings" t="#) }
                let repliedToGoaway = lines.contains { $0.hasPrefix(#"CONN 1 RECV GOAWAY NO_ERROR"#) }
                #expect(goaway || repliedToGoaway, "\(said)")
                let first = Self.times(lines, "CONN 1 RECV PING t=")
                #expect(first.count >= 4, "\(said)")
                // The next connection waits at least 200 ms from each ACK to its next PING
                // (100 ms on the first); grpc-go's clock sees the gaps, less some jitter.
                let second = Self.times(lines, "CONN 2 RECV PING t=")
                let gaps = zip(second.dropFirst(), second).map { $0 - $1 }
                #expect(gaps.count >= 2 && gaps.allSatisfy { $0 >= 180 }, "gaps on connection 2: \(gaps) ms\n\(said)")
            }
        }

        /// grpc-go's server with MaxConnectionAge 500 ms (±10 %) and a 10 s grace, and our
        /// channel making calls without a pause for 3 s from four tasks: grpc-go ends each
        /// connection with GOAWAY(NO_ERROR), its PING and the final GOAWAY; the channel moves
        /// to a new connection, and every call succeeds.
        @Test func ourChannelsCallsAllSucceedAcrossGrpcGoMaxConnectionAge() async throws {
            let peer = try locateCachedPeer("keepalive_peer")
            let server = try await startServerReportingPort(peer, ["-mode=server", "-port=0", "-max_age=500ms", "-max_age_grace=10s"],
                                                            name: "keepalive_peer server")
            try await withServer(server) { server in
                let group = EventLoopGroup(numberOfThreads: 1)
                let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: group)
                let client = Grpc_Testing_TestServiceClient(channel: channel)
                let outcome = try await withDeadline(60, "3 s of calls across grpc-go's connection ages") {
                    try await Self.callContinuously(client, for: .seconds(3), tasks: 4)
                }
                await channel.close()
                try await group.shutdownGracefully()
                let lines = outputLines(server.process.log)
                let said = "keepalive_peer said:\n\(server.process.log.suffix(3000))"
                #expect(outcome.failures.isEmpty, "\(outcome.failures.count) of \(outcome.calls) calls failed, first: \(outcome.failures.first ?? "")")
                #expect(outcome.calls > 40, "\(outcome.calls) calls")
                #expect(lines.filter { $0.hasSuffix(" OPEN") }.count >= 3, "\(said)")
                #expect(lines.filter { $0.contains(#" SENT GOAWAY NO_ERROR "" t="#) }.count >= 2, "\(said)")
            }
        }

        /// grpc-go's server keepalive (Time 1 s, Timeout 500 ms: a client that does not answer
        /// is closed 1.5 s into a quiet spell) against our idle channel for 3.2 s: every PING
        /// is acknowledged, the connection survives, and a call after the quiet spell uses it.
        @Test func grpcGoServerKeepalivePingsAreAnsweredByOurChannel() async throws {
            let peer = try locateCachedPeer("keepalive_peer")
            let server = try await startServerReportingPort(peer, ["-mode=server", "-port=0", "-time=1s", "-timeout=500ms"],
                                                            name: "keepalive_peer server")
            try await withServer(server) { server in
                let group = EventLoopGroup(numberOfThreads: 1)
                let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: group)
                let client = Grpc_Testing_TestServiceClient(channel: channel)
                let connections = try await withDeadline(30, "two calls 3.2 s apart") {
                    _ = try await client.emptyCall(Grpc_Testing_Empty())
                    try await Task.sleep(for: .milliseconds(3200))
                    _ = try await client.emptyCall(Grpc_Testing_Empty())
                    return channel.connectionCount
                }
                await channel.close()
                try await group.shutdownGracefully()
                let lines = outputLines(server.process.log)
                let said = "keepalive_peer said:\n\(server.process.log.suffix(3000))"
                #expect(connections == 1)
                #expect(lines.filter { $0.hasSuffix(" OPEN") } == ["CONN 1 OPEN"], "\(said)")
                // Keepalive PINGs at about 1, 2 and 3 s (and grpc-go's BDP PING after the first
                // call), each answered.
                let pings = Self.times(lines, "CONN 1 SENT PING t=").filter { $0 >= 900 }
                let acks = Self.times(lines, "CONN 1 RECV PING_ACK t=").filter { $0 >= 900 }
                #expect(pings.count >= 2 && acks.count >= pings.count, "\(said)")
                // Closed only by our channel's close, after the second call.
                #expect(Self.times(lines, "CONN 1 CLOSED t=").allSatisfy { $0 >= 3_200 }, "\(said)")
            }
        }

        /// `tasks` tasks making unary calls one after another for `duration`.
        static func callContinuously(_ client: Grpc_Testing_TestServiceClient, for duration: Duration,
                                     tasks: Int) async throws -> (calls: Int, failures: [String]) {
            try await InteropTestSupport.callContinuously(for: duration, tasks: tasks) { task, n in
                var options = GRPCCallOptions()
                options.timeout = .seconds(10)
                let response = try await client.unaryCall(simpleRequest(requestSize: 10, responseSize: 100), options: options)
                return response.payload.body.count == 100 ? nil : "call \(task)-\(n): \(response.payload.body.count) bytes"
            }
        }
    }
}
