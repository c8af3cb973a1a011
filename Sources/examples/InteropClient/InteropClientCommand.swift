import ArgumentParser
import ExampleSupport
import InteropSupport
import Loop
import LoopGRPC

/// The gRPC interop test client, with the flags of the official interop clients:
/// --server_host, --server_port, --test_case (a name, a comma-separated list or "all"),
/// --use_tls, --use_test_ca, --ca_file, --server_host_override. Prints one line per case and
/// exits non-zero if any failed.
@main
struct InteropClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "InteropClient",
        abstract: "The gRPC interop test client: runs test cases against a grpc.testing.TestService server, plaintext or TLS.",
        discussion: """
            Takes the official interop clients' flags (--server_host=H --server_port=P \
            --test_case=NAME --use_tls=false|true --use_test_ca --ca_file=F \
            --server_host_override=NAME; --use_test_ca trusts gRPC's test ca.pem from Debian's \
            golang-google-grpc-dev). Prints PASS or FAIL and the case's name, one line per case, \
            and exits 1 if any failed. ALTS and call credentials (--use_alts=true, \
            --custom_credentials_type, --service_account_key_file, --oauth_scope, \
            --default_service_account, --alts_handshaker_service_address) are refused.
            """)

    @OptionGroup var options: InteropClientOptions

    func run() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        var configuration = GRPCChannelConfiguration()
        if options.useTLS {
            configuration.tls = .client(trustRoots: options.trustedCAFile.map { .pem(.file($0)) } ?? .system,
                                        serverHostOverride: options.serverHostOverride)
        }
        var failed = 0
        for testCase in options.testCases {
            // A channel per case, as the official clients do.
            let channel = GRPCChannel(host: options.serverHost, port: options.serverPort, group: group, configuration: configuration)
            do {
                try await testCase.run(on: channel)
                print("PASS \(testCase.rawValue)")
            } catch {
                failed += 1
                print("FAIL \(testCase.rawValue): \(error)")
            }
            await channel.close()
        }
        try await group.shutdownGracefully()
        if failed > 0 { throw ExitCode.failure }
    }
}
