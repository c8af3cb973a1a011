import Glibc
import ExampleSupport
import Loop

// Sends a message to an echo server and prints the reply.
// Usage: EchoClient [--host 127.0.0.1] [--port 9999] [--message text]
let arguments = CommandLineFlags(CommandLine.arguments)
let host = arguments.value("--host") ?? "127.0.0.1"
let port = Int(arguments.value("--port") ?? "9999") ?? 9999
let message = arguments.value("--message") ?? "Hello, Loop!"

let group = EventLoopGroup(numberOfThreads: 1)
let reply = group.next().makePromise(of: String.self)
do {
    let expected = message.utf8.count
    let channel = try await ClientBootstrap(group: group)
        .channelOption(.connectTimeout(.seconds(5)))
        .channelInitializer { channel in
            try channel.pipeline.addHandler(ReplyCollector(expectedBytes: expected, reply: reply))
        }
        .connect(host: host, port: port)
        .get()
    try await channel.writeAndFlush(ByteBuffer(string: message)).get()
    print(try await reply.futureResult.get())
    try await channel.close().get()
    try await group.shutdownGracefully()
} catch {
    print("EchoClient: \(error)")
    try? await group.shutdownGracefully()
    exit(1)
}
