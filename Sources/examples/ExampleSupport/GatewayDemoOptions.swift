import ArgumentParser

/// GatewayDemo's options: `[--host 127.0.0.1] [--port 8080] [--log-level LEVEL]`.
public struct GatewayDemoOptions: ParsableArguments {
    @Option(help: "The address to listen on.")
    public var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: the kernel picks one): gRPC, gRPC-Web, REST/JSON and /healthz, over HTTP/1.1 and HTTP/2.")
    public var port = 8080

    @OptionGroup public var logging: LogLevelOption

    public init() {}

    public func validate() throws {
        try ExampleValidation.host(host)
        try ExampleValidation.listenPort(port)
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
