import Foundation
import InteropTestSupport
import Testing

extension GRPCInteropTests {
    /// The Greeter example: its own client against its server (cleartext and TLS), and grpcio
    /// calling its helloworld.Greeter and grpc.health.v1.Health services.
    @Suite struct GreeterInteropTests {
        /// `Greeter greet` against `Greeter serve`: one line, "Hello, NAME!".
        @Test func greetAgainstServe() async throws {
            let greeter = try locateBuiltProduct("Greeter")
            try await withGreeterServer(greeter) { server in
                for name in ["Loop", "interop test"] {
                    let result = try await runProcess(greeter, ["greet", "--host", "127.0.0.1", "--port", String(server.port), "--name", name], timeout: 30)
                    #expect(result.stdout == "Hello, \(name)!\n", "Greeter greet --name \(name) said:\n\(result.stdout)\(result.stderr)")
                    #expect(result.status == 0, "Greeter greet exited \(result.status)")
                }
            }
        }

        /// `Greeter greet` against `Greeter serve --tls-cert --tls-key` with the test CA's
        /// certificate for localhost / 127.0.0.1 / a.example (scripts/make-test-certs.sh): the
        /// greeting when the client trusts that CA (by host name, by address, and naming the
        /// server with --tls-server-name); a refusal in words when it trusts only the system's
        /// roots, or names a host the certificate does not cover.
        @Test func greetAgainstServeOverTLS() async throws {
            let certificates = try await TestCertificates.shared()
            let greeter = try locateBuiltProduct("Greeter")
            let server = try await startGreeterReportingPort(greeter, [
                "serve", "--port", "0", "--tls-cert", certificates.file("server.pem"), "--tls-key", certificates.file("server.key"),
            ])
            try await withServer(server) { server in
                #expect(server.process.log.contains("(TLS"), "Greeter serve did not say TLS:\n\(server.process.log)")
                let port = String(server.port)
                let ca = certificates.file("ca.pem")
                for (label, arguments) in [
                    ("localhost", ["--host", "localhost", "--tls-ca", ca]),
                    ("127.0.0.1", ["--host", "127.0.0.1", "--tls-ca", ca]),
                    ("a.example", ["--host", "127.0.0.1", "--tls-ca", ca, "--tls-server-name", "a.example"]),
                ] {
                    let result = try await runProcess(greeter, ["greet", "--port", port, "--name", label] + arguments, timeout: 30)
                    #expect(result.stdout == "Hello, \(label)!\n", "Greeter greet \(arguments) said:\n\(result.stdout)\(result.stderr)")
                    #expect(result.status == 0, "Greeter greet \(arguments) exited \(result.status)")
                }
                for (arguments, reason) in [
                    (["--host", "localhost", "--tls"], "certificate verify failed"),  // The system's roots do not know the test CA.
                    (["--host", "localhost", "--tls-ca", ca, "--tls-server-name", "b.example"], "hostname mismatch"),
                ] {
                    let result = try await runProcess(greeter, ["greet", "--port", port] + arguments, timeout: 30)
                    #expect(result.status == 1, "Greeter greet \(arguments) exited \(result.status): \(result.stdout)\(result.stderr)")
                    #expect(result.stdout.hasPrefix("Greeter: ") && result.stdout.contains(reason),
                            "Greeter greet \(arguments) said:\n\(result.stdout)\(result.stderr)")
                }
            }
        }

        /// grpcio calls SayHello (a greeting, and INVALID_ARGUMENT for an empty name) and
        /// grpc.health.v1.Health/Check (SERVING for the server and helloworld.Greeter,
        /// NOT_FOUND for an unknown service), with the messages encoded by hand.
        @Test func grpcioCallsGreeterAndHealth() async throws {
            let python = try await locatePythonWithGRPC()
            let greeter = try locateBuiltProduct("Greeter")
            try await withGreeterServer(greeter) { server in
                let result = try await runProcess(python, ["-c", Self.grpcioScript, String(server.port)], timeout: 60)
                #expect(outputLines(result.stdout) == [
                    "SayHello grpcio: OK 0a0e48656c6c6f2c2067727063696f21",  // HelloReply{message: "Hello, grpcio!"}
                    "SayHello (empty): INVALID_ARGUMENT name must not be empty",
                    "Check (server): OK 0801",  // HealthCheckResponse{status: SERVING}
                    "Check helloworld.Greeter: OK 0801",
                    #"Check no.such.Service: NOT_FOUND unknown service "no.such.Service""#,
                ], "the grpcio script said:\n\(result.stdout)\(result.stderr.suffix(3000))")
                #expect(result.status == 0, "the grpcio script exited \(result.status)")
            }
        }

        /// Raw-bytes grpcio calls: a length-delimited string field 1 is the whole request of
        /// HelloRequest{name} and HealthCheckRequest{service}.
        static let grpcioScript = #"""
            import sys, grpc
            channel = grpc.insecure_channel("127.0.0.1:" + sys.argv[1])
            grpc.channel_ready_future(channel).result(timeout=20)
            def field1(text):
                data = text.encode()
                return b"\x0a" + bytes([len(data)]) + data if data else b""
            def call(path, label, text):
                method = channel.unary_unary(path, request_serializer=lambda b: b, response_deserializer=lambda b: b)
                try:
                    print(f"{label}: OK {method(field1(text), timeout=20).hex()}", flush=True)
                except grpc.RpcError as e:
                    print(f"{label}: {e.code().name} {e.details()}", flush=True)
            call("/helloworld.Greeter/SayHello", "SayHello grpcio", "grpcio")
            call("/helloworld.Greeter/SayHello", "SayHello (empty)", "")
            call("/grpc.health.v1.Health/Check", "Check (server)", "")
            call("/grpc.health.v1.Health/Check", "Check helloworld.Greeter", "helloworld.Greeter")
            call("/grpc.health.v1.Health/Check", "Check no.such.Service", "no.such.Service")
            channel.close()
            """#

        /// `Greeter serve` on a free port (its standard output is block-buffered when it is
        /// not a terminal, so the port is chosen here), killed at the end.
        private func withGreeterServer(_ greeter: String, _ body: (RunningServer) async throws -> Void,
                                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let server = try await startServer(greeter, name: "Greeter serve") { ["serve", "--host", "127.0.0.1", "--port", String($0)] }
            try await withServer(server, body, sourceLocation: sourceLocation)
        }

        /// `Greeter` started with `arguments` (`--port 0`), once it printed
        /// "Greeter listening on HOST:PORT" (its standard output is line-buffered).
        private func startGreeterReportingPort(_ greeter: String, _ arguments: [String]) async throws -> RunningServer {
            let process = try BackgroundProcess(greeter, arguments, name: "Greeter serve")
            do {
                let port = try await process.waitForOutput(timeout: 30) { text -> Int? in
                    guard let range = text.range(of: #"listening on [^ ]+:[0-9]+"#, options: .regularExpression) else { return nil }
                    return Int(text[range].split(separator: ":").last!)
                }
                return RunningServer(process: process, port: port)
            } catch {
                await process.stop()
                throw error
            }
        }
    }
}
