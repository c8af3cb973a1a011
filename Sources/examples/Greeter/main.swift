// helloworld.Greeter, server and client in one program:
//   Greeter serve [--host 127.0.0.1] [--port 50051]
//   Greeter greet [--host 127.0.0.1] [--port 50051] [--name Loop]
// The messages and stubs in Generated/ come from helloworld.proto (`make generate`).
import Glibc
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

lineBufferStandardOutput()
let flags = CommandLineFlags(CommandLine.arguments)
let host = flags.value("--host") ?? "127.0.0.1"
let port = Int(flags.value("--port") ?? "50051") ?? 50051
let group = EventLoopGroup()

switch CommandLine.arguments.dropFirst().first {
case "serve":
    let health = GRPCHealthService()
    health.setStatus(.serving, for: "helloworld.Greeter")
    let server = try await GRPCServer.bind(host: host, port: port, group: group, services: [Greeter(), health])
    print("Greeter listening on \(host):\(server.port); try: .build/release/Greeter greet --port \(server.port) --name you")
    try await server.closeFuture.get()
case "greet":
    let channel = GRPCChannel(host: host, port: port, group: group)
    let greeter = Helloworld_GreeterClient(channel: channel)
    var request = Helloworld_HelloRequest()
    request.name = flags.value("--name") ?? "Loop"
    do {
        let reply = try await greeter.sayHello(request)
        print(reply.message)
    } catch {
        print("Greeter: \(error)")
        exit(1)
    }
    await channel.close()
default:
    print("usage: Greeter serve|greet [--host H] [--port P] [--name N]")
    exit(2)
}
