import ArgumentParser

/// `Greeter serve`'s options: `[--host 127.0.0.1] [--port 50051] [--tls-cert FILE --tls-key FILE]
/// [--metrics-port N] [--log-level LEVEL]`.
public struct GreeterServeOptions: ParsableArguments {
    @Option(help: "The address to listen on.")
    public var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: the kernel picks one).")
    public var port = 50051

    @OptionGroup public var tls: TLSServerOptions

    @Option(help: ArgumentHelp("Serve Prometheus metrics as text at GET /metrics over HTTP/2 (h2c) on this port, on --host.",
                               valueName: "port"))
    public var metricsPort: Int?

    @OptionGroup public var logging: LogLevelOption

    public init() {}

    public func validate() throws {
        try ExampleValidation.host(host)
        try ExampleValidation.listenPort(port)
        if let metricsPort { try ExampleValidation.listenPort(metricsPort, flag: "--metrics-port") }
    }
}

/// `Greeter greet`'s options: `[--host 127.0.0.1] [--port 50051] [--name Loop] [--tls]
/// [--tls-ca FILE] [--tls-server-name NAME]`.
public struct GreeterGreetOptions: ParsableArguments {
    @Option(help: "The server's address.")
    public var host = "127.0.0.1"

    @Option(help: "The server's port.")
    public var port = 50051

    /// Not checked here: the server answers an empty name with INVALID_ARGUMENT.
    @Option(help: "The name to greet.")
    public var name = "Loop"

    @OptionGroup public var tls: TLSClientOptions

    public init() {}

    public func validate() throws {
        try ExampleValidation.host(host)
        try ExampleValidation.connectPort(port)
    }
}
