import ArgumentParser
import ExampleSupport

// The flags of gRPC's official interop programs (grpc-go's interop/server and
// interop/client, the names interop-test-descriptions.md and run_interop_tests.py use):
// underscores, `--name=value` (or `--name value`), booleans as `--use_tls=false`. TLS takes
// the official flags and defaults (gRPC's interop test certificates, as grpc-go's programs
// use them); the ones these programs cannot honour (ALTS, call credentials) are rejected with
// a message rather than ignored; the rest of the official flags are unknown options.

/// gRPC's interop test certificates, as Debian's golang-google-grpc-dev installs them (grpc-go's
/// testdata): the server's `server1.pem` / `server1.key` (for `*.test.google.fr`, among
/// others) and the CA that signed it, `ca.pem`. Public test material, not secrets; read from
/// the system, not copied into this repository.
public enum InteropTestCertificates {
    public static let directory = "/usr/share/gocode/src/google.golang.org/grpc/testdata"
    public static var serverCertificate: String { directory + "/server1.pem" }
    public static var serverKey: String { directory + "/server1.key" }
    public static var certificateAuthority: String { directory + "/ca.pem" }
    /// The name the official clients pass as `--server_host_override` with the test CA.
    public static let serverHostOverride = "foo.test.google.fr"
}

/// InteropServer's options: `[--port=10000] [--use_tls=false] [--tls_cert_file=F]
/// [--tls_key_file=F]`, plus `--host` and `--threads`, which the official servers do not have.
public struct InteropServerOptions: ParsableArguments {
    @Option(name: .customLong("port"), help: "The port to listen on (0: the kernel picks one).")
    public var port = 10000

    @Option(help: "The address to listen on (not an official interop flag).")
    public var host = "127.0.0.1"

    @Option(help: ArgumentHelp("Event loop threads (default: the number of cores; not an official interop flag).", valueName: "n"))
    public var threads: Int?

    @Option(help: ArgumentHelp("Bytes of unfinished request messages one connection may have granted at once "
                               + "(GRPCServerConfiguration.maxPartialMessageBytesPerConnection; default 32 MiB; not an official interop flag).",
                               valueName: "bytes"))
    public var maxPartialMessageBytes: Int?

    @Option(name: .customLong("use_tls"), help: ArgumentHelp("Serve TLS (ALPN h2) instead of plaintext HTTP/2.", valueName: "bool"))
    public var useTLS = false

    @Option(name: .customLong("use_alts"), help: .hidden)
    var useALTS = false

    @Option(name: .customLong("tls_cert_file"),
            help: ArgumentHelp("With --use_tls=true: the PEM certificate chain (default: gRPC's test server1.pem).", valueName: "file"))
    public var tlsCertFile: String?

    @Option(name: .customLong("tls_key_file"),
            help: ArgumentHelp("With --use_tls=true: its PEM private key (default: gRPC's test server1.key).", valueName: "file"))
    public var tlsKeyFile: String?

    /// The certificate chain and key to serve with, when `--use_tls=true`.
    public var tlsFiles: (certificate: String, key: String)? {
        guard useTLS else { return nil }
        return (tlsCertFile ?? InteropTestCertificates.serverCertificate, tlsKeyFile ?? InteropTestCertificates.serverKey)
    }

    @Option(name: .customLong("alts_handshaker_service_address"), help: .hidden)
    var altsHandshakerServiceAddress: String?

    public init() {}

    public func validate() throws {
        try ExampleValidation.listenPort(port)
        try ExampleValidation.host(host)
        try ExampleValidation.positive(threads, flag: "--threads")
        try ExampleValidation.positive(maxPartialMessageBytes, flag: "--max-partial-message-bytes")
        try InteropFlags.rejectSecurity(useALTS: useALTS, unsupported: [
            ("--alts_handshaker_service_address", altsHandshakerServiceAddress),
        ])
        if !useTLS {
            if tlsCertFile != nil || tlsKeyFile != nil {
                throw ValidationError("--tls_cert_file and --tls_key_file need --use_tls=true")
            }
        } else if let (certificate, key) = tlsFiles {
            try InteropFlags.readable(certificate, flag: "--tls_cert_file", isDefault: tlsCertFile == nil)
            try InteropFlags.readable(key, flag: "--tls_key_file", isDefault: tlsKeyFile == nil)
        }
    }
}

/// InteropClient's options: `[--server_host=127.0.0.1] [--server_port=10000]
/// [--test_case=all] [--use_tls=false] [--use_test_ca=false] [--ca_file=F]
/// [--server_host_override=NAME]`.
public struct InteropClientOptions: ParsableArguments {
    @Option(name: .customLong("server_host"), help: "The server's address.")
    public var serverHost = "127.0.0.1"

