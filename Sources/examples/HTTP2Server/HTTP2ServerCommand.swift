import ArgumentParser
import ExampleSupport
import Logging
import Loop
import LoopHTTP2
import LoopServiceLifecycle
import LoopTLS

/// An HTTP/2 demo server: h2c with prior knowledge, or TLS (ALPN h2) with --tls-cert/--tls-key.
/// SIGTERM or SIGINT drains it (GOAWAY, requests in flight finish) before it exits.
/// Usage: HTTP2Server [--host 127.0.0.1] [--port 8080] [--root DIR] [--threads N] [--max-streams N] [--frame-log]
///                    [--tls-cert FILE --tls-key FILE] [--log-level LEVEL]
@main
struct HTTP2ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "HTTP2Server",
        abstract: "An HTTP/2 demo server (h2c, prior knowledge; TLS with --tls-cert and --tls-key).",
        discussion: """
            Routes:
              GET  /hello         200 "Hello, world!"
              GET  /echo-size/N   N bytes
              GET  /delay/MS      "Hello, world!" after MS milliseconds
              POST /echo          the request body, sent back as it arrives
              GET  /static/PATH   a file under --root
            """)

    @OptionGroup var options: HTTP2ServerOptions

    func run() async throws {
        lineBufferStandardOutput()
        var configuration = HTTP2Configuration(role: .server)
        if let limit = options.maxStreams { configuration.maxConcurrentStreams = limit }
        if options.http1 { configuration.http1 = HTTP1Options() }
        if let level = options.logging.logLevel.flatMap(Logger.Level.init(rawValue:)) {
            var logger = Logger(label: "HTTP2Server", factory: { StreamLogHandler.standardError(label: $0) })
            logger.logLevel = level
            configuration.logger = logger
        }
        let frameLog = options.frameLog
        if frameLog { print("frame log on: every frame in and out is printed") }

        let group = EventLoopGroup(numberOfThreads: options.threads ?? EventLoopGroup.coreCount)
        let staticFiles = StaticFiles(root: options.root)
        var tls: TLSConfiguration?
        if let certificate = options.tls.certificateFile, let key = options.tls.keyFile {
            tls = .server(certificateChain: .file(certificate), privateKey: .file(key))
        }
        do {
            let server = try await HTTP2Server.bind(
                host: options.host, port: options.port, group: group, configuration: configuration, tls: tls,
                pipelineSetup: { channel in
                    if frameLog { try channel.pipeline.addHandler(FrameLogger(role: .server)) }
                },
                makeDelegate: { _ in DemoStreams(staticFiles: staticFiles) }
            )
            let address = server.localAddress!
            if tls != nil {
                print("HTTP2Server listening on \(address) (TLS, ALPN h2)")
                print("Try it: curl --http2 --cacert CA.pem https://localhost:\(address.port)/hello")
                print("        nghttp -nv https://\(address.ipAddress):\(address.port)/hello")
            } else {
                print("HTTP2Server listening on \(address) (h2c, prior knowledge)")
                print("Try it: curl --http2-prior-knowledge http://\(address.ipAddress):\(address.port)/hello")
                print("        nghttp -nv http://\(address.ipAddress):\(address.port)/hello")
            }
            // SIGTERM or SIGINT: stop accepting, finish the requests in flight (30 s at most).
            try await runUntilSignalled([server], name: "HTTP2Server")
        } catch {
            print("HTTP2Server: \(error)")
            throw ExitCode.failure
        }
    }
}
