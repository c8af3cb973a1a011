// GatewayDemo: one port (127.0.0.1:8080 by default) serving loop.demo.v1.Greetings as gRPC,
// gRPC-Web and REST/JSON, grpc.health.v1, and GET /healthz, over HTTP/1.1 and HTTP/2 (`make run`).
import ArgumentParser
import ExampleSupport
import Logging
import Loop
import LoopGRPC
import LoopGRPCGateway
import LoopGRPCProtobuf
import LoopHTTP2
import LoopServiceLifecycle

@main
struct GatewayDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "GatewayDemo",
        abstract: "The one-port demo: `GatewayDemo [serve]` serves it, `GatewayDemo hello` calls it over gRPC.",
        subcommands: [Serve.self, Hello.self],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
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
        let services: [any GRPCService] = [Greetings(), health]
        let group = options.threads.map { EventLoopGroup(numberOfThreads: $0) } ?? EventLoopGroup()
        // REST/JSON: the google.api.http rules of greetings.proto, served in process (or by
        // the gRPC server --backend names).
        let backend: GatewayBackend
        if let address = options.backendAddress {
            backend = .remote(GRPCChannel(host: address.host, port: address.port, group: group))
        } else {
            backend = .local(GRPCLocalCaller(services: services, interceptors: configuration.interceptors))
        }
        let gateway = GRPCGateway(routes: try Loop_Demo_V1_GreetingsGateway.routes(), backend: backend)
        configuration.httpHandler = gateway.handler { request, response in
            guard request.head.path == "/healthz" else {
                let body = ByteBuffer(string: "{\"code\":5,\"message\":\"no route for \(request.head.method) \(request.head.path)\",\"details\":[]}")
                return try await response.respond(HTTP2ResponseHead(status: 404, headers: [HPACKHeader("content-type", "application/json")]),
                                                  body: body)
            }
            try await response.respond(HTTP2ResponseHead(status: 200, headers: [HPACKHeader("content-type", "text/plain")]),
                                       body: ByteBuffer(string: "ok\n"))
        }
        let server = try await GRPCServer.bind(host: options.host, port: options.port, group: group,
                                               services: services, configuration: configuration)
        let address = "\(options.host):\(server.port)"
        print("""
            GatewayDemo listening on \(address): gRPC, gRPC-Web, REST/JSON and /healthz over HTTP/1.1 and HTTP/2. Try:
              curl http://\(address)/v1/greetings/world?language=FRENCH
              curl -X POST -d '{"name": "you", "options": {"shout": true}}' http://\(address)/v1/greetings
              curl -N http://\(address)/v1/greetings/world/stream?count=3
              curl http://\(address)/healthz
              curl --http2 http://\(address)/healthz                  (HTTP/1.1, upgraded to h2c)
              curl --http2-prior-knowledge http://\(address)/healthz
              .build/release/GatewayDemo hello --port \(server.port) --name you       (gRPC)
            """)
        try await runUntilSignalled([server, HealthOnShutdown(health: health, services: ["", Loop_Demo_V1_GreetingsMethods.serviceName])],
                                    name: "GatewayDemo")
    }
}

/// A gRPC client of the demo: SayHello, or StreamHellos with `--count`.
struct Hello: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Calls loop.demo.v1.Greetings over gRPC (HTTP/2) and prints the replies.")

    @OptionGroup var options: GatewayDemoHelloOptions

    func run() async throws {
        let channel = GRPCChannel(host: options.host, port: options.port, group: EventLoopGroup())
        let greetings = Loop_Demo_V1_GreetingsClient(channel: channel)
        do {
            if let count = options.count {
                var request = Loop_Demo_V1_StreamHellosRequest()
                request.name = options.name
                request.count = Int32(count)
                try await greetings.streamHellos(request) { replies in
                    for try await reply in replies { print(reply.message) }
                }
            } else {
                var request = Loop_Demo_V1_HelloRequest()
                request.name = options.name
                print(try await greetings.sayHello(request).message)
            }
        } catch {
            print("GatewayDemo hello: \(error)")
            await channel.close()
            throw ExitCode.failure
        }
        await channel.close()
    }
}
