// helloworld.Greeter, server and client in one program:
//   Greeter serve [--host 127.0.0.1] [--port 50051]
//   Greeter greet [--host 127.0.0.1] [--port 50051] [--name Loop]
// The messages and stubs in Generated/ come from helloworld.proto (`make generate`).
import ArgumentParser
import ExampleSupport
import Loop
import LoopGRPC
import LoopGRPCProtobuf

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
        subcommands: [Serve.self, Greet.self])

    /// `Greeter` alone is a usage error, as a bad flag is.
    func run() async throws {
        throw ValidationError("say what to do: Greeter serve or Greeter greet")
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serves helloworld.Greeter and grpc.health.v1.Health.")

        @OptionGroup var options: GreeterServeOptions

        func run() async throws {
            lineBufferStandardOutput()
            let health = GRPCHealthService()
            health.setStatus(.serving, for: "helloworld.Greeter")
            let server = try await GRPCServer.bind(host: options.host, port: options.port, group: EventLoopGroup(),
                                                   services: [Greeter(), health])
            print("Greeter listening on \(options.host):\(server.port); try: .build/release/Greeter greet --port \(server.port) --name you")
            try await server.closeFuture.get()
        }
    }

    struct Greet: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calls SayHello and prints the greeting.")

        @OptionGroup var options: GreeterGreetOptions

        func run() async throws {
            let channel = GRPCChannel(host: options.host, port: options.port, group: EventLoopGroup())
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
