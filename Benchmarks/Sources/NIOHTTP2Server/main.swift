import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

// swift-nio-http2's peer of Loop's HTTP2Server for the HTTP/2 load benchmarks: h2c with prior
// knowledge, the idiomatic fast setup of swift-nio-http2 1.46 (NIOHTTP2Handler with its inline
// stream multiplexer, one HTTP2StreamChannel per stream carrying HTTP2FramePayload, no HTTP/1
// translation).
//   GET /hello       -> 200 "Hello, world!"
//   GET /delay/MS    -> "Hello, world!" after MS milliseconds
//   GET /echo-size/N -> N bytes
// Usage: NIOHTTP2Server [--host 127.0.0.1] [--port 8080] [--threads N] [--max-streams N]
let flags = CommandLineFlags(CommandLine.arguments)
let host = flags.value("--host") ?? "127.0.0.1"
let port = Int(flags.value("--port") ?? "8080") ?? 8080
let threads = Int(flags.value("--threads") ?? "") ?? System.coreCount
let maxStreams = Int(flags.value("--max-streams") ?? "") ?? 1000

var connectionConfiguration = NIOHTTP2Handler.ConnectionConfiguration()
connectionConfiguration.initialSettings = [
    HTTP2Setting(parameter: .maxConcurrentStreams, value: maxStreams),
    HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
]
let streamConfiguration = NIOHTTP2Handler.StreamConfiguration()
let fixedConnectionConfiguration = connectionConfiguration

let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
do {
    let channel = try await ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 1024)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelOption(.maxMessagesPerRead, value: 16)
        .childChannelInitializer { channel in
            channel.configureHTTP2Pipeline(
                mode: .server,
                connectionConfiguration: fixedConnectionConfiguration,
                streamConfiguration: streamConfiguration
            ) { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(DemoStreamHandler())
                }
            }.map { _ in () }
        }
        .bind(host: host, port: port)
        .get()
    let address = channel.localAddress!
    printLine("NIOHTTP2Server listening on \(address) (h2c, prior knowledge) with \(threads) event loop(s), "
        + "max \(maxStreams) concurrent streams")
    try await channel.closeFuture.get()
} catch {
    printLine("NIOHTTP2Server: \(error)")
    try? await group.shutdownGracefully()
    exit(1)
}

/// Writes a line to standard output at once (unbuffered), so a pipe sees the banner.
func printLine(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { bytes in _ = write(STDOUT_FILENO, bytes.baseAddress, bytes.count) }
}
