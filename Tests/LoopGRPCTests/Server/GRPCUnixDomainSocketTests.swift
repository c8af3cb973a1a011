import Foundation
import InteropTestSupport
import Synchronization
import Testing
import Loop
import LoopHTTP2
@testable import LoopGRPC

/// gRPC over a Unix domain socket: GRPCServer and GRPCChannel on `.unixDomainSocket`.
@Suite struct GRPCUnixDomainSocketTests {
    let codec = ByteBufferCodec()

    @Test func unaryCallOverAUnixDomainSocket() async throws {
        let scratch = try TemporaryDirectory("grpc-unix")
        defer { scratch.remove() }
        let path = scratch.file("grpc.sock")
        let group = EventLoopGroup(numberOfThreads: 2)
        let server = try await GRPCServer.bind(.unixDomainSocket(path: path), group: group, services: [EchoService()])
        #expect(server.port == 0)
        #expect(server.channel.localAddress?.unixDomainSocketPath == path)
        let channel = GRPCChannel(endpoint: .unixDomainSocket(path: path), group: group)
        #expect(channel.endpoint == .unixDomainSocket(path: path))
        let response = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: "over AF_UNIX"),
                                               serializer: codec, deserializer: codec, options: GRPCCallOptions())
        #expect(text(response.message) == "over AF_UNIX")
        #expect(channel.connectivityState == .ready)
        await channel.close()
        try await server.close()
        #expect(!FileManager.default.fileExists(atPath: path))
        try await group.shutdownGracefully()
    }

    @Test func theAuthorityOverAUnixDomainSocketIsLocalhost() async throws {
        // A bare HTTP/2 server records what the channel sends and answers trailers-only.
        let scratch = try TemporaryDirectory("grpc-unix-authority")
        defer { scratch.remove() }
        let path = scratch.file("grpc.sock")
        let group = EventLoopGroup(numberOfThreads: 1)
        let authorities = Mutex<[String]>([])
        let server = try await HTTP2Server.bind(.unixDomainSocket(path: path), group: group) { request, response in
            authorities.withLock { $0.append(request.head.authority) }
            try await response.respond(HTTP2ResponseHead(status: 200, headers: [
                HPACKHeader("content-type", "application/grpc"), HPACKHeader("grpc-status", "12"),
            ]))
        }
        let channel = GRPCChannel(endpoint: .unixDomainSocket(path: path), group: group)
        await #expect(throws: GRPCStatus(.unimplemented)) {
            _ = try await channel.unary(path: EchoService.unary, request: ByteBuffer(), serializer: codec, deserializer: codec,
                                        options: GRPCCallOptions())
        }
        #expect(authorities.withLock { $0 } == ["localhost"])
        await channel.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test func aMissingSocketIsUnavailableNamingThePath() async throws {
        let scratch = try TemporaryDirectory("grpc-unix-missing")
        defer { scratch.remove() }
        let path = scratch.file("missing.sock")
        let group = EventLoopGroup(numberOfThreads: 1)
        let channel = GRPCChannel(endpoint: .unixDomainSocket(path: path), group: group)
        do {
            _ = try await channel.unary(path: EchoService.unary, request: ByteBuffer(), serializer: codec, deserializer: codec,
                                        options: GRPCCallOptions())
            Issue.record("the call should fail")
        } catch let status as GRPCStatus {
            #expect(status.code == .unavailable)
            #expect(status.message == "cannot connect to unix:\(path): connect to \(path) failed: No such file or directory (errno 2)")
        }
        await channel.close()
        try await group.shutdownGracefully()
    }
}
