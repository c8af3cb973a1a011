import ArgumentParser
import ExampleSupport
import InteropSupport
import Loop
import LoopGRPC
import LoopGRPCProtobuf

/// The gRPC interop test server (grpc.testing.TestService), with the flags of the official
/// interop servers: --port=N, --use_tls, --tls_cert_file, --tls_key_file (and --host, default
/// 127.0.0.1, and --threads).
@main
struct InteropServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "InteropServer",
        abstract: "The gRPC interop test server (grpc.testing.TestService and grpc.health.v1.Health), plaintext or TLS.",
        discussion: """
            Takes the official interop servers' flags (--port=N, --use_tls=false|true, \
            --tls_cert_file, --tls_key_file; with --use_tls=true and no files, gRPC's test \
            server1.pem and server1.key from Debian's golang-google-grpc-dev). ALTS \
            (--use_alts=true, --alts_handshaker_service_address) is refused.
            """)

    @OptionGroup var options: InteropServerOptions

    func run() async throws {
        lineBufferStandardOutput()
        let group = EventLoopGroup(numberOfThreads: options.threads ?? EventLoopGroup.coreCount)
        var configuration = GRPCServerConfiguration()
        // The interop cases send 4 MiB payloads inside larger messages.
        configuration.maxReceiveMessageSize = 8 * 1024 * 1024
        if let bytes = options.maxPartialMessageBytes { configuration.maxPartialMessageBytesPerConnection = bytes }
        if let (certificate, key) = options.tlsFiles {
            configuration.tls = .server(certificateChain: .file(certificate), privateKey: .file(key))
        }
        let server = try await GRPCServer.bind(
            host: options.host, port: options.port, group: group,
            services: [TestService(), GRPCHealthService()], configuration: configuration
        )
        print("InteropServer listening on \(options.host):\(server.port)\(options.useTLS ? " (TLS)" : "")")
        try await server.closeFuture.get()
    }
}
