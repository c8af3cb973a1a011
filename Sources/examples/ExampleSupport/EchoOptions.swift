import ArgumentParser

/// EchoServer's options: `[--host 127.0.0.1] [--port 9999] [--threads N]`.
public struct EchoServerOptions: ParsableArguments {
    @Option(help: "The address to listen on.")
    public var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: the kernel picks one).")
    public var port = 9999

    @Option(help: ArgumentHelp("Event loop threads (default: the number of cores).", valueName: "n"))
    public var threads: Int?

    public init() {}

    public func validate() throws {
        try ExampleValidation.host(host)
        try ExampleValidation.listenPort(port)
        try ExampleValidation.positive(threads, flag: "--threads")
    }
}

/// EchoClient's options: `[--host 127.0.0.1] [--port 9999] [--message text]`.
public struct EchoClientOptions: ParsableArguments {
    @Option(help: "The echo server's address.")
    public var host = "127.0.0.1"

    @Option(help: "The echo server's port.")
    public var port = 9999

    @Option(help: ArgumentHelp("The text to send; the reply is printed.", valueName: "text"))
    public var message = "Hello, Loop!"

    public init() {}

    public func validate() throws {
        try ExampleValidation.host(host)
        try ExampleValidation.connectPort(port)
        // The client waits until as many bytes came back as it sent: for none it would wait forever.
        guard !message.isEmpty else { throw ValidationError("--message must not be empty") }
    }
}
