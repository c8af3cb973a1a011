import Foundation
import InteropTestSupport
import Testing

extension GRPCInteropTests {
    /// grpc-go 1.33's official interop client and server (Debian's source package, built by
    /// `make peers`) against our InteropServer and InteropClient examples. Every case runs
    /// three times: a flaky pass is a fail.
    @Suite struct GoInteropTests {
        static let rounds = 3

        /// interop_client --test_case=NAME against one InteropServer, each of the 15 cases
        /// three times, one process per run. interop_client is silent and exits 0 when the
        /// case passes, exits 1 with a FATAL line when it fails.
        @Test func goInteropClientAgainstInteropServer() async throws {
            let client = try locateCachedPeer("interop_client")
            try await withInteropServer { server in
                let started = Date()
                for round in 1...Self.rounds {
                    for name in goClientCases {
                        let result = try await runProcess(client, [
                            "--server_host=127.0.0.1", "--server_port=\(server.port)", "--use_tls=false", "--test_case=\(name)",
                        ], timeout: 30)
                        #expect(result.status == 0,
                                "interop_client --test_case=\(name) (round \(round) of \(Self.rounds)) exited \(result.status):\n\(result.stdout.suffix(2000))\(result.stderr.suffix(3000))")
                        #expect(!result.stderr.contains("FATAL") && !result.stdout.contains("FATAL"),
                                "interop_client --test_case=\(name) (round \(round)) reported:\n\(result.stdout.suffix(2000))\(result.stderr.suffix(3000))")
                    }
                }
                reportTiming("grpc-go interop_client, 15 cases x \(Self.rounds) against InteropServer (debug)", seconds: Date().timeIntervalSince(started))
            }
        }

        /// Our InteropClient (one process per round, every case but pick_first_unary in one
        /// comma list) against grpc-go's interop_server: a PASS line for each case, in order,
        /// nothing else, exit status 0; three rounds.
        @Test func interopClientAgainstGoInteropServer() async throws {
            let peer = try locateCachedPeer("interop_server")
            let client = try locateBuiltProduct("InteropClient")
            let server = try await startServer(peer, name: "grpc-go interop_server") { ["--port=\($0)"] }
            try await withServer(server) { server in
                let started = Date()
                for round in 1...Self.rounds {
                    let result = try await runProcess(client, [
                        "--server_host", "127.0.0.1", "--server_port", String(server.port), "--use_tls=false",
                        "--test_case=\(interopClientCases.joined(separator: ","))",
                    ], timeout: 60)
                    #expect(outputLines(result.stdout) == interopClientCases.map { "PASS \($0)" },
                            "InteropClient (round \(round) of \(Self.rounds)) said:\n\(result.stdout)\(result.stderr.suffix(3000))")
                    #expect(result.status == 0, "InteropClient (round \(round)) exited \(result.status)")
                }
                reportTiming("InteropClient, 14 cases x \(Self.rounds) against grpc-go interop_server (debug)", seconds: Date().timeIntervalSince(started))
            }
        }
    }
}
