// The gRPC interop test server (grpc.testing.TestService), with the flags of the official
// interop servers: --port (and --host, default 127.0.0.1).
import Glibc
import ExampleSupport
import InteropSupport
import Loop
import LoopGRPC
import LoopGRPCProtobuf

lineBufferStandardOutput()
let flags = CommandLineFlags(CommandLine.arguments)
let host = flags.value("--host") ?? "127.0.0.1"
let port = Int(flags.value("--port") ?? "10000") ?? 10000
if flags.value("--use_tls") == "true" {
    print("InteropServer: TLS is not supported; run with --use_tls=false")
    exit(2)
}

let group = EventLoopGroup(numberOfThreads: Int(flags.value("--threads") ?? "") ?? EventLoopGroup.coreCount)
var configuration = GRPCServerConfiguration()
// The interop cases send 4 MiB payloads inside larger messages.
configuration.maxReceiveMessageSize = 8 * 1024 * 1024
let server = try await GRPCServer.bind(
    host: host, port: port, group: group,
    services: [TestService(), GRPCHealthService()], configuration: configuration
)
print("InteropServer listening on \(host):\(server.port)")
try await server.closeFuture.get()
