import Foundation
import InteropSupport
import InteropTestSupport
import Loop
import LoopGRPC
import Testing

extension GRPCInteropTests {
    /// Attacks against the release InteropServer (gRPC) on ONE event loop, by
    /// LoopHTTP2Tests/Interop/Scripts/h2_attacker.py, while a good LoopGRPC client keeps
    /// making unary calls on its own connection: the attacker gets the stated answer within
    /// the stated time, the server's resident memory grows by less than the stated bound, and
    /// every good call succeeds. The README's table of bounds lists these beside the HTTP/2
    /// ones (LoopHTTP2Tests AttackTests).
    @Suite(.serialized) struct GRPCAttackTests {
        typealias Bound = AttackBound

        static let bounds: [Bound] = [
            Bound(attack: "grpc_rapid_reset", code: "ENHANCE_YOUR_CALM", debug: "rapid reset", within: 1, memoryMiB: 8, seconds: 2),
            Bound(attack: "grpc_made_you_reset", code: "ENHANCE_YOUR_CALM", debug: "stream errors the peer provoked", within: 1, memoryMiB: 8, seconds: 2),
            // 100 server-streaming calls of 100 × 64 KiB with every window shut, and a PING every
            // 100 ms: the PING policy GRPCServerConfiguration turns on (grpc-go's: one PING per
            // 5 minutes) ends it at the third early PING after the responses' heads, about 0.6 s
            // in (without the PINGs it would be held until the write-stall timeout, 30 s). The
            // connection's queue stops at its outbound budget (4 MiB); what remains is each
            // call's handler holding the 64 KiB message it waits to send (+40 MiB before the
            // budget, when every call queued 256 KiB first).
            Bound(attack: "grpc_zero_window", code: "ENHANCE_YOUR_CALM", debug: "too_many_pings", within: 2, memoryMiB: 24, seconds: 2),
            // Each call announcing 4 GiB is answered RESOURCE_EXHAUSTED at its prefix; the
            // resets that follow are glitches, so the connection ends.
            Bound(attack: "grpc_length_prefix_bomb", code: "ENHANCE_YOUR_CALM", debug: nil, within: 2, memoryMiB: 8, seconds: 2),
            // Each call's 100 KB of gzip is inflated up to the 4 MiB message limit, then
            // answered RESOURCE_EXHAUSTED: the connection stays, memory does not grow with it.
            Bound(attack: "grpc_gzip_bomb", code: nil, debug: nil, within: 0, memoryMiB: 24, seconds: 2),
        ]

        @Test(arguments: bounds) func attackIsAnsweredWithinBoundsWhileAGoodClientIsServed(_ bound: Bound) async throws {
            let python = try await locatePython(with: [PythonModule("hpack", package: "hpack")])
            let binary = try locateReleaseProduct("InteropServer")
            let server = try await startServer(binary, name: "InteropServer (release, attacked by \(bound.attack))") {
                ["--host", "127.0.0.1", "--port", String($0), "--threads", "1"]
            }
            let group = EventLoopGroup(numberOfThreads: 1)
            let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: group)
            let client = Grpc_Testing_TestServiceClient(channel: channel)
            do {
                for _ in 0..<20 { _ = try await client.unaryCall(simpleRequest(requestSize: 10, responseSize: 10)) }
                try await expectAttackWithinBound(bound, python: python, pid: server.process.process.processIdentifier, port: server.port) {
                    var options = GRPCCallOptions()
                    options.timeout = .seconds(5)
                    _ = try await client.unaryCall(simpleRequest(requestSize: 10, responseSize: 10), options: options)
                }
                if !server.process.isRunning {
                    Issue.record("InteropServer died: \(server.process.exitDescription)\n\(server.process.log.suffix(4000))")
                }
            } catch {
                Issue.record("\(bound.attack): \(error)")
            }
            await channel.close()
            try? await group.shutdownGracefully()
            await server.process.stop()
        }
    }
}
