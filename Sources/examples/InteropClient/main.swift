// The gRPC interop test client, with the flags of the official interop clients:
// --server_host, --server_port, --test_case (a name, a comma-separated list or "all"),
// --use_tls=false. Prints one line per case and exits non-zero if any failed.
import Glibc
import ExampleSupport
import InteropSupport
import Loop
import LoopGRPC

let flags = CommandLineFlags(CommandLine.arguments)
let host = flags.value("--server_host") ?? "127.0.0.1"
let port = Int(flags.value("--server_port") ?? "10000") ?? 10000
if flags.value("--use_tls") == "true" {
    print("InteropClient: TLS is not supported; run with --use_tls=false")
    exit(2)
}
let requested = flags.value("--test_case") ?? "all"
var cases: [InteropTestCase] = []
if requested == "all" {
    cases = InteropTestCase.allCases
} else {
    for name in requested.split(separator: ",") {
        guard let testCase = InteropTestCase(rawValue: String(name)) else {
            print("InteropClient: unknown test case \(name); known: \(InteropTestCase.allCases.map(\.rawValue).joined(separator: ", "))")
            exit(2)
        }
        cases.append(testCase)
    }
}

let group = EventLoopGroup(numberOfThreads: 1)
let configuration = GRPCChannelConfiguration()
var failed = 0
for testCase in cases {
    // A channel per case, as the official clients do.
    let channel = GRPCChannel(host: host, port: port, group: group, configuration: configuration)
    do {
        try await testCase.run(on: channel)
        print("PASS \(testCase.rawValue)")
    } catch {
        failed += 1
        print("FAIL \(testCase.rawValue): \(error)")
    }
    await channel.close()
}
try await group.shutdownGracefully()
exit(failed == 0 ? 0 : 1)
