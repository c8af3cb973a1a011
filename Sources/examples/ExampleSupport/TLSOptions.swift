import ArgumentParser
import Glibc

/// A server example's TLS options: `[--tls-cert FILE --tls-key FILE]`. Both or neither; with
/// them the server speaks TLS (ALPN h2) instead of cleartext.
public struct TLSServerOptions: ParsableArguments {
    @Option(name: .customLong("tls-cert"),
            help: ArgumentHelp("Serve TLS with this PEM certificate chain (leaf first); needs --tls-key.", valueName: "file"))
    public var certificateFile: String?

    @Option(name: .customLong("tls-key"),
            help: ArgumentHelp("The PEM private key of --tls-cert.", valueName: "file"))
    public var keyFile: String?

    public init() {}

    /// Whether TLS was asked for.
    public var enabled: Bool { certificateFile != nil }

    public func validate() throws {
        switch (certificateFile, keyFile) {
        case (nil, nil): return
        case (.some, nil): throw ValidationError("--tls-cert needs --tls-key")
        case (nil, .some): throw ValidationError("--tls-key needs --tls-cert")
        case (.some(let certificate), .some(let key)):
            try ExampleValidation.readableFile(certificate, flag: "--tls-cert")
            try ExampleValidation.readableFile(key, flag: "--tls-key")
        }
    }
}

/// A client example's TLS options: `[--tls] [--tls-ca FILE] [--tls-server-name NAME]`.
public struct TLSClientOptions: ParsableArguments {
    @Flag(name: .customLong("tls"), help: "Connect with TLS (ALPN h2), verifying the server against the system's roots.")
    public var tls = false

    @Option(name: .customLong("tls-ca"),
            help: ArgumentHelp("Trust this PEM CA instead of the system's roots (implies --tls).", valueName: "file"))
    public var caFile: String?

    @Option(name: .customLong("tls-server-name"),
            help: ArgumentHelp("The name to send as SNI and verify, instead of --host (implies --tls).", valueName: "name"))
    public var serverName: String?

    public init() {}

    /// Whether TLS was asked for.
    public var enabled: Bool { tls || caFile != nil || serverName != nil }

    public func validate() throws {
        if let caFile { try ExampleValidation.readableFile(caFile, flag: "--tls-ca") }
    }
}
