import Foundation
import InteropTestSupport
import Loop
import LoopHTTP2
import Testing

extension InteropTests {
    /// Attacks against the release HTTP2Server on ONE event loop (the hardest case: the
    /// attacker and the good client share the thread), each by Scripts/h2_attacker.py, while
    /// a good client keeps making requests on its own connection. For each attack: the
    /// attacker gets the stated answer within the stated time, the server's resident memory
    /// grows by less than the stated bound, and every good request succeeds. The README's
    /// table of bounds is this table.
    @Suite(.serialized) struct AttackTests {
        typealias Bound = AttackBound

        static let bounds: [Bound] = [
            Bound(attack: "ping_flood", code: "ENHANCE_YOUR_CALM", debug: "PING frames", within: 1, memoryMiB: 4, seconds: 2),
            Bound(attack: "settings_flood", code: "ENHANCE_YOUR_CALM", debug: "SETTINGS frames", within: 1, memoryMiB: 4, seconds: 2),
            Bound(attack: "rapid_reset", code: "ENHANCE_YOUR_CALM", debug: "rapid reset", within: 1, memoryMiB: 8, seconds: 2),
            Bound(attack: "made_you_reset", code: "ENHANCE_YOUR_CALM", debug: "stream errors the peer provoked", within: 1, memoryMiB: 8, seconds: 2),
            Bound(attack: "refused_streams_noread", code: "ENHANCE_YOUR_CALM", debug: "stream errors the peer provoked", within: 1,
                  memoryMiB: 8, seconds: 2, serverArguments: ["--max-streams", "10"]),
            Bound(attack: "cheap_frames", code: "ENHANCE_YOUR_CALM", debug: "empty DATA frames", within: 1, memoryMiB: 4, seconds: 2),
            Bound(attack: "settings_window_churn", code: "ENHANCE_YOUR_CALM", debug: "SETTINGS frames", within: 2, memoryMiB: 16, seconds: 2),
            Bound(attack: "continuation_flood", code: "ENHANCE_YOUR_CALM", debug: "CONTINUATION", within: 1, memoryMiB: 4, seconds: 2),
            Bound(attack: "hpack_bomb", code: "ENHANCE_YOUR_CALM", debug: "stream errors the peer provoked", within: 2, memoryMiB: 8, seconds: 2),
            // Nothing a glitch: the server stops reading once 64 KiB of replies wait behind
            // the unread ones, and holds the connection until the write-stall timeout (30 s).
            Bound(attack: "requests_and_pings_noread", code: nil, debug: nil, within: 0, memoryMiB: 4, seconds: 2, blocks: true),
            // Nothing can be sent, so the connection is held until the write-stall timeout
            // (30 s); meanwhile 100 streams asking for 10 MB each cost the server little.
            Bound(attack: "zero_window", code: nil, debug: nil, within: 0, memoryMiB: 4, seconds: 2),
            // The header-block timeout (10 s) ends it.
            Bound(attack: "slowloris_headers", code: "ENHANCE_YOUR_CALM", debug: "header block not finished within 10.0 seconds",
                  within: 11, memoryMiB: 4, seconds: 12),
        ]

        @Test(arguments: bounds) func attackIsAnsweredWithinBoundsWhileAGoodClientIsServed(_ bound: Bound) async throws {
            let python = try await locatePythonWithHPACK()
            let binary = try locateReleaseProduct("HTTP2Server")
            let process = try BackgroundProcess(binary, ["--host", "127.0.0.1", "--port", "0", "--threads", "1"] + bound.serverArguments,
                                                name: "HTTP2Server (release, attacked by \(bound.attack))")
            try await withBackgroundProcess(process) { process in
                let port = try await process.waitForOutput(timeout: 20) { text -> Int? in
                    guard let range = text.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else { return nil }
                    return Int(text[range].split(separator: ":").last!)
                }
                let group = EventLoopGroup(numberOfThreads: 1)
                let client = try await HTTP2Client.connect(host: "127.0.0.1", port: port, group: group)
                for _ in 0..<20 { _ = try await Self.hello(client) }   // warm: buffers and tables in place
                try await expectAttackWithinBound(bound, python: python, pid: process.process.processIdentifier, port: port) {
                    _ = try await Self.hello(client)
                }
                // And after the attack, still.
                #expect(try await Self.hello(client) == 200)
                try await client.close()
                try await group.shutdownGracefully()
                if !process.isRunning { Issue.record("HTTP2Server died: \(process.exitDescription)\n\(process.log.suffix(4000))") }
            }
        }

        static func hello(_ client: HTTP2Client) async throws -> Int {
            let response = try await client.send(HTTP2RequestHead(method: "GET", path: "/hello", authority: "127.0.0.1"))
            let body = try await response.body.collect(upTo: 1024)
            let text = String(decoding: body.readableBytesView, as: UTF8.self)
            guard text == "Hello, world!" else { throw InteropError("GET /hello: body \(text)") }
            return response.head.status
        }
    }
}