    @Option(name: .customLong("server_port"), help: "The server's port.")
    public var serverPort = 10000

    @Option(
        name: .customLong("test_case"),
        help: ArgumentHelp(
            "A test case, a comma-separated list of them, or all. Cases: \(InteropTestCase.allCases.map(\.rawValue).joined(separator: ", ")).",
            valueName: "name[,name...]"))
    public var testCase = "all"

    @Option(name: .customLong("use_tls"), help: ArgumentHelp("Connect with TLS (ALPN h2) instead of plaintext HTTP/2.", valueName: "bool"))
    public var useTLS = false

    // run_interop_tests.py passes these two to plaintext runs too; they only matter with TLS
    // (the official clients use them for the TLS handshake alone), so they are accepted.
    @Option(name: .customLong("use_test_ca"),
            help: ArgumentHelp("With --use_tls=true: trust gRPC's test CA (ca.pem) instead of the system's roots.", valueName: "bool"))
    public var useTestCA = false

    @Option(name: .customLong("server_host_override"),
            help: ArgumentHelp("With --use_tls=true: the name sent as SNI and :authority and verified (e.g. foo.test.google.fr).",
                               valueName: "name"))
    public var serverHostOverride: String?

    @Option(name: .customLong("use_alts"), help: .hidden)
    var useALTS = false

    @Option(name: .customLong("ca_file"),
            help: ArgumentHelp("With --use_tls=true: trust this PEM CA file (overrides --use_test_ca).", valueName: "file"))
    public var caFile: String?

    /// The CA file to trust, when TLS is on and one is named (nil: the system's roots).
    public var trustedCAFile: String? {
        guard useTLS else { return nil }
        return caFile ?? (useTestCA ? InteropTestCertificates.certificateAuthority : nil)
    }

    @Option(name: .customLong("custom_credentials_type"), help: .hidden)
    var customCredentialsType: String?

    @Option(name: .customLong("alts_handshaker_service_address"), help: .hidden)
    var altsHandshakerServiceAddress: String?

    @Option(name: .customLong("service_account_key_file"), help: .hidden)
    var serviceAccountKeyFile: String?

    @Option(name: .customLong("oauth_scope"), help: .hidden)
    var oauthScope: String?

    @Option(name: .customLong("default_service_account"), help: .hidden)
    var defaultServiceAccount: String?

    public init() {}

    /// The cases `--test_case` names, in its order (checked by `validate()`).
    public var testCases: [InteropTestCase] { (try? InteropFlags.testCases(testCase)) ?? [] }

    public func validate() throws {
        _ = try InteropFlags.testCases(testCase)
        try ExampleValidation.host(serverHost, flag: "--server_host")
        try ExampleValidation.connectPort(serverPort, flag: "--server_port")
        if useTLS, let file = trustedCAFile {
            try InteropFlags.readable(file, flag: caFile != nil ? "--ca_file" : "--use_test_ca", isDefault: caFile == nil)
        }
        try InteropFlags.rejectSecurity(useALTS: useALTS, unsupported: [
            ("--custom_credentials_type", customCredentialsType),
            ("--alts_handshaker_service_address", altsHandshakerServiceAddress),
            ("--service_account_key_file", serviceAccountKeyFile), ("--oauth_scope", oauthScope),
            ("--default_service_account", defaultServiceAccount),
        ])
    }
}

enum InteropFlags {
    /// `--test_case`'s value: "all", or case names separated by commas.
    static func testCases(_ value: String) throws -> [InteropTestCase] {
        if value == "all" { return InteropTestCase.allCases }
        let names = value.split(separator: ",", omittingEmptySubsequences: false)
        return try names.map { name in
            guard let testCase = InteropTestCase(rawValue: String(name)) else {
                throw ValidationError("unknown test case \(String(name).debugDescription); known: all, "
                                      + InteropTestCase.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return testCase
        }
    }

    /// Throws for ALTS or any of `unsupported` given: the official programs would use them,
    /// these cannot.
    static func rejectSecurity(useALTS: Bool, unsupported: [(flag: String, value: String?)]) throws {
        if useALTS { throw ValidationError("ALTS is not supported: run without --use_alts or with --use_alts=false") }
        for (flag, value) in unsupported where value != nil {
            throw ValidationError("\(flag) is not supported (no ALTS or call credentials here)")
        }
    }

    /// Throws unless `path` can be read; a default path names the package that installs it.
    static func readable(_ path: String, flag: String, isDefault: Bool) throws {
        do {
            try ExampleValidation.readableFile(path, flag: flag)
        } catch where isDefault {
            throw ValidationError("\(flag): gRPC's test certificate \(path) is missing (Debian golang-google-grpc-dev "
                                  + "installs it; or name your own file)")
        }
    }
}
