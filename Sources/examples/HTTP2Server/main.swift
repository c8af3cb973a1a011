import Glibc
import ExampleSupport
import Loop
import LoopHTTP2

// An HTTP/2 (h2c, prior knowledge) demo server.
//   GET  /hello         -> 200 "Hello, world!"
//   GET  /echo-size/N   -> N bytes
//   GET  /delay/MS      -> "Hello, world!" after MS milliseconds
//   POST /echo          -> the request body
//   GET  /static/PATH   -> a file under --root (default: the current directory)
// Usage: HTTP2Server [--host 127.0.0.1] [--port 8080] [--root DIR] [--threads N] [--max-streams N]
lineBufferStandardOutput()
let flags = CommandLineFlags(CommandLine.arguments)
let host = flags.value("--host") ?? "127.0.0.1"
let port = Int(flags.value("--port") ?? "8080") ?? 8080
let root = flags.value("--root") ?? "."
let threads = Int(flags.value("--threads") ?? "") ?? EventLoopGroup.coreCount
var configuration = HTTP2Configuration(role: .server)
if let limit = flags.value("--max-streams").flatMap(UInt32.init) { configuration.maxConcurrentStreams = limit }
if flags.has("--frame-log") { print("frame log on: every frame in and out is printed") }

let group = EventLoopGroup(numberOfThreads: threads)
let frameLog = flags.has("--frame-log")
let staticFiles = StaticFiles(root: root)
do {
    let fixedConfiguration = configuration
    let server = try await HTTP2Server.bind(
        host: host, port: port, group: group, configuration: fixedConfiguration,
        pipelineSetup: { channel in
            if frameLog { try channel.pipeline.addHandler(FrameLogger(role: .server)) }
        },
        makeDelegate: { _ in DemoStreams(staticFiles: staticFiles) }
    )
    let address = server.localAddress!
    print("HTTP2Server listening on \(address) (h2c, prior knowledge)")
    print("Try it: curl --http2-prior-knowledge http://\(address.ipAddress):\(address.port)/hello")
    print("        nghttp -nv http://\(address.ipAddress):\(address.port)/hello")
    try await server.closeFuture.get()
} catch {
    print("HTTP2Server: \(error)")
    exit(1)
}
