import ArgumentParser
import ExampleSupport
import Testing

/// The examples' TLS flags: `--tls-cert/--tls-key` on the servers (both or neither) and
/// `--tls/--tls-ca/--tls-server-name` on the clients. Validation only checks that a named
/// file can be read (the program reads it later), so /dev/null stands for a readable file.
@Suite struct TLSOptionsTests {
    @Test func serverTakesBothOrNeither() throws {
        let neither = try TLSServerOptions.parse([])
        #expect(!neither.enabled && neither.certificateFile == nil && neither.keyFile == nil)
        let both = try TLSServerOptions.parse(["--tls-cert", "/dev/null", "--tls-key=/dev/null"])
        #expect(both.enabled && both.certificateFile == "/dev/null" && both.keyFile == "/dev/null")
    }

    @Test(arguments: [
        (["--tls-cert", "/dev/null"], "--tls-cert needs --tls-key"),
        (["--tls-key", "/dev/null"], "--tls-key needs --tls-cert"),
        (["--tls-cert", "/no/such/cert.pem", "--tls-key", "/dev/null"], "--tls-cert /no/such/cert.pem: No such file or directory"),
        (["--tls-cert", "/dev/null", "--tls-key", "/no/such/key.pem"], "--tls-key /no/such/key.pem: No such file or directory"),
        (["--tls-cert"], "--tls-cert"),
        (["--tls-crt", "/dev/null"], "Unknown option '--tls-crt'"),
    ])
    func serverRejects(arguments: [String], mentioning: String) throws {
        let result = try #require(failure(TLSServerOptions.self, arguments), "\(arguments) parsed")
        #expect(result.status == usageStatus)
        #expect(result.message.contains(mentioning), "\(arguments): \(result.message)")
    }

    @Test func clientTLSIsOnWithAnyOfItsFlags() throws {
        let plain = try TLSClientOptions.parse([])
        #expect(!plain.enabled && !plain.tls && plain.caFile == nil && plain.serverName == nil)
        let systemRoots = try TLSClientOptions.parse(["--tls"])
        #expect(systemRoots.enabled && systemRoots.caFile == nil)
        let ca = try TLSClientOptions.parse(["--tls-ca", "/dev/null"])
        #expect(ca.enabled && ca.caFile == "/dev/null")
        let named = try TLSClientOptions.parse(["--tls-server-name=a.example"])
        #expect(named.enabled && named.serverName == "a.example" && named.caFile == nil)
    }

    @Test(arguments: [
        (["--tls-ca", "/no/such/ca.pem"], "--tls-ca /no/such/ca.pem: No such file or directory"),
        (["--tls", "--tls-ca", "/no/such/ca.pem"], "--tls-ca /no/such/ca.pem: No such file or directory"),
        (["--tls=yes"], "--tls"),
        (["--tls-ca"], "--tls-ca"),
    ])
    func clientRejects(arguments: [String], mentioning: String) throws {
        let result = try #require(failure(TLSClientOptions.self, arguments), "\(arguments) parsed")
        #expect(result.status == usageStatus)
        #expect(result.message.contains(mentioning), "\(arguments): \(result.message)")
    }
}
