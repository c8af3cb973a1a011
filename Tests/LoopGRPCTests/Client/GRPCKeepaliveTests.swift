import Foundation
import InteropTestSupport
import Loop
import LoopHTTP2
import Synchronization
import Testing
@testable import LoopGRPC

/// Keepalive and the maximum connection age between our GRPCChannel and GRPCServer (gRFC A8
/// "Client-side Keepalive", A9 "Server-side Connection Management"; RFC 9113 §6.7 PING, §6.8
/// GOAWAY), on 127.0.0.1: a channel whose server stops answering fails its calls with
/// UNAVAILABLE naming the keepalive, a server that finds the channel's PINGs too frequent says
/// "too_many_pings" and the channel doubles its interval, and a server's maximum age moves a
/// busy channel to new connections without losing a call. grpc-go on either side:
/// Interop/KeepaliveInteropTests.
@Suite(.serialized) struct GRPCKeepaliveTests {
    let codec = ByteBufferCodec()

    @Test func grpcServersHaveGrpcGosKeepaliveAndPolicyAndChannelsNoKeepalive() {
        let server = GRPCServerConfiguration()
        #expect(server.http2.keepalive == .grpcServer)
        #expect(server.http2.pingPolicy == .grpc)
        #expect(server.http2.maxConnectionAge == nil && server.http2.maxConnectionAgeGrace == nil)
        #expect(server.http2.idleTimeout == .seconds(300))
        let channel = GRPCChannelConfiguration()
        #expect(channel.http2.keepalive == nil && channel.http2.pingPolicy == nil)
    }

    // MARK: A server that stops answering

    /// A TCP server that completes the HTTP/2 handshake (its SETTINGS and the ACK of ours)
    /// and then answers nothing: no PING ACK, no response. Counts the connections it accepted.
    final class SilentServer: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        private var answered = false

        func channelActive(context: ChannelHandlerContext) {
            // SETTINGS (empty): the client counts its connection ready on it.
            context.writeAndFlush(ByteBuffer(bytes: [0, 0, 0, 4, 0, 0, 0, 0, 0]), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
            guard !answered else { return }
            answered = true
            context.writeAndFlush(ByteBuffer(bytes: [0, 0, 0, 4, 1, 0, 0, 0, 0]), promise: nil)  // SETTINGS ACK
        }
    }

