import ArgumentParser
import ExampleSupport
import InteropSupport
import Loop
import LoopGRPC
import LoopGRPCProtobuf

/// The gRPC interop test server (grpc.testing.TestService), with the flags of the official
/// interop servers: --port=N and --use_tls=false (and --host, default 127.0.0.1, and --threads).
@main
struct InteropServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "InteropServer",
        abstract: "The gRPC interop test server (grpc.testing.TestService and grpc.health.v1.Health), plaintext.",
        discussion: """
            Takes the official interop servers' flags (--port=N, --use_tls=false). TLS and ALTS \
            (--use_tls=true, --use_alts=true, --tls_cert_file, --tls_key_file, \
            --alts_handshaker_service_address) are refused.
            """)

    @OptionGroup var options: InteropServerOptions

    func run() async throws {
        lineBufferStandardOutput()
        let group = EventLoopGroup(numberOfThreads: options.threads ?? EventLoopGroup.coreCount)
        var configuration = GRPCServerConfiguration()
        // The interop cases send 4 MiB payloads inside larger messages.
        configuration.maxReceiveMessageSize = 8 * 1024 * 1024
        if let bytes = options.maxPartialMessageBytes { configuration.maxPartialMessageBytesPerConnection = bytes }
        let server = try await GRPCServer.bind(
            host: options.host, port: options.port, group: group,
            services: [TestService(), GRPCHealthService()], configuration: configuration
        )
        print("InteropServer listening on \(options.host):\(server.port)")
        try await server.closeFuture.get()
    }
}
