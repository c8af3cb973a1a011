import ArgumentParser

/// GatewayDemo's options: `[--host 127.0.0.1] [--port 8080] [--threads N] [--backend HOST:PORT] [--log-level LEVEL]`.
public struct GatewayDemoOptions: ParsableArguments {
    @Option(help: "The address to listen on.")
    public var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: the kernel picks one): gRPC, gRPC-Web, REST/JSON and /healthz, over HTTP/1.1 and HTTP/2.")
    public var port = 8080

    @Option(help: ArgumentHelp("Event loop threads (default: the number of cores).", valueName: "n"))
    public var threads: Int?

    @Option(help: ArgumentHelp("Send the REST routes' calls to the gRPC server at HOST:PORT instead of calling this server's own service in process.",
                               valueName: "host:port"))
    public var backend: String?

    @OptionGroup public var logging: LogLevelOption

    public init() {}

    /// `--backend` split into host and port.
    public var backendAddress: (host: String, port: Int)? {
        guard let backend, let colon = backend.lastIndex(of: ":"), let port = Int(backend[backend.index(after: colon)...]) else { return nil }
        return (String(backend[..<colon]), port)
    }

    public func validate() throws {
        try ExampleValidation.host(host)
        try ExampleValidation.listenPort(port)
        try ExampleValidation.positive(threads, flag: "--threads")
        if backend != nil {
            guard let address = backendAddress, !address.host.isEmpty else {
                throw ValidationError("--backend must be HOST:PORT, got \(backend ?? "")")
            }
            try ExampleValidation.connectPort(address.port, flag: "--backend")
        }
    }
}

/// `GatewayDemo hello`'s options: `[--host 127.0.0.1] [--port 8080] [--name Loop] [--count N]`.
public struct GatewayDemoHelloOptions: ParsableArguments {
    @Option(help: "The server's address.")
    public var host = "127.0.0.1"

    @Option(help: "The server's port.")
    public var port = 8080

    @Option(help: "Who to greet.")
    public var name = "Loop"

    @Option(help: ArgumentHelp("Stream this many greetings (StreamHellos) instead of one (SayHello).", valueName: "n"))
    public var count: Int?

    public init() {}

    public func validate() throws {
        try ExampleValidation.host(host)
        try ExampleValidation.connectPort(port)
        if let count, !(1...1000).contains(count) { throw ValidationError("--count must be between 1 and 1000, got \(count)") }
    }
}
