import ArgumentParser
import ExampleSupport
import Loop
import LoopHTTP2

/// A gRPC (and HTTP/2) reverse proxy over LoopHTTP2's HTTP2Proxy: round-robin over the
/// upstreams, health checks, end-to-end flow control.
/// Usage: GRPCProxy --upstream 127.0.0.1:50051 [--upstream ...] [--listen 127.0.0.1:8080] [--health-check] [--threads N]
@main
struct GRPCProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "GRPCProxy",
        abstract: "A gRPC and HTTP/2 (h2c) reverse proxy: round-robin over upstreams, health checks, end-to-end flow control.",
        discussion: """
            Each stream is forwarded to the next healthy upstream. An upstream that cannot be \
            reached is skipped (with backoff) and the request goes to the next one; when none \
            can answer, gRPC calls get UNAVAILABLE naming the upstream, other requests 502.
            """)

    @OptionGroup var options: GRPCProxyOptions

    func run() async throws {
        lineBufferStandardOutput()
        let listen = options.listenAddress
        var configuration = HTTP2ProxyConfiguration(
            upstreams: options.upstreamAddresses.map { Endpoint.hostAndPort(host: $0.host, port: $0.port) })
        if options.healthCheck { configuration.healthCheckInterval = .milliseconds(Int(options.healthCheckInterval * 1000)) }
        let group = EventLoopGroup(numberOfThreads: options.threads ?? EventLoopGroup.coreCount)
        do {
            let proxy = try await HTTP2Proxy.bind(host: listen.host, port: listen.port, group: group, configuration: configuration)
            print("GRPCProxy listening on \(listen.host):\(proxy.port), upstreams \(options.upstream.joined(separator: ", "))")
            try await proxy.closeFuture.get()
        } catch {
            print("GRPCProxy: \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
    }
}
