import InteropTestSupport
import Loop
import LoopTLS
import Synchronization
import Testing
@testable import LoopGRPC

/// gRPC over TLS in-process: GRPCServer with `GRPCServerConfiguration.tls` and GRPCChannel with
/// `GRPCChannelConfiguration.tls`: calls, the client certificate and both ends' addresses in
/// the handler's context,
/// session resumption across the channel's connections, and refusals as UNAVAILABLE naming
/// the TLS reason.
@Suite(.serialized) struct GRPCTLSTests {
    let codec = ByteBufferCodec()

    static func serverConfiguration(_ certificates: TestCertificates, _ name: String = "server") -> GRPCServerConfiguration {
        var configuration = GRPCServerConfiguration()
        configuration.tls = .server(certificateChain: .file(certificates.file("\(name).pem")),
                                    privateKey: .file(certificates.file("\(name).key")))
        return configuration
    }

    static func channelConfiguration(_ certificates: TestCertificates) -> GRPCChannelConfiguration {
        var configuration = GRPCChannelConfiguration()
        configuration.tls = .client(trustRoots: .pem(.file(certificates.file("ca.pem"))))
        return configuration
    }

    @Test func unaryCallsOverTLSWithTheClientCertificateInTheContext() async throws {
        let certificates = try await TestCertificates.shared()
        let group = EventLoopGroup(numberOfThreads: 2)
        var configuration = Self.serverConfiguration(certificates)
        configuration.tls?.clientCertificates = .required
        configuration.tls?.trustRoots = .pem(.file(certificates.file("client-ca.pem")))
        let seen = Mutex<[String]>([])
        let addresses = Mutex<[String]>([])
        configuration.interceptors = [RecordingInterceptor { context in
            seen.withLock { $0.append((context.tls?.peerCertificate?.names ?? []).joined(separator: ",") + " " + (context.tls?.negotiatedProtocol ?? "-")) }
            // The remote port is the client's own, different per connection: the address only.
            addresses.withLock { $0.append("\(context.remoteAddress?.ipAddress ?? "none") \(context.localAddress.map { "\($0)" } ?? "none")") }
        }]
        let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [EchoService()], configuration: configuration)
        var channelConfiguration = Self.channelConfiguration(certificates)
        channelConfiguration.tls?.certificateChain = .file(certificates.file("client.pem"))
        channelConfiguration.tls?.privateKey = .file(certificates.file("client.key"))
        let channel = GRPCChannel(host: "localhost", port: server.port, group: group, configuration: channelConfiguration)
        for index in 0..<3 {
            let response = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: "tls \(index)"),
                                                   serializer: codec, deserializer: codec, options: GRPCCallOptions())
            #expect(text(response.message) == "tls \(index)")
        }
        #expect(seen.withLock { $0 } == Array(repeating: "client.loop.test h2", count: 3))
        #expect(addresses.withLock { $0 }.count == 3)
        #expect(addresses.withLock { $0 }.allSatisfy { $0 == "127.0.0.1 127.0.0.1:\(server.port)" },
                "the context's addresses: \(addresses.withLock { $0 })")
        await channel.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test func aBadCertificateIsUnavailableNamingTheReason() async throws {
        let certificates = try await TestCertificates.shared()
        let group = EventLoopGroup(numberOfThreads: 1)
        let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [EchoService()],
                                               configuration: Self.serverConfiguration(certificates, "expired"))
        let channel = GRPCChannel(host: "localhost", port: server.port, group: group, configuration: Self.channelConfiguration(certificates))
        await #expect(throws: GRPCStatus.self) {
            do {
                _ = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: "x"), serializer: codec,
                                            deserializer: codec, options: GRPCCallOptions())
            } catch let status as GRPCStatus {
                #expect(status.code == .unavailable)
                #expect(status.message.contains("certificate verify failed: certificate has expired"), "\(status)")
                throw status
            }
        }
        await channel.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test func aChannelWithAnUnusableConfigurationFailsEachCallInWords() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        var configuration = GRPCChannelConfiguration()
        configuration.tls = .client(trustRoots: .pem(.file("/nonexistent/ca.pem")))
        let channel = GRPCChannel(host: "localhost", port: 1, group: group, configuration: configuration)
        await #expect(throws: GRPCStatus.self) {
            do {
                _ = try await channel.unary(path: EchoService.unary, request: ByteBuffer(), serializer: codec,
                                            deserializer: codec, options: GRPCCallOptions())
            } catch let status as GRPCStatus {
                #expect(status.code == .unavailable)
                #expect(status.message.contains("cannot read trust roots /nonexistent/ca.pem: No such file or directory"), "\(status)")
                throw status
            }
        }
        await channel.close()
        try await group.shutdownGracefully()
    }
}

/// Calls `record` with each call's context.
struct RecordingInterceptor: GRPCServerInterceptor {
    let record: @Sendable (GRPCServerContext) -> Void

    func intercept<Result: Sendable>(context: GRPCServerContext, next: @Sendable () async throws -> Result) async throws -> Result {
        record(context)
        return try await next()
    }
}