    @Test func grpcA8ACallOnAConnectionWhoseServerStopsAnsweringFailsUnavailableNamingTheKeepalive() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let silent = try await ServerBootstrap(group: group)
            .childChannelInitializer { try $0.pipeline.addHandler(SilentServer()) }
            .bind(host: "127.0.0.1", port: 0).get()
        var configuration = GRPCChannelConfiguration()
        configuration.http2.keepalive = .init(interval: .milliseconds(200), timeout: .milliseconds(300))
        let channel = GRPCChannel(host: "127.0.0.1", port: silent.localAddress!.port, group: group, configuration: configuration)
        var callOptions = GRPCCallOptions()
        callOptions.timeout = .seconds(20)
        let options = callOptions
        let start = ContinuousClock.now
        let outcome: GRPCStatus = try await withDeadline(30, "the call on the silent server") {
            do {
                _ = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: "anyone?"), serializer: ByteBufferCodec(),
                                            deserializer: ByteBufferCodec(), options: options)
                return .ok
            } catch let status as GRPCStatus {
                return status
            }
        }
        let elapsed = ContinuousClock.now - start
        #expect(outcome.code == .unavailable, "\(outcome)")
        #expect(outcome.message == "keepalive ping not acknowledged within 0.3 seconds", "\(outcome)")
        // The PING after 200 ms without reads, 300 ms for its ACK; far from the call's deadline.
        #expect(elapsed >= .milliseconds(490) && elapsed < .seconds(10), "failed after \(elapsed)")
        await channel.close()
        try await silent.close().get()
        try await group.shutdownGracefully()
    }

    // MARK: Too many PINGs

    @Test func grpcA8OurServerSaysTooManyPingsAndTheChannelDoublesItsIntervalForItsNextConnection() async throws {
        var server = GRPCServerConfiguration()
        // Two PINGs are enough: the first is never early, the second is one strike too many.
        server.http2.pingPolicy = .init(minInterval: .seconds(10), permitWithoutCalls: true, maxStrikes: 0)
        var client = GRPCChannelConfiguration()
        client.http2.keepalive = .init(interval: .milliseconds(100), timeout: .seconds(5), permitWithoutCalls: true)
        try await withEchoServer(configuration: server, channelConfiguration: client) { channel, _ in
            #expect(channel.keepaliveInterval == .milliseconds(100))
            try await channel.connect()
            let first = try await channel.acquire(waitForReady: true)
            channel.release(first)
            // The interval `first` pings at: 100 ms, unless (on a loaded machine) the channel's
            // very first connection was told "too_many_pings" before this acquire and `first` is
            // already the next one, at 200 ms. It is then `first` that must be told next.
            let firstInterval = try #require(await onLoop(first.loop) { first.handler?.connection.configuration.keepalive?.interval })
            #expect(firstInterval >= .milliseconds(100))
            try await withDeadline(10, "GOAWAY too_many_pings") {
                while channel.keepaliveInterval.map({ $0 <= firstInterval }) ?? true { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(channel.keepaliveInterval == firstInterval * 2)
            // The next call gets a new connection, which pings half as often. (On a loaded
            // machine that connection too can be told "too_many_pings" and closed while the call
            // starts: a gRPC client retries it, so does this test, a few times.)
            var response: GRPCResponse<ByteBuffer>?
            for attempt in 1...3 where response == nil {
                do {
                    response = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: "again"),
                                                       serializer: codec, deserializer: codec, options: GRPCCallOptions())
                } catch let status as GRPCStatus where status.code == .unavailable && attempt < 3 {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(response.map { text($0.message) } == "again")
            let next = try await channel.acquire(waitForReady: true)
            channel.release(next)
            #expect(next !== first)
            let interval = await onLoop(next.loop) { next.handler?.connection.configuration.keepalive?.interval }
            // At least doubled: on a loaded machine the next connection can be told
            // "too_many_pings" in turn before this looks, and the one after pings at 4×.
            #expect(interval.map { $0 >= firstInterval * 2 } == true, "\(String(describing: interval))")
        }
    }

    // MARK: Maximum connection age

    /// The remote ports of the calls a server saw: one per connection.
    final class ConnectionPorts: GRPCServerInterceptor, Sendable {
        private let ports = Mutex<Set<Int>>([])
        var count: Int { ports.withLock { $0.count } }

        func intercept<Result: Sendable>(context: GRPCServerContext, next: @Sendable () async throws -> Result) async throws -> Result {
            if let port = context.remoteAddress?.port { _ = ports.withLock { $0.insert(port) } }
            return try await next()
        }
    }

    @Test func grpcA9TheMaximumAgeMovesABusyChannelToNewConnectionsWithoutLosingACall() async throws {
        let ports = ConnectionPorts()
        var server = GRPCServerConfiguration()
        server.http2.maxConnectionAge = .milliseconds(300)
        server.http2.maxConnectionAgeGrace = .seconds(10)
        server.interceptors = [ports]
        let readies = Mutex(0)
        var client = GRPCChannelConfiguration()
        client.onStateChange = { state in if state == .ready { readies.withLock { $0 += 1 } } }
        let (calls, failures) = try await withEchoServer(configuration: server, channelConfiguration: client) { channel, _ in
            try await withDeadline(30, "calls across connection ages") {
                // Two seconds of calls, then more (up to 20 s) until the server saw three
                // connections: a loaded machine can stretch the first ones.
                var (calls, failures) = try await Self.callContinuously(channel, for: .seconds(2), tasks: 4)
                let until = ContinuousClock.now + .seconds(20)
                while ports.count < 3, ContinuousClock.now < until {
                    let (more, moreFailures) = try await Self.callContinuously(channel, for: .milliseconds(500), tasks: 4)
                    calls += more
                    failures += moreFailures
                }
                return (calls, failures)
            }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(calls) calls failed, first: \(failures.first ?? "")")
        #expect(calls > 40, "\(calls) calls")
        // About 2 s / 300 ms (±10 %) connections; at least three on a loaded machine.
        #expect(ports.count >= 3, "the server saw \(ports.count) connections")
        #expect(readies.withLock { $0 } >= 3, "the channel became ready \(readies.withLock { $0 }) times")
    }

    /// `tasks` tasks making unary calls one after another for `duration`: the calls made and
    /// the failures, described.
    static func callContinuously(_ channel: GRPCChannel, for duration: Duration, tasks: Int) async throws -> (Int, [String]) {
        try await InteropTestSupport.callContinuously(for: duration, tasks: tasks) { task, n in
            let payload = "call \(task)-\(n)"
            var options = GRPCCallOptions()
            options.timeout = .seconds(10)
            let response = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: payload),
                                                   serializer: ByteBufferCodec(), deserializer: ByteBufferCodec(), options: options)
            return text(response.message) == payload ? nil : "\(payload): answered \(text(response.message))"
        }
    }
}
