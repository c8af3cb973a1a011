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

        /// Starts the release HTTP2Server on one event loop, port 0, and runs `body` with it
        /// and its port; stops it afterwards.
        static func withReleaseServer(_ arguments: [String], attack: String,
                                      _ body: (BackgroundProcess, Int) async throws -> Void) async throws {
            let binary = try locateReleaseProduct("HTTP2Server")
            let process = try BackgroundProcess(binary, ["--host", "127.0.0.1", "--port", "0", "--threads", "1"] + arguments,
                                                name: "HTTP2Server (release, attacked by \(attack))")
            try await withBackgroundProcess(process) { process in
                let port = try await process.waitForOutput(timeout: 20) { text -> Int? in
                    guard let range = text.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else { return nil }
                    return Int(text[range].split(separator: ":").last!)
                }
                try await body(process, port)
            }
        }

        @Test(arguments: bounds) func attackIsAnsweredWithinBoundsWhileAGoodClientIsServed(_ bound: Bound) async throws {
            let python = try await locatePythonWithHPACK()
            try await Self.withReleaseServer(bound.serverArguments, attack: bound.attack) { process, port in
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

        // MARK: HTTP/1.1 on the same port (HTTP2Server --http1)

        /// What an HTTP/1.1 attack (h2_attacker.py's h1_* kinds) must get.
        struct HTTP1Bound: Sendable, CustomTestStringConvertible {
            let attack: String
            /// The only status the attacker's connections may be answered with, and how many
            /// answers at least (nil: none at all).
            let status: String?
            var answers = 1
            /// Every connection must be closed by the server, each within `within` seconds
            /// of its connect; otherwise the connection must stay open.
            let closes: Bool
            let within: Double
            let memoryMiB: Int
            let seconds: Double
            /// The server must stop reading (the attacker's sends block).
            var blocks = false
            var testDescription: String { attack }
        }

        static let http1Bounds: [HTTP1Bound] = [
            // One exchange at a time, and only while the socket takes the answers: the
            // server stops reading, the connection stays open (answered as it reads).
            HTTP1Bound(attack: "h1_pipeline_no_read", status: "200", closes: false, within: 0, memoryMiB: 8, seconds: 2, blocks: true),
            // Read and dropped up to the body limit (4 MiB), then 413 and the close.
            HTTP1Bound(attack: "h1_huge_chunked", status: "413", closes: true, within: 2.5, memoryMiB: 4, seconds: 3),
            // 413 at the head; what follows is not kept: the server stops reading, then closes.
            HTTP1Bound(attack: "h1_body_after_error", status: "413", closes: true, within: 2.5, memoryMiB: 4, seconds: 3, blocks: true),
            // 100 connections trickling heads: 408 for each once the 10 s request-head
            // (and handshake) timeout is over, then the close.
            HTTP1Bound(attack: "h1_slowloris", status: "408", answers: 100, closes: true, within: 11.5, memoryMiB: 8, seconds: 13),
            // Connection after connection of bytes that are no HTTP: each closed, unanswered.
            HTTP1Bound(attack: "h1_garbage", status: nil, closes: true, within: 1, memoryMiB: 4, seconds: 2),
        ]

        /// What h2_attacker.py reports for an h1_* attack.
        struct HTTP1Report: Decodable, CustomStringConvertible {
            let attack: String
            let bytesSent: Int?
            let seconds: Double?
            let sendBlocked: Bool?
            let closed: Bool?
            let statuses: [String: Int]?
            let connections: Int?
            let closedConnections: Int?
            let answered: Int?
            let maxCloseAfter: Double?
            let sendError: String?
            let error: String?

            var description: String {
                "\(attack): sent \(bytesSent ?? 0) bytes in \(seconds ?? 0) s on \(connections ?? 0) connection(s), statuses \(statuses ?? [:]), "
                    + "\(answered ?? 0) answered, closed \(closed ?? false) (\(closedConnections.map(String.init) ?? "-") connections"
                    + (maxCloseAfter.map { ", the last after \($0) s" } ?? "") + "), send blocked \(sendBlocked ?? false)"
                    + (sendError.map { ", send error \($0)" } ?? "") + (error.map { ", error \($0)" } ?? "")
            }
        }

        /// The attacks of `http1Bounds` against `HTTP2Server --http1`, while a good HTTP/2 client
        /// and a good HTTP/1.1 keep-alive client are served on their own connections.
        @Test(arguments: http1Bounds) func http1AttackIsAnsweredWithinBoundsWhileGoodClientsAreServed(_ bound: HTTP1Bound) async throws {
            let python = try await locatePythonWithHPACK()   // the script imports h2_raw_driver's frame builders
            try await Self.withReleaseServer(["--http1"], attack: bound.attack) { process, port in
                let group = EventLoopGroup(numberOfThreads: 1)
                let client = try await HTTP2Client.connect(host: "127.0.0.1", port: port, group: group)
                let http1 = try RawHTTP1Connection(port: port)
                for _ in 0..<20 {   // warm: buffers and tables in place
                    _ = try await Self.hello(client)
                    try await Self.hello(http1)
                }
                let pid = process.process.processIdentifier
                let baseline = processMemoryKiB(pid) ?? 0
                let sampler = MemorySampler(pid: pid)
                sampler.start()
                let attacking = Task {
                    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/h2_attacker.py").path
                    return try await runProcess(python, [script, String(port), bound.attack, String(bound.seconds)], timeout: bound.seconds + 30)
                }
                var tally = GoodClientTally()
                let started = ContinuousClock.now
                repeat {
                    do {
                        try await withDeadline(5, "good requests during \(bound.attack)") {
                            guard try await Self.hello(client) == 200 else { throw InteropError("HTTP/2 GET /hello: not 200") }
                            try await Self.hello(http1)
                        }
                        tally.succeeded += 1
                    } catch {
                        tally.failures.append("\(error)")
                    }
                    try await Task.sleep(for: .milliseconds(5))
                } while ContinuousClock.now - started < .seconds(bound.seconds) && tally.failures.count < 5
                let result: ProcessResult
                do { result = try await attacking.value } catch { _ = sampler.stop(); throw error }
                let peak = sampler.stop()
                let growthMiB = Double(peak - baseline) / 1024
                let decoder = JSONDecoder()
                decoder.keyDecodingStrategy = .convertFromSnakeCase
                guard let line = result.stdout.split(separator: "\n").last,
                      let report = try? decoder.decode(HTTP1Report.self, from: Data(line.utf8)), report.error == nil else {
                    throw InteropError("h2_attacker.py \(bound.attack) (status \(result.status)): \(result.stdout) \(result.stderr)")
                }
                print("[attack] \(report); server VmRSS \(baseline) KiB → peak \(peak) KiB (+\(String(format: "%.1f", growthMiB)) MiB, "
                      + "bound \(bound.memoryMiB) MiB); good clients: \(tally)")
                let statuses = report.statuses ?? [:]
                if let status = bound.status {
                    #expect(Array(statuses.keys) == [status] && statuses[status]! >= bound.answers, "[\(bound.attack)] \(report)")
                } else {
                    #expect(statuses.isEmpty && report.answered == 0, "[\(bound.attack)] \(report)")
                }
                if bound.closes {
                    #expect(report.closed == true, "[\(bound.attack)] \(report)")
                    // One connection: it ended (the server closed it) well before the attack's time ran out.
                    #expect((report.maxCloseAfter ?? report.seconds ?? .infinity) <= bound.within, "[\(bound.attack)] \(report)")
                } else {
                    #expect(report.closed == false, "[\(bound.attack)] \(report)")
                }
                if bound.blocks { #expect(report.sendBlocked == true, "[\(bound.attack)] the server kept reading: \(report)") }
                #expect(growthMiB < Double(bound.memoryMiB), "[\(bound.attack)] the server grew by \(growthMiB) MiB")
                #expect(tally.failures.isEmpty && tally.succeeded >= 10, "[\(bound.attack)] \(tally)")
                // And after the attack, still.
                #expect(try await Self.hello(client) == 200)
                try await Self.hello(http1)
                try await client.close()
                try await group.shutdownGracefully()
                if !process.isRunning { Issue.record("HTTP2Server died: \(process.exitDescription)\n\(process.log.suffix(4000))") }
            }
        }

        /// GET /hello over HTTP/1.1 on a keep-alive connection, exactly as the demo answers it.
        static func hello(_ connection: RawHTTP1Connection) async throws {
            try await connection.send("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            let response = try await connection.readResponse(timeout: 5)
            let expected = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\nd\r\nHello, world!\r\n0\r\n\r\n"
            guard response.text == expected else { throw InteropError("HTTP/1.1 GET /hello: \(response)") }
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
