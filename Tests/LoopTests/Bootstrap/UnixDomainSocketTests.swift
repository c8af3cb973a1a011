import Glibc
import Testing
@testable import Loop

extension RealLoopTests {
    /// Servers and clients on Unix domain sockets through the bootstraps.
    @Suite struct UnixDomainSocketTests {
        @Test func echoRoundTripsAndClosingTheServerRemovesItsSocketFile() async throws {
            try await withTemporaryDirectory { directory in
                let path = directory + "/echo.sock"
                try await withEventLoopGroup(threads: 2) { group in
                    let server = try await ServerBootstrap(group: group)
                        .childChannelInitializer { channel in try channel.pipeline.addHandler(EchoTestHandler()) }
                        .bind(unixDomainSocketPath: path)
                        .get(within: .seconds(5), "bind \(path)")
                    #expect(server.localAddress == (try SocketAddress(unixDomainSocketPath: path)))
                    #expect(server.localAddress?.description == path)
                    #expect(fileExists(path))

                    // The client's default TCP_NODELAY is skipped: setting it would fail here.
                    let recorder = Recorder()
                    let client = try await ClientBootstrap(group: group)
                        .channelInitializer { channel in try channel.pipeline.addHandler(RecordingHandler(recorder)) }
                        .connect(unixDomainSocketPath: path)
                        .get(within: .seconds(5), "connect to \(path)")
                    #expect(client.remoteAddress?.unixDomainSocketPath == path)
                    #expect(client.remoteAddress?.family == AF_UNIX)
                    #expect(client.localAddress?.description == "(unnamed)")
                    try await client.writeAndFlush(ByteBuffer(string: "hello over AF_UNIX\n")).get(within: .seconds(5))
                    try await waitUntil("the echo") { recorder.text == "hello over AF_UNIX\n" }
                    try await client.close().get(within: .seconds(5))

                    try await server.close().get(within: .seconds(5))
                    try await server.closeFuture.get(within: .seconds(5))
                    #expect(!fileExists(path))
                }
            }
        }

        @Test func endpointsAndSocketAddressesReachTheSameServer() async throws {
            try await withTemporaryDirectory { directory in
                let path = directory + "/endpoint.sock"
                try await withEventLoopGroup(threads: 1) { group in
                    let server = try await ServerBootstrap(group: group)
                        .childChannelInitializer { channel in try channel.pipeline.addHandler(EchoTestHandler()) }
                        .bind(to: .unixDomainSocket(path: path))
                        .get(within: .seconds(5))
                    let viaEndpoint = try await ClientBootstrap(group: group).connect(to: .unixDomainSocket(path: path)).get(within: .seconds(5))
                    let viaAddress = try await connect(group: group, to: try SocketAddress(unixDomainSocketPath: path))
                    #expect(viaEndpoint.isActive && viaAddress.isActive)
                    try await viaEndpoint.close().get(within: .seconds(5))
                    try await viaAddress.close().get(within: .seconds(5))
                    try await server.close().get(within: .seconds(5))
                }
            }
        }

        @Test func aPathTooLongForSunPathIsRefusedWithTheExactError() async throws {
            let path = "/tmp/" + String(repeating: "x", count: 120) + ".sock"
            let expected = SocketAddressError.unixDomainSocketPathTooLong(path: path, maximum: 107)
            try await withEventLoopGroup(threads: 1) { group in
                await #expect(throws: expected) {
                    try await ServerBootstrap(group: group).bind(unixDomainSocketPath: path).get(within: .seconds(5))
                }
                await #expect(throws: expected) {
                    try await ClientBootstrap(group: group).connect(unixDomainSocketPath: path).get(within: .seconds(5))
                }
            }
            #expect(expected.description
                == "SocketAddressError.unixDomainSocketPathTooLong: '\(path)' is 130 bytes; a Unix domain socket path holds at most 107")
        }

        @Test func connectingToAMissingPathNamesThePath() async throws {
            try await withTemporaryDirectory { directory in
                let path = directory + "/missing.sock"
                try await withEventLoopGroup(threads: 1) { group in
                    let error = await #expect(throws: IOError.self) {
                        try await ClientBootstrap(group: group).connect(unixDomainSocketPath: path).get(within: .seconds(5))
                    }
                    #expect(error?.errnoCode == ENOENT)
                    #expect(error?.description == "connect to \(path) failed: No such file or directory (errno \(ENOENT))")
                }
            }
        }

        @Test func bindingWhereAFileIsFailsAndNeverRemovesAFileThatIsNotASocket() async throws {
            try await withTemporaryDirectory { directory in
                let path = directory + "/not-a-socket"
                try createRegularFile(path)
                try await withEventLoopGroup(threads: 1) { group in
                    let plain = await #expect(throws: IOError.self) {
                        try await ServerBootstrap(group: group).bind(unixDomainSocketPath: path).get(within: .seconds(5))
                    }
                    #expect(plain?.description == "bind to \(path) failed: Address already in use (errno \(EADDRINUSE))")
                    let cleanup = await #expect(throws: IOError.self) {
                        try await ServerBootstrap(group: group)
                            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
                            .get(within: .seconds(5))
                    }
                    #expect(cleanup?.errnoCode == EADDRINUSE)
                    #expect(cleanup?.operation == "bind to \(path) (a file that is not a socket is there; it was left alone)")
                }
                #expect(fileExists(path))
            }
        }

        @Test func aStaleSocketFileIsRemovedOnlyOnRequestAndNeverWhileAServerListens() async throws {
            try await withTemporaryDirectory { directory in
                let path = directory + "/stale.sock"
                try createStaleSocketFile(path)
                try await withEventLoopGroup(threads: 1) { group in
                    let bootstrap = ServerBootstrap(group: group)
                        .childChannelInitializer { channel in try channel.pipeline.addHandler(EchoTestHandler()) }
                    let refused = await #expect(throws: IOError.self) {
                        try await bootstrap.bind(unixDomainSocketPath: path).get(within: .seconds(5))
                    }
                    #expect(refused?.errnoCode == EADDRINUSE)

                    let server = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
                        .get(within: .seconds(5), "bind over the stale file")
                    let live = await #expect(throws: IOError.self) {
                        try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get(within: .seconds(5))
                    }
                    #expect(live?.errnoCode == EADDRINUSE)
                    #expect(live?.operation == "bind to \(path) (a server is listening there)")
                    // The first server still has its file and serves.
                    let client = try await ClientBootstrap(group: group).connect(unixDomainSocketPath: path).get(within: .seconds(5))
                    try await client.close().get(within: .seconds(5))
                    try await server.close().get(within: .seconds(5))
                    #expect(!fileExists(path))
                }
            }
        }

        @Test func closingLeavesAFileThatReplacedTheSocketAlone() async throws {
            try await withTemporaryDirectory { directory in
                let path = directory + "/replaced.sock"
                try await withEventLoopGroup(threads: 1) { group in
                    let server = try await ServerBootstrap(group: group).bind(unixDomainSocketPath: path).get(within: .seconds(5))
                    #expect(unlink(path) == 0)
                    try createRegularFile(path)
                    try await server.close().get(within: .seconds(5))
                    try await server.closeFuture.get(within: .seconds(5))
                }
                #expect(fileExists(path))
            }
        }
    }
}
