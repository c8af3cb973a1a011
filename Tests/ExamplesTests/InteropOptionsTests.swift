import ArgumentParser
import InteropSupport
import Testing

/// The official interop flags: underscores, `--flag=value` as grpc's harness passes them,
/// `--flag value` as our tests also do; TLS with gRPC's test certificates by default (Debian's
/// golang-google-grpc-dev installs them), ALTS and call credentials refused rather than ignored.
@Suite struct InteropOptionsTests {
    @Test func serverTakesTheOfficialFlags() throws {
        let defaults = try InteropServerOptions.parse([])
        #expect(defaults.port == 10000 && defaults.host == "127.0.0.1" && defaults.threads == nil && !defaults.useTLS)
        let official = try InteropServerOptions.parse(["--port=8080", "--use_tls=false"])
        #expect(official.port == 8080)
        let ours = try InteropServerOptions.parse(["--host", "127.0.0.1", "--port", "0", "--threads", "1"])
        #expect(ours.port == 0 && ours.threads == 1)
        #expect(defaults.tlsFiles == nil && official.tlsFiles == nil)
    }

    @Test func serverServesTLSWithTheTestCertificatesByDefault() throws {
        let tls = try InteropServerOptions.parse(["--port=0", "--use_tls=true"])
        #expect(tls.useTLS && tls.tlsCertFile == nil && tls.tlsKeyFile == nil)
        let files = try #require(tls.tlsFiles)
        #expect(files.certificate == "/usr/share/gocode/src/google.golang.org/grpc/testdata/server1.pem")
        #expect(files.key == "/usr/share/gocode/src/google.golang.org/grpc/testdata/server1.key")
        #expect(files.certificate == InteropTestCertificates.serverCertificate && files.key == InteropTestCertificates.serverKey)
        // Validation only checks that the files can be read: /dev/null stands for one.
        let own = try InteropServerOptions.parse(["--use_tls", "true", "--tls_cert_file=/dev/null", "--tls_key_file", "/dev/null"])
        #expect(own.tlsFiles?.certificate == "/dev/null" && own.tlsFiles?.key == "/dev/null")
        let ownCertificate = try InteropServerOptions.parse(["--use_tls=true", "--tls_cert_file=/dev/null"])
        #expect(ownCertificate.tlsFiles?.certificate == "/dev/null" && ownCertificate.tlsFiles?.key == InteropTestCertificates.serverKey)
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
        #expect(!harness.useTLS && harness.trustedCAFile == nil)
    }

    @Test func clientConnectsWithTLS() throws {
        let testCA = try InteropClientOptions.parse([
            "--server_host=127.0.0.1", "--server_port=8080", "--use_tls=true", "--use_test_ca=true",
            "--server_host_override=foo.test.google.fr", "--test_case=empty_unary",
        ])
        #expect(testCA.useTLS && testCA.useTestCA && testCA.serverHostOverride == "foo.test.google.fr")
        #expect(testCA.trustedCAFile == "/usr/share/gocode/src/google.golang.org/grpc/testdata/ca.pem")
        #expect(testCA.trustedCAFile == InteropTestCertificates.certificateAuthority)
        // Without a CA flag, the system's roots.
        let systemRoots = try InteropClientOptions.parse(["--use_tls=true"])
        #expect(systemRoots.useTLS && systemRoots.trustedCAFile == nil && systemRoots.serverHostOverride == nil)
        // --ca_file wins over --use_test_ca (/dev/null: any readable file).
        let own = try InteropClientOptions.parse(["--use_tls=true", "--use_test_ca=true", "--ca_file=/dev/null"])
        #expect(own.trustedCAFile == "/dev/null")
        #expect(try InteropClientOptions.parse(["--use_tls", "true", "--ca_file", "/dev/null"]).trustedCAFile == "/dev/null")
        // Plaintext ignores the TLS-only flags, as the harness expects.
        #expect(try InteropClientOptions.parse(["--use_tls=false", "--ca_file=/dev/null"]).trustedCAFile == nil)
    }

    @Test(arguments: [
        (["--use_tls=yes"], "--use_tls"),
        (["--use_alts=true"], "ALTS is not supported"),
        (["--use_tls=true", "--use_alts=true"], "ALTS is not supported"),
        (["--alts_handshaker_service_address=x"], "--alts_handshaker_service_address is not supported"),
        (["--tls_cert_file=cert.pem"], "--tls_cert_file and --tls_key_file need --use_tls=true"),
        (["--tls_key_file", "key.pem"], "--tls_cert_file and --tls_key_file need --use_tls=true"),
        (["--use_tls=false", "--tls_cert_file=/dev/null", "--tls_key_file=/dev/null"], "--tls_cert_file and --tls_key_file need --use_tls=true"),
        (["--use_tls=true", "--tls_cert_file=/no/such/cert.pem"], "--tls_cert_file /no/such/cert.pem: No such file or directory"),
        (["--use_tls=true", "--tls_cert_file=/dev/null", "--tls_key_file=/no/such/key.pem"], "--tls_key_file /no/such/key.pem: No such file or directory"),
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
        (["--use_alts=true"], "ALTS is not supported"),
        (["--use_tls=true", "--use_alts=true"], "ALTS is not supported"),
        (["--use_tls=true", "--ca_file=/no/such/ca.pem"], "--ca_file /no/such/ca.pem: No such file or directory"),
        (["--use_tls=maybe"], "--use_tls"),
        (["--use_tls=true", "--use_test_ca=true", "--custom_credentials_type=tls"], "--custom_credentials_type is not supported"),
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
        for text in ["--server_host", "--server_port", "--test_case", "--use_tls", "cancel_after_first_response",
                     "--use_test_ca", "--ca_file", "--server_host_override"] {
            #expect(client.message.contains(text), "help lacks \(text):\n\(client.message)")
        }
        for refused in ["--oauth_scope", "--use_alts", "--custom_credentials_type", "--service_account_key_file"] {
            #expect(!client.message.contains(refused), "help shows \(refused):\n\(client.message)")
        }
        let server = try #require(failure(InteropServerOptions.self, ["--help"]))
        #expect(server.status == 0)
        for text in ["--port", "--use_tls", "--tls_cert_file", "--tls_key_file"] {
            #expect(server.message.contains(text), "help lacks \(text):\n\(server.message)")
        }
        #expect(!server.message.contains("--use_alts") && !server.message.contains("--alts_handshaker_service_address"))
    }
}
