import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

// SwiftNIO's echo server, the peer of Loop's EchoServer for the load benchmarks.
// Usage: NIOEchoServer [--host 127.0.0.1] [--port 9999] [--threads N]
let flags = CommandLineFlags(CommandLine.arguments)
let host = flags.value("--host") ?? "127.0.0.1"
let port = Int(flags.value("--port") ?? "9999") ?? 9999
let threads = Int(flags.value("--threads") ?? "") ?? System.coreCount

let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
do {
    let channel = try await ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 1024)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(EchoHandler())
            }
        }
        .bind(host: host, port: port)
        .get()
    let address = channel.localAddress!
    printLine("NIOEchoServer listening on \(address) with \(threads) event loop(s)")
    try await channel.closeFuture.get()
} catch {
    printLine("NIOEchoServer: \(error)")
    try? await group.shutdownGracefully()
    exit(1)
}

/// Writes a line to standard output at once (unbuffered), so a pipe sees the banner.
func printLine(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { bytes in _ = write(STDOUT_FILENO, bytes.baseAddress, bytes.count) }
}
