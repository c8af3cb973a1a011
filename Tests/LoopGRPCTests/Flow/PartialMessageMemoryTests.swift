import Foundation
import InteropTestSupport
import Loop
import LoopGRPC
import LoopHTTP2
import Testing

extension GRPCInteropTests {
    /// Issue #9, item 6, over a socket: one connection leaves an unfinished 4 MB message on
    /// each of 50 streams of the release InteropServer. Before, the server gave back the
    /// credit of those bytes on receipt and buffered all of them (about 200 MB, measured
    /// +202 MB); now what a connection's unfinished messages take is bounded by the
    /// partial-message budget (4 MiB here, `--max-partial-message-bytes`) and the held bytes
    /// (7 MiB with the 16 MiB connection window), and the streams past both end with
    /// RESOURCE_EXHAUSTED. Meanwhile a well-behaved client on another connection is served.
    @Suite struct PartialMessageMemoryTests {
        static let streams = 50
        static let messageSize = 4_000_000
        static let budget = 4 << 20

        /// The abusive connection's delegate: counts the streams the server ended.
        // @unchecked Sendable: touched on the connection's loop only (the test reads it there).
        final class Abuser: HTTP2StreamDelegate, @unchecked Sendable {
            var exhausted = 0
            var ended = 0

            func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
                guard endStream else { return }
                ended += 1
                if headers.contains(where: { $0.name == "grpc-status" && $0.value == "8" }) { exhausted += 1 }
            }
        }

        /// A request head for TestService/UnaryCall.
        static func head(port: Int) -> [HPACKHeader] {
            [HPACKHeader(":method", "POST"), HPACKHeader(":scheme", "http"),
             HPACKHeader(":path", "/grpc.testing.TestService/UnaryCall"), HPACKHeader(":authority", "127.0.0.1:\(port)"),
             HPACKHeader("content-type", "application/grpc"), HPACKHeader("te", "trailers")]
        }

        /// The prefix of a `messageSize`-byte message and all of it but its last byte.
        static func unfinishedMessage() -> ByteBuffer {
            var buffer = ByteBuffer(capacity: messageSize + 4)
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt32(messageSize))
            buffer.writeBytes([UInt8](repeating: 0, count: messageSize - 1))
            return buffer
        }

        /// Opens the abusive connection, leaves an unfinished message on each stream, and for
        /// three seconds samples the server's resident memory while a good client on another
        /// connection makes five calls. Returns the largest resident size seen (KiB) and how
        /// many of the abusive streams the server ended, and with RESOURCE_EXHAUSTED.
        static func abuse(port: Int, pid: Int32, baseline: Int, group: EventLoopGroup) async throws -> (peak: Int, exhausted: Int, ended: Int) {
            let abuser = Abuser()
            let connected = try await HTTP2Client.connectHandler(host: "127.0.0.1", port: port, group: group) { _ in abuser }
            let loop = connected.channel.eventLoop
            let handler = UncheckedTransfer(connected.handler)
            let message = unfinishedMessage()
            let head = head(port: port)
            try await onLoopThrowing(loop) {
                for _ in 0..<streams {
                    let stream = try handler.value.openStream(head, endStream: false)
                    try stream.sendData(message, endStream: false)  // Leaves as the server's windows allow.
                }
            }
            let good = Task {
                try await withTestServiceClient(port: port, seconds: 10, "a good client during the abuse") { client in
                    for _ in 0..<5 {
                        let response = try await client.unaryCall(simpleRequest(requestSize: 100_000, responseSize: 100_000), options: callOptions())
                        #expect(response.payload.body.count == 100_000)
                    }
                }
            }
            var peak = baseline
            let started = Date()
            while Date().timeIntervalSince(started) < 3 {
                peak = max(peak, processMemoryKiB(pid) ?? peak)
                try await Task.sleep(for: .milliseconds(50))
            }
            let served = await good.result
            let (exhausted, ended) = await onLoop(loop) { (abuser.exhausted, abuser.ended) }
            try? await connected.channel.close().get()
            try served.get()
            return (peak, exhausted, ended)
        }

        @Test func unfinishedMessagesOnManyStreamsKeepServerMemoryBounded() async throws {
            let binary = try locateReleaseProduct("InteropServer")
            let server = try await startServer(binary, name: "InteropServer (release, partial messages)") {
                ["--host", "127.0.0.1", "--port", String($0), "--threads", "1", "--max-partial-message-bytes", String(Self.budget)]
            }
            try await withServer(server) { server in
                let pid = server.process.process.processIdentifier
                // A first call, so the baseline has the server's call machinery in it.
                try await withTestServiceClient(port: server.port, seconds: 20, "the warm-up call") { client in
                    _ = try await client.unaryCall(simpleRequest(requestSize: 1000, responseSize: 1000), options: callOptions())
                }
                let before = try #require(processMemoryKiB(pid))

                let group = EventLoopGroup(numberOfThreads: 1)
                let outcome: (peak: Int, exhausted: Int, ended: Int)
                do {
                    outcome = try await Self.abuse(port: server.port, pid: pid, baseline: before, group: group)
                    try await group.shutdownGracefully()
                } catch {
                    try? await group.shutdownGracefully()
                    throw error
                }
                let (peak, exhausted, ended) = outcome

                let growthMiB = Double(peak - before) / 1024
                print("[partial messages] \(Self.streams) streams × unfinished \(Self.messageSize)-byte messages, budget \(Self.budget >> 20) MiB: "
                      + String(format: "server RSS +%.1f MiB", growthMiB) + " (from \(before / 1024) MiB); "
                      + "\(exhausted) of \(ended) ended streams RESOURCE_EXHAUSTED")
                // Budget (4 MiB) + held bytes (7 MiB) + allocator slack; before the change +194 MiB.
                #expect(growthMiB < 24, "server memory grew by \(growthMiB) MiB")
                #expect(exhausted > 0, "no stream was refused: the held-bytes limit did not act")
            }
        }
    }
}
