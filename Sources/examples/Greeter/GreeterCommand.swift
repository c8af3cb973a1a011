// helloworld.Greeter, server and client in one program, cleartext (h2c) or TLS (ALPN h2):
//   Greeter serve [--host 127.0.0.1] [--port 50051] [--tls-cert FILE --tls-key FILE]
//   Greeter greet [--host 127.0.0.1] [--port 50051] [--name Loop]
//                 [--tls] [--tls-ca FILE] [--tls-server-name NAME]
// The messages and stubs in Generated/ come from helloworld.proto (`make generate`).
import ArgumentParser
import ExampleSupport
import Loop
import LoopGRPC
import LoopGRPCProtobuf
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
            abstract: "Serves helloworld.Greeter and grpc.health.v1.Health (TLS with --tls-cert and --tls-key).")

        @OptionGroup var options: GreeterServeOptions

        func run() async throws {
            lineBufferStandardOutput()
            let health = GRPCHealthService()
            health.setStatus(.serving, for: "helloworld.Greeter")
            var configuration = GRPCServerConfiguration()
            if let certificate = options.tls.certificateFile, let key = options.tls.keyFile {
                configuration.tls = .server(certificateChain: .file(certificate), privateKey: .file(key))
            }
            let server = try await GRPCServer.bind(host: options.host, port: options.port, group: EventLoopGroup(),
                                                   services: [Greeter(), health], configuration: configuration)
            if configuration.tls != nil {
                print("Greeter listening on \(options.host):\(server.port) (TLS, ALPN h2); "
                      + "try: .build/release/Greeter greet --port \(server.port) --tls-ca CA.pem --name you")
            } else {
                print("Greeter listening on \(options.host):\(server.port); try: .build/release/Greeter greet --port \(server.port) --name you")
            }
            // SIGTERM or SIGINT: health turns NOT_SERVING, the server stops accepting and
            // finishes the calls in flight (30 s at most).
            try await runUntilSignalled([server, HealthOnShutdown(health: health, services: ["", "helloworld.Greeter"])], name: "Greeter")
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
