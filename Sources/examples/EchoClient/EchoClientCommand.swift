import ArgumentParser
import ExampleSupport
import Loop

/// Sends a message to an echo server and prints the reply.
/// Usage: EchoClient [--host 127.0.0.1] [--port 9999] [--message text]
@main
struct EchoClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "EchoClient", abstract: "Sends a message to an echo server and prints the reply.")

    @OptionGroup var options: EchoClientOptions

    func run() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let reply = group.next().makePromise(of: String.self)
        do {
            let expected = options.message.utf8.count
            let channel = try await ClientBootstrap(group: group)
                .channelOption(.connectTimeout(.seconds(5)))
                .channelInitializer { channel in
                    try channel.pipeline.addHandler(ReplyCollector(expectedBytes: expected, reply: reply))
                }
                .connect(host: options.host, port: options.port)
                .get()
            try await channel.writeAndFlush(ByteBuffer(string: options.message)).get()
            print(try await reply.futureResult.get())
            try await channel.close().get()
            try await group.shutdownGracefully()
        } catch {
            print("EchoClient: \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
    }
}
