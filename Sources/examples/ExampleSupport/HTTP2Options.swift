import ArgumentParser
import Glibc

/// HTTP2Server's options: `[--host 127.0.0.1] [--port 8080] [--root DIR] [--threads N]
/// [--max-streams N] [--frame-log] [--http1] [--tls-cert FILE --tls-key FILE] [--log-level LEVEL]`.
public struct HTTP2ServerOptions: ParsableArguments {
    @Option(help: "The address to listen on.")
    public var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: the kernel picks one).")
    public var port = 8080

    @Option(help: ArgumentHelp("The directory GET /static/PATH serves files from.", valueName: "dir"))
    public var root = "."

    @Option(help: ArgumentHelp("Event loop threads (default: the number of cores).", valueName: "n"))
    public var threads: Int?

    @Option(help: ArgumentHelp("SETTINGS_MAX_CONCURRENT_STREAMS announced to clients (default: 1000).", valueName: "n"))
    public var maxStreams: UInt32?

    @Flag(help: "Print every frame received and sent.")
    public var frameLog = false

    @Flag(help: "Serve HTTP/1.1 on the same port too (h2c upgrade included).")
    public var http1 = false

    @OptionGroup public var tls: TLSServerOptions

    @OptionGroup public var logging: LogLevelOption

    public init() {}

    public func validate() throws {
        try ExampleValidation.host(host)
        try ExampleValidation.listenPort(port)
        try ExampleValidation.positive(threads, flag: "--threads")
        var info = stat()
        guard stat(root, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ValidationError("--root \(root) is not a directory")
        }
    }
}

/// HTTP2Client's options: `[--host 127.0.0.1] [--port 8080] [--method GET] [--data TEXT]
/// [--verbose] [--tls] [--tls-ca FILE] [--tls-server-name NAME] [PATH...]`.
public struct HTTP2ClientOptions: ParsableArguments {
    @Option(help: "The server's address.")
    public var host = "127.0.0.1"

    @Option(help: "The server's port.")
    public var port = 8080

    @Option(help: ArgumentHelp("The request method (default: GET, or POST with --data).", valueName: "method"))
    public var method: String?

    @Option(help: ArgumentHelp("A request body, sent with every request.", valueName: "text"))
    public var data: String?

    @Flag(help: "Print every frame sent and received.")
    public var verbose = false

    @OptionGroup public var tls: TLSClientOptions

    @Argument(help: ArgumentHelp("Paths to fetch, concurrently on one connection.", valueName: "path"))
    public var paths: [String] = ["/hello"]

    public init() {}

    /// The method to send: `--method`, else POST when there is a body, else GET.
    public var requestMethod: String { method ?? (data == nil ? "GET" : "POST") }

    public func validate() throws {
        try ExampleValidation.host(host)
        try ExampleValidation.connectPort(port)
        if let method {
            // RFC 9110's token characters.
            let punctuation = Set("!#$%&'*+-.^_`|~".unicodeScalars)
            let isToken = !method.isEmpty && method.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || punctuation.contains($0))
            }
            guard isToken else { throw ValidationError("--method must be a token such as GET or POST, got \(method.debugDescription)") }
        }
        for path in paths where !path.hasPrefix("/") {
            throw ValidationError("a path must start with /, got \(path.debugDescription)")
        }
    }
}
