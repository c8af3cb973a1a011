import Glibc
import ExampleSupport
import Loop
import LoopHTTP2

// Fetches paths from an HTTP/2 server (h2c, prior knowledge), concurrently on one connection.
// Usage: HTTP2Client [--host 127.0.0.1] [--port 8080] [--method GET] [--data TEXT] [--verbose] PATH...
let flags = CommandLineFlags(CommandLine.arguments)
let host = flags.value("--host") ?? "127.0.0.1"
let port = Int(flags.value("--port") ?? "8080") ?? 8080
let method = flags.value("--method") ?? (flags.value("--data") == nil ? "GET" : "POST")
let body = flags.value("--data").map { ByteBuffer(string: $0) }
let verbose = flags.has("--verbose")
let valued: Set<String> = ["--host", "--port", "--method", "--data"]
var paths: [String] = []
var skipNext = false
for argument in CommandLine.arguments.dropFirst() {
    if skipNext { skipNext = false; continue }
    if valued.contains(argument) { skipNext = true; continue }
    if argument.hasPrefix("/") { paths.append(argument) }
}
if paths.isEmpty { paths = ["/hello"] }

let group = EventLoopGroup(numberOfThreads: 1)
do {
    let client = try await HTTP2Client.connect(
        host: host, port: port, group: group,
        frameLogger: verbose ? { @Sendable line in print(line) } : nil)
    let results = try await withThrowingTaskGroup(of: (String, HTTP2ResponseHead, ByteBuffer).self) { tasks in
        for path in paths {
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
    exit(1)
}
