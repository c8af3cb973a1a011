import Foundation
import InteropTestSupport
import Testing

/// The built example programs (debug, next to the test runner) end as their options say:
/// --help prints the usage and exits 0; a bad value or an unknown flag prints an error and
/// the usage to standard error and exits 64, before any socket is opened.
@Suite struct ProgramsTests {
    @Test(arguments: [
        ("EchoServer", [], ["USAGE: EchoServer", "--threads"]),
        ("EchoClient", [], ["USAGE: EchoClient", "--message"]),
        ("HTTP2Server", [], ["USAGE: HTTP2Server", "--max-streams", "GET  /echo-size/N", "--tls-cert <file>", "--tls-key <file>", "--log-level <level>"]),
        ("HTTP2Client", [], ["USAGE: HTTP2Client", "<path> ...", "--tls-ca <file>", "--tls-server-name <name>"]),
        ("Greeter", [], ["USAGE: Greeter", "serve", "greet", "For TLS"]),
        ("Greeter", ["serve"], ["USAGE: Greeter serve", "--port", "--tls-cert <file>", "--tls-key <file>", "--metrics-port <port>",
                                "--log-level <level>", "GET /metrics"]),
        ("Greeter", ["greet"], ["USAGE: Greeter greet", "--name", "--tls", "--tls-ca <file>", "--tls-server-name <name>"]),
        ("InteropServer", [], ["USAGE: InteropServer", "--port", "--use_tls", "--tls_cert_file", "--tls_key_file"]),
        ("InteropClient", [], ["USAGE: InteropClient", "--server_host", "--test_case", "--use_tls", "--use_test_ca", "--ca_file"]),
        ("GRPCProxy", [], ["USAGE: GRPCProxy", "--upstream <host:port>", "--health-check"]),
    ])
    func helpExitsZero(program: String, subcommand: [String], expected: [String]) async throws {
        let result = try await runProcess(try locateBuiltProduct(program), subcommand + ["--help"], timeout: 30)
        #expect(result.status == 0, "\(program) --help exited \(result.status): \(result.stderr)")
        for text in expected {
            #expect(result.stdout.contains(text), "\(program) --help lacks \(text):\n\(result.stdout)")
        }
    }

    @Test(arguments: [
        ("EchoServer", ["--port", "abc"], "The value 'abc' is invalid for '--port <port>'"),
        ("EchoClient", ["--port", "0"], "--port must be in 1...65535"),
        ("HTTP2Server", ["--threads", "0"], "--threads must be at least 1"),
        ("HTTP2Server", ["--prot", "8080"], "Unknown option '--prot'"),
        ("HTTP2Server", ["--tls-cert", "/dev/null"], "--tls-cert needs --tls-key"),
        ("HTTP2Client", ["hello"], "a path must start with /"),
        ("HTTP2Client", ["--tls-ca", "/no/such/ca.pem"], "--tls-ca /no/such/ca.pem: No such file or directory"),
        ("Greeter", ["serve", "--port", "65536"], "--port must be in 0...65535"),
        ("Greeter", ["serve", "--metrics-port", "70000"], "--metrics-port must be in 0...65535"),
        ("Greeter", ["serve", "--log-level", "loud"], "--log-level must be one of trace, debug, info, notice, warning, error, critical"),
        ("HTTP2Server", ["--log-level", "verbose"], "--log-level must be one of"),
        ("Greeter", ["serve", "--tls-cert", "/dev/null"], "--tls-cert needs --tls-key"),
        ("Greeter", ["serve", "--tls-cert", "/no/such/cert.pem", "--tls-key", "/dev/null"], "--tls-cert /no/such/cert.pem: No such file or directory"),
        ("Greeter", ["greet", "--tls-ca", "/no/such/ca.pem"], "--tls-ca /no/such/ca.pem: No such file or directory"),
        ("Greeter", ["greeet"], "Unexpected argument 'greeet'"),
        ("Greeter", [], "Greeter serve or Greeter greet"),
        ("InteropServer", ["--tls_cert_file=cert.pem"], "--tls_cert_file and --tls_key_file need --use_tls=true"),
        ("InteropServer", ["--use_tls=true", "--tls_cert_file=/no/such/cert.pem"], "--tls_cert_file /no/such/cert.pem: No such file or directory"),
        ("InteropServer", ["--use_alts=true"], "ALTS is not supported"),
        ("InteropClient", ["--use_tls=true", "--ca_file=/no/such/ca.pem"], "--ca_file /no/such/ca.pem: No such file or directory"),
        ("InteropClient", ["--use_tls=true", "--oauth_scope=x"], "--oauth_scope is not supported"),
        ("InteropClient", ["--test_case=large_unray"], "unknown test case \"large_unray\""),
        ("GRPCProxy", [], "at least one --upstream host:port is needed"),
        ("GRPCProxy", ["--upstream", "127.0.0.1:0"], "--upstream's port must be in 1...65535"),
    ])
    func badFlagsExitWithUsageError(program: String, arguments: [String], expected: String) async throws {
        let result = try await runProcess(try locateBuiltProduct(program), arguments, timeout: 30)
        #expect(result.status == 64, "\(program) \(arguments) exited \(result.status)")
        #expect(result.stderr.contains(expected), "\(program) \(arguments) said:\n\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("Usage:") || result.stderr.contains("USAGE:"), "\(program) \(arguments) gave no usage:\n\(result.stderr)")
    }
}
