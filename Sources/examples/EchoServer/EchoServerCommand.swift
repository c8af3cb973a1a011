import ArgumentParser
import ExampleSupport
import Loop

/// Echoes every byte back. Usage: EchoServer [--host 127.0.0.1] [--port 9999] [--threads N]
@main
struct EchoServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "EchoServer", abstract: "A TCP server that echoes every byte back.")

    @OptionGroup var options: EchoServerOptions

    func run() async throws {
        lineBufferStandardOutput()
        let threads = options.threads ?? EventLoopGroup.coreCount
        let group = EventLoopGroup(numberOfThreads: threads)
        do {
            // One listener; accepted connections go to the loops in turn, so every loop carries the
            // same share (SO_REUSEPORT listeners, `bindOnEveryLoop`, leave the split to the kernel's
            // hash of the client ports, which is uneven for a few connections).
            let server = try await ServerBootstrap(group: group)
                .serverOption(.backlog(1024))
                .childChannelInitializer { channel in
                    try channel.pipeline.addHandler(EchoHandler())
                }
                .bind(host: options.host, port: options.port)
                .get()
            let address = server.localAddress!
            print("EchoServer listening on \(address) with \(threads) event loop(s)")
            print("Try it: swift run -c release EchoClient --host \(address.ipAddress) --port \(address.port) --message hello")
            try await server.closeFuture.get()
        } catch {
            print("EchoServer: \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
    }
}
