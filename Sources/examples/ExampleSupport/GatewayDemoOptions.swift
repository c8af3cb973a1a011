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
