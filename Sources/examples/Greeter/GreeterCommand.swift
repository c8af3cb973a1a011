// helloworld.Greeter, server and client in one program, cleartext (h2c) or TLS (ALPN h2):
//   Greeter serve [--host 127.0.0.1] [--port 50051] [--tls-cert FILE --tls-key FILE]
//                 [--metrics-port 9090] [--log-level info]
//   Greeter greet [--host 127.0.0.1] [--port 50051] [--name Loop]
//                 [--tls] [--tls-ca FILE] [--tls-server-name NAME]
// The messages and stubs in Generated/ come from helloworld.proto (`make generate`).
import ArgumentParser
import CoreMetrics
import ExampleSupport
import Logging
import Loop
import LoopGRPC
import LoopGRPCProtobuf
import LoopHTTP2
import Prometheus
import LoopServiceLifecycle

/// The service: answers every name with a greeting.
struct Greeter: Helloworld_GreeterProvider {
    func sayHello(request: Helloworld_HelloRequest, context: GRPCServerContext) async throws -> Helloworld_HelloReply {
        guard !request.name.isEmpty else { throw GRPCStatus(.invalidArgument, "name must not be empty") }
        var reply = Helloworld_HelloReply()
        reply.message = "Hello, \(request.name)!"
        return reply
    }
}

@main
struct GreeterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Greeter",
        abstract: "helloworld.Greeter over gRPC: the server and a client in one program.",
        discussion: """
            Cleartext HTTP/2 by default. For TLS, serve with --tls-cert and --tls-key and greet \
            with --tls-ca (a CA that signed the server's certificate) or --tls (the system's \
            roots); the client verifies --host, or --tls-server-name when given.
            """,
        subcommands: [Serve.self, Greet.self])

    /// `Greeter` alone is a usage error, as a bad flag is.
    func run() async throws {
        throw ValidationError("say what to do: Greeter serve or Greeter greet")
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serves helloworld.Greeter and grpc.health.v1.Health (TLS with --tls-cert and --tls-key).",
            discussion: """
                With --metrics-port, the server's metrics (gRPC calls by method and status, call \
                durations, HTTP/2 connections, streams, resets) are served in Prometheus' text \
                format at GET /metrics on that port (HTTP/2 with prior knowledge: \
                curl --http2-prior-knowledge http://127.0.0.1:9090/metrics).
                """)

        @OptionGroup var options: GreeterServeOptions

        func run() async throws {
            lineBufferStandardOutput()
            let health = GRPCHealthService()
            health.setStatus(.serving, for: "helloworld.Greeter")
            var configuration = GRPCServerConfiguration()
            if let certificate = options.tls.certificateFile, let key = options.tls.keyFile {
                configuration.tls = .server(certificateChain: .file(certificate), privateKey: .file(key))
            }
            if let level = options.logging.logLevel.flatMap(Logger.Level.init(rawValue:)) {
                var logger = Logger(label: "Greeter", factory: { StreamLogHandler.standardError(label: $0) })
                logger.logLevel = level
                configuration.logger = logger
            }
            let group = EventLoopGroup()
            var metricsServer: HTTP2Server?
            if let metricsPort = options.metricsPort {
                let metrics = try await Self.serveMetrics(host: options.host, port: metricsPort, group: group)
                print("Greeter metrics at http://\(options.host):\(metrics.port)/metrics "
                      + "(HTTP/2, prior knowledge; try: curl --http2-prior-knowledge http://\(options.host):\(metrics.port)/metrics)")
                metricsServer = metrics
            }
            let server = try await GRPCServer.bind(host: options.host, port: options.port, group: group,
                                                   services: [Greeter(), health], configuration: configuration)
            if configuration.tls != nil {
                print("Greeter listening on \(options.host):\(server.port) (TLS, ALPN h2); "
                      + "try: .build/release/Greeter greet --port \(server.port) --tls-ca CA.pem --name you")
            } else {
                print("Greeter listening on \(options.host):\(server.port); try: .build/release/Greeter greet --port \(server.port) --name you")
            }
            // SIGTERM or SIGINT: health turns NOT_SERVING, the server stops accepting and
            // finishes the calls in flight (30 s at most).
            // The metrics server stops with them.
            try await runUntilSignalled([server, HealthOnShutdown(health: health, services: ["", "helloworld.Greeter"])]
                                        + (metricsServer.map { [$0] } ?? []), name: "Greeter")
        }

        /// Makes swift-prometheus' registry the process's metrics backend (everything Loop
        /// counts from here on lands in it) and serves it as text at GET /metrics.
        static func serveMetrics(host: String, port: Int, group: EventLoopGroup) async throws -> HTTP2Server {
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            var configuration = HTTP2Configuration(role: .server)
            configuration.metricsFactory = NOOPMetricsHandler.instance  // scrapes are not the service's traffic
            return try await HTTP2Server.bind(host: host, port: port, group: group, configuration: configuration) { request, response in
                guard request.head.method == "GET", request.head.path == "/metrics" else {
                    try await response.respond(HTTP2ResponseHead(status: 404), body: ByteBuffer(string: "GET /metrics\n"))
                    return
                }
                let text = registry.emitToBuffer()
                try await response.respond(HTTP2ResponseHead(status: 200, headers: [
                    HPACKHeader("content-type", "text/plain; version=0.0.4; charset=utf-8"),
                ]), body: ByteBuffer(bytes: text))
            }
        }
    }

    struct Greet: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calls SayHello and prints the greeting (over TLS with --tls, --tls-ca or --tls-server-name).")

        @OptionGroup var options: GreeterGreetOptions

        func run() async throws {
            var configuration = GRPCChannelConfiguration()
            if options.tls.enabled {
                configuration.tls = .client(trustRoots: options.tls.caFile.map { .pem(.file($0)) } ?? .system,
                                            serverHostOverride: options.tls.serverName)
            }
            let channel = GRPCChannel(host: options.host, port: options.port, group: EventLoopGroup(), configuration: configuration)
            let greeter = Helloworld_GreeterClient(channel: channel)
            var request = Helloworld_HelloRequest()
            request.name = options.name
            do {
                let reply = try await greeter.sayHello(request)
                print(reply.message)
            } catch {
                print("Greeter: \(error)")
                throw ExitCode.failure
            }
            await channel.close()
        }
    }
}
