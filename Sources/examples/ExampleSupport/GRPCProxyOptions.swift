import ArgumentParser

/// GRPCProxy's options: `--upstream HOST:PORT [--upstream HOST:PORT ...] [--listen
/// 127.0.0.1:8080] [--health-check] [--health-check-interval 5] [--threads N]`.
public struct GRPCProxyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The address and port to listen on (port 0: the kernel picks one).", valueName: "host:port"))
    public var listen = "127.0.0.1:8080"

    @Option(help: ArgumentHelp("An upstream server; repeat for round-robin over several.", valueName: "host:port"))
    public var upstream: [String] = []

    @Flag(help: "Check each upstream with grpc.health.v1.Health/Check periodically; one not SERVING gets no requests.")
    public var healthCheck = false

    @Option(help: ArgumentHelp("Seconds between health checks (with --health-check).", valueName: "seconds"))
    public var healthCheckInterval = 5.0

    @Option(help: ArgumentHelp("Event loop threads (default: the number of cores).", valueName: "n"))
    public var threads: Int?

    public init() {}

    /// `--listen` as host and port.
    public var listenAddress: (host: String, port: Int) { Self.split(listen)! }

    /// The `--upstream` values as hosts and ports, in order.
    public var upstreamAddresses: [(host: String, port: Int)] { upstream.map { Self.split($0)! } }

    public func validate() throws {
        guard let address = Self.split(listen) else {
            throw ValidationError("--listen must be host:port (or [ipv6]:port), got \(listen.debugDescription)")
        }
        try ExampleValidation.listenPort(address.port, flag: "--listen's port")
        guard !upstream.isEmpty else { throw ValidationError("at least one --upstream host:port is needed") }
        for value in upstream {
            guard let address = Self.split(value) else {
                throw ValidationError("--upstream must be host:port (or [ipv6]:port), got \(value.debugDescription)")
            }
            try ExampleValidation.connectPort(address.port, flag: "--upstream's port")
        }
        guard healthCheckInterval.isFinite, healthCheckInterval >= 0.01 else {
            throw ValidationError("--health-check-interval must be at least 0.01 seconds, got \(healthCheckInterval)")
        }
        try ExampleValidation.positive(threads, flag: "--threads")
    }

    /// "host:port" or "[v6]:port" split in two; nil when either part is missing or the port
    /// is not a number.
    static func split(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]) else { return nil }
        return (host, port)
    }
}
