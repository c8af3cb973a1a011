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
        ("HTTP2Server", [], ["USAGE: HTTP2Server", "--max-streams", "GET  /echo-size/N"]),
        ("HTTP2Client", [], ["USAGE: HTTP2Client", "<path> ..."]),
        ("Greeter", [], ["USAGE: Greeter", "serve", "greet"]),
        ("Greeter", ["greet"], ["USAGE: Greeter greet", "--name"]),
        ("InteropServer", [], ["USAGE: InteropServer", "--port", "--use_tls"]),
        ("InteropClient", [], ["USAGE: InteropClient", "--server_host", "--test_case"]),
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
        ("HTTP2Client", ["hello"], "a path must start with /"),
        ("Greeter", ["serve", "--port", "65536"], "--port must be in 0...65535"),
        ("Greeter", ["greeet"], "Unexpected argument 'greeet'"),
        ("Greeter", [], "Greeter serve or Greeter greet"),
        ("InteropServer", ["--use_tls=true"], "TLS is not supported: run with --use_tls=false"),
        ("InteropClient", ["--use_tls=true"], "TLS is not supported: run with --use_tls=false"),
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
