// GatewayDemo: one port (127.0.0.1:8080 by default) serving loop.demo.v1.Greetings as gRPC,
// gRPC-Web and REST/JSON, grpc.health.v1, and GET /healthz, over HTTP/1.1 and HTTP/2 (`make run`).
import ArgumentParser
import ExampleSupport
import Logging
import Loop
import LoopGRPC
import LoopGRPCProtobuf
import LoopHTTP2
import LoopServiceLifecycle

@main
struct GatewayDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "GatewayDemo",
        abstract: "Serves loop.demo.v1.Greetings as gRPC, gRPC-Web and REST/JSON, and grpc.health.v1, on one port.",
        discussion: """
            One listener tells the protocols apart from each connection's first bytes: HTTP/2 \
            with prior knowledge (gRPC clients, curl --http2-prior-knowledge), HTTP/1.1 and its \
            h2c upgrade (curl, curl --http2, browsers). SIGTERM or SIGINT drains it.
            """)

    @OptionGroup var options: GatewayDemoOptions

    func run() async throws {
        lineBufferStandardOutput()
        let health = GRPCHealthService()
        health.setStatus(.serving, for: Loop_Demo_V1_GreetingsMethods.serviceName)
        var configuration = GRPCServerConfiguration()
        if let level = options.logging.logLevel.flatMap(Logger.Level.init(rawValue:)) {
            var logger = Logger(label: "GatewayDemo", factory: { StreamLogHandler.standardError(label: $0) })
            logger.logLevel = level
            configuration.logger = logger
        }
        configuration.httpHandler = { request, response in
            guard request.head.path == "/healthz" else {
                return try await response.respond(HTTP2ResponseHead(status: 404, headers: [HPACKHeader("content-type", "text/plain")]),
                                                  body: ByteBuffer(string: "no route for \(request.head.method) \(request.head.path)\n"))
            }
            try await response.respond(HTTP2ResponseHead(status: 200, headers: [HPACKHeader("content-type", "text/plain")]),
                                       body: ByteBuffer(string: "ok\n"))
        }
        let server = try await GRPCServer.bind(host: options.host, port: options.port, group: EventLoopGroup(),
                                               services: [Greetings(), health], configuration: configuration)
        let address = "\(options.host):\(server.port)"
        print("""
            GatewayDemo listening on \(address): gRPC, gRPC-Web, REST/JSON and /healthz over HTTP/1.1 and HTTP/2. Try:
              curl http://\(address)/healthz
              curl --http2 http://\(address)/healthz                  (HTTP/1.1, upgraded to h2c)
              curl --http2-prior-knowledge http://\(address)/healthz
            """)
        try await runUntilSignalled([server, HealthOnShutdown(health: health, services: ["", Loop_Demo_V1_GreetingsMethods.serviceName])],
                                    name: "GatewayDemo")
    }
}
