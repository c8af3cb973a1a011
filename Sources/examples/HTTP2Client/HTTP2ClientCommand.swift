import ArgumentParser
import ExampleSupport
import Loop
import LoopHTTP2
import LoopTLS

/// Fetches paths from an HTTP/2 server (h2c with prior knowledge, or TLS with --tls),
/// concurrently on one connection.
/// Usage: HTTP2Client [--host 127.0.0.1] [--port 8080] [--method GET] [--data TEXT] [--verbose]
///                    [--tls] [--tls-ca FILE] [--tls-server-name NAME] [PATH...]
@main
struct HTTP2ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "HTTP2Client",
        abstract: "Fetches paths from an HTTP/2 server (h2c, prior knowledge; or TLS with --tls), concurrently on one connection.")

    @OptionGroup var options: HTTP2ClientOptions

    func run() async throws {
        let host = options.host
        let port = options.port
        let method = options.requestMethod
        let body = options.data.map { ByteBuffer(string: $0) }
        let group = EventLoopGroup(numberOfThreads: 1)
        var tls: TLSConfiguration?
        if options.tls.enabled {
            tls = .client(trustRoots: options.tls.caFile.map { .pem(.file($0)) } ?? .system,
                          serverHostOverride: options.tls.serverName)
        }
        do {
            let client = try await HTTP2Client.connect(
                host: host, port: port, group: group, tls: tls,
                frameLogger: options.verbose ? { @Sendable line in print(line) } : nil)
            let results = try await withThrowingTaskGroup(of: (String, HTTP2ResponseHead, ByteBuffer).self) { tasks in
                for path in options.paths {
                    tasks.addTask {
                        let head = HTTP2RequestHead(method: method, path: path, authority: "\(host):\(port)")
                        let response = try await client.send(head, body: body)
                        return (path, response.head, try await response.body.collect(upTo: 64 << 20))
                    }
                }
                var results: [(String, HTTP2ResponseHead, ByteBuffer)] = []
                for try await result in tasks { results.append(result) }
                return results
            }
            for (path, head, data) in results.sorted(by: { $0.0 < $1.0 }) {
                print("\(method) \(path) -> \(head.status), \(data.readableBytes) bytes")
                if data.readableBytes <= 4096 { print(String(decoding: data.readableBytesView, as: UTF8.self)) }
            }
            try await client.close()
            try await group.shutdownGracefully()
        } catch {
            print("HTTP2Client: \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
    }
}
