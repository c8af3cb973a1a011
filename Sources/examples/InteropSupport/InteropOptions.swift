import ArgumentParser
import ExampleSupport

// The flags of gRPC's official interop programs (grpc-go's interop/server and
// interop/client, the names interop-test-descriptions.md and run_interop_tests.py use):
// underscores, `--name=value` (or `--name value`), booleans as `--use_tls=false`. The ones
// these programs cannot honour (TLS, ALTS, credentials) are rejected with a message rather
// than ignored; the rest of the official flags are unknown options.

/// InteropServer's options: `[--port=10000] [--use_tls=false]`, plus `--host` and
/// `--threads`, which the official servers do not have.
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

    @Option(name: .customLong("use_tls"), help: ArgumentHelp("Must be false: this server speaks plaintext HTTP/2 only.", valueName: "bool"))
    public var useTLS = false

    @Option(name: .customLong("use_alts"), help: .hidden)
    var useALTS = false

    @Option(name: .customLong("tls_cert_file"), help: .hidden)
    var tlsCertFile: String?

    @Option(name: .customLong("tls_key_file"), help: .hidden)
    var tlsKeyFile: String?

    @Option(name: .customLong("alts_handshaker_service_address"), help: .hidden)
    var altsHandshakerServiceAddress: String?

    public init() {}

    public func validate() throws {
        try ExampleValidation.listenPort(port)
        try ExampleValidation.host(host)
        try ExampleValidation.positive(threads, flag: "--threads")
        try ExampleValidation.positive(maxPartialMessageBytes, flag: "--max-partial-message-bytes")
        try InteropFlags.rejectSecurity(useTLS: useTLS, useALTS: useALTS, unsupported: [
            ("--tls_cert_file", tlsCertFile), ("--tls_key_file", tlsKeyFile),
            ("--alts_handshaker_service_address", altsHandshakerServiceAddress),
        ])
    }
}

/// InteropClient's options: `[--server_host=127.0.0.1] [--server_port=10000]
/// [--test_case=all] [--use_tls=false]`.
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

    @Option(name: .customLong("use_tls"), help: ArgumentHelp("Must be false: this client speaks plaintext HTTP/2 only.", valueName: "bool"))
    public var useTLS = false

    // run_interop_tests.py passes these two to plaintext runs too; they only matter with TLS
    // (the official clients use them for the TLS handshake alone), so they are accepted.
    @Option(name: .customLong("use_test_ca"), help: ArgumentHelp("TLS only: no effect with --use_tls=false.", valueName: "bool"))
    public var useTestCA = false

    @Option(name: .customLong("server_host_override"), help: ArgumentHelp("TLS only: no effect with --use_tls=false.", valueName: "name"))
    public var serverHostOverride: String?

    @Option(name: .customLong("use_alts"), help: .hidden)
    var useALTS = false

    @Option(name: .customLong("ca_file"), help: .hidden)
    var caFile: String?

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
        try InteropFlags.rejectSecurity(useTLS: useTLS, useALTS: useALTS, unsupported: [
            ("--ca_file", caFile), ("--custom_credentials_type", customCredentialsType),
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

    /// Throws for TLS, ALTS or any of `unsupported` given: the official programs would use
    /// them, these cannot.
    static func rejectSecurity(useTLS: Bool, useALTS: Bool, unsupported: [(flag: String, value: String?)]) throws {
        if useTLS { throw ValidationError("TLS is not supported: run with --use_tls=false") }
        if useALTS { throw ValidationError("ALTS is not supported: run without --use_alts or with --use_alts=false") }
        for (flag, value) in unsupported where value != nil {
            throw ValidationError("\(flag) is not supported (no TLS, ALTS or call credentials here)")
        }
    }
}
