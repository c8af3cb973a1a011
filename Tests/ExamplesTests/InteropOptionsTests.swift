import ArgumentParser
import InteropSupport
import Testing

/// The official interop flags: underscores, `--flag=value` as grpc's harness passes them,
/// `--flag value` as our tests also do, and TLS refused rather than ignored.
@Suite struct InteropOptionsTests {
    @Test func serverTakesTheOfficialFlags() throws {
        let defaults = try InteropServerOptions.parse([])
        #expect(defaults.port == 10000 && defaults.host == "127.0.0.1" && defaults.threads == nil && !defaults.useTLS)
        let official = try InteropServerOptions.parse(["--port=8080", "--use_tls=false"])
        #expect(official.port == 8080)
        let ours = try InteropServerOptions.parse(["--host", "127.0.0.1", "--port", "0", "--threads", "1"])
        #expect(ours.port == 0 && ours.threads == 1)
    }

    @Test func clientTakesTheOfficialFlags() throws {
        let defaults = try InteropClientOptions.parse([])
        #expect(defaults.serverHost == "127.0.0.1" && defaults.serverPort == 10000)
        #expect(defaults.testCases == InteropTestCase.allCases)
        let official = try InteropClientOptions.parse([
            "--server_host=127.0.0.1", "--server_port=8080", "--use_tls=false", "--test_case=large_unary",
        ])
        #expect(official.serverPort == 8080 && official.testCases == [.largeUnary])
        let spaced = try InteropClientOptions.parse([
            "--server_host", "localhost", "--server_port", "1", "--use_tls=false", "--test_case=empty_unary,ping_pong",
        ])
        #expect(spaced.serverHost == "localhost" && spaced.testCases == [.emptyUnary, .pingPong])
        // run_interop_tests.py passes these to plaintext runs as well: TLS-only, accepted.
        let harness = try InteropClientOptions.parse([
            "--server_host_override=foo.test.google.fr", "--use_tls=false", "--use_test_ca=true", "--test_case=all",
        ])
        #expect(harness.testCases == InteropTestCase.allCases)
    }

    @Test(arguments: [
        (["--use_tls=true"], "TLS is not supported"),
        (["--use_tls", "true"], "TLS is not supported"),
        (["--use_tls=yes"], "--use_tls"),
        (["--use_alts=true"], "ALTS is not supported"),
        (["--tls_cert_file=cert.pem"], "--tls_cert_file is not supported"),
        (["--tls_key_file", "key.pem"], "--tls_key_file is not supported"),
        (["--port=abc"], "--port"),
        (["--port=65536"], "0...65535"),
        (["--threads=0"], "--threads must be at least 1"),
        (["--server_port=1"], "Unknown option '--server_port"),
    ])
    func serverRejects(arguments: [String], mentioning: String) throws {
        let result = try #require(failure(InteropServerOptions.self, arguments), "\(arguments) parsed")
        #expect(result.status == usageStatus)
        #expect(result.message.contains(mentioning), "\(arguments): \(result.message)")
    }

    @Test(arguments: [
        (["--use_tls=true"], "TLS is not supported"),
        (["--use_alts=true"], "ALTS is not supported"),
        (["--ca_file=ca.pem"], "--ca_file is not supported"),
        (["--custom_credentials_type=google_default_credentials"], "--custom_credentials_type is not supported"),
        (["--service_account_key_file=k.json"], "--service_account_key_file is not supported"),
        (["--oauth_scope=x"], "--oauth_scope is not supported"),
        (["--default_service_account=a@b"], "--default_service_account is not supported"),
        (["--alts_handshaker_service_address=x"], "--alts_handshaker_service_address is not supported"),
        (["--test_case=no_such_case"], "unknown test case \"no_such_case\"; known: all, empty_unary"),
        (["--test_case=empty_unary,,large_unary"], "unknown test case \"\""),
        (["--server_port=0"], "--server_port must be in 1...65535"),
        (["--server_port=port"], "--server_port"),
        (["--server-port=1"], "Unknown option '--server-port"),
        (["--port=1"], "Unknown option '--port"),
    ])
    func clientRejects(arguments: [String], mentioning: String) throws {
        let result = try #require(failure(InteropClientOptions.self, arguments), "\(arguments) parsed")
        #expect(result.status == usageStatus)
        #expect(result.message.contains(mentioning), "\(arguments): \(result.message)")
    }

    @Test func helpShowsTheOfficialNamesNotTheRefusedOnes() throws {
        let client = try #require(failure(InteropClientOptions.self, ["--help"]))
        #expect(client.status == 0)
        for text in ["--server_host", "--server_port", "--test_case", "--use_tls", "cancel_after_first_response"] {
            #expect(client.message.contains(text), "help lacks \(text):\n\(client.message)")
        }
        #expect(!client.message.contains("--oauth_scope"))
        let server = try #require(failure(InteropServerOptions.self, ["--help"]))
        #expect(server.status == 0 && server.message.contains("--port") && server.message.contains("--use_tls"))
        #expect(!server.message.contains("--tls_cert_file"))
    }
}
