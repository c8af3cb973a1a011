import Glibc
import Testing
@testable import Loop

private struct InitializerFailure: Error, Equatable {}

extension RealLoopTests {
    @Suite struct ClientBootstrapTests {
        @Test func connectingToAClosedPortIsRefused() async throws {
            let closed = try boundButNotListeningSocket()
            defer { close(closed.fd) }
            try await withEventLoopGroup(threads: 1) { group in
                let error = await #expect(throws: IOError.self) {
                    try await ClientBootstrap(group: group)
                        .connect(host: "127.0.0.1", port: closed.port)
                        .get(within: .seconds(5))
                }
                #expect(error?.errnoCode == ECONNREFUSED)
                #expect(error?.operation == "connect to 127.0.0.1:\(closed.port)")
                #expect(error?.description.contains("Connection refused") == true)
                #expect(error?.description == "connect to 127.0.0.1:\(closed.port) failed: Connection refused (errno \(ECONNREFUSED))")
            }
            #expect(openConnectionDescriptors(port: closed.port) == [])
        }

        @Test func throwingInitializerFailsTheConnect() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let server = try await startEchoServer(group: group)
                await #expect(throws: InitializerFailure()) {
                    try await ClientBootstrap(group: group)
                        .channelInitializer { _ in throw InitializerFailure() }
                        .connect(to: try boundAddress(server))
                        .get(within: .seconds(5))
                }
            }
        }

        @Test func connectByHostAndPort() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let server = try await startEchoServer(group: group)
                let port = try boundAddress(server).port
                let client = try await ClientBootstrap(group: group)
                    .connect(host: "127.0.0.1", port: port)
                    .get(within: .seconds(5))
                #expect(client.remoteAddress == (try SocketAddress(ipAddress: "127.0.0.1", port: port)))
                #expect(client.isActive)
                await #expect(throws: SocketAddressError.invalidPort(-1)) {
                    try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: -1).get(within: .seconds(5))
                }
            }
        }

        @Test func connectTimesOutWhenThePeerNeverAnswers() async throws {
            // A listener with a full accept queue that nobody accepts from: the kernel drops
            // further SYNs, so the connect neither succeeds nor fails until the timeout.
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try #require(listener >= 0)
            defer { close(listener) }
            let any = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
            try #require(any.withSockAddr { bind(listener, $0, $1) } == 0)
            try #require(listen(listener, 0) == 0)
            let address = try #require(Socket.localAddress(listener))
            var fillers: [Int32] = []
            defer { for fd in fillers { close(fd) } }
            for _ in 0..<4 {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
                try #require(fd >= 0)
                fillers.append(fd)
                _ = address.withSockAddr { Glibc.connect(fd, $0, $1) }
            }
            try await Task.sleep(for: .milliseconds(50))
            try await withEventLoopGroup(threads: 1) { group in
                let clock = ContinuousClock()
                let start = clock.now
                await #expect(throws: ChannelError.connectTimeout(.milliseconds(300))) {
                    try await ClientBootstrap(group: group)
                        .channelOption(.connectTimeout(.milliseconds(300)))
                        .connect(to: address)
                        .get(within: .seconds(5))
                }
                #expect(clock.now - start >= .milliseconds(250))
            }
        }

        @Test func connectOnAShutDownGroupFailsInsteadOfHanging() async throws {
            let group = EventLoopGroup(numberOfThreads: 1)
            try await shutDown(group)
            await #expect(throws: ChannelError.eventLoopShutdown) {
                try await ClientBootstrap(group: group)
                    .connect(host: "127.0.0.1", port: 9)
                    .get(within: .seconds(2), "connect on a shut-down group")
            }
        }
    }
}
