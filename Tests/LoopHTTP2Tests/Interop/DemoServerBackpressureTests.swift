import Foundation
import InteropTestSupport
import Loop
import Testing
@testable import LoopHTTP2

extension InteropTests {
    /// The HTTP2Server demo streams its bodies with backpressure (issue #9, item 8): a client
    /// that does not read costs the server a bounded amount of memory, whatever it asked for.
    /// The client is Loop's own, with a 64 KiB stream window whose credit it never returns
    /// until told to (it reads the socket, so only HTTP/2 flow control holds the server back).
    @Suite struct DemoServerBackpressureTests {
        /// The client's stream delegate: counts the response, returns credit only when
        /// `reading`. Used on the client connection's loop only (through `onLoop`).
        final class SlowReader: HTTP2StreamDelegate, @unchecked Sendable {
            var reading = false
            var status: String?
            var received = 0
            var uncredited = 0
            var ended = false

            func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
                if status == nil { status = headers.first { $0.name == ":status" }?.value }
                if endStream { ended = true }
            }

            func streamData(_ stream: HTTP2StreamHandle, _ data: ByteBuffer, endStream: Bool) {
                received += data.readableBytes
                if endStream { ended = true }
                if reading { stream.consumed(data.readableBytes) } else { uncredited += data.readableBytes }
            }

            /// From now on every byte is credited, those held so far too.
            func startReading(_ stream: HTTP2StreamHandle) {
                reading = true
                stream.consumed(uncredited)
                uncredited = 0
            }
        }

        static let window: UInt32 = 65_535
        /// What the server may grow by while it serves a client that does not read. Before the
        /// demo streamed, it grew by the whole body (95 MiB for /echo-size/100000000, 20 MiB
        /// for the 20 MiB POST /echo below).
        static let allowedGrowthKiB = 4 * 1024

        private func connect(_ server: DemoServer, _ reader: SlowReader, group: EventLoopGroup) async throws -> HTTP2ConnectedHandler {
            var configuration = HTTP2Configuration(role: .client)
            configuration.initialStreamWindowSize = DemoServerBackpressureTests.window
            configuration.maximumStreamWindowSize = nil  // no BDP growth: the window stays shut
            return try await HTTP2Client.connectHandler(host: "127.0.0.1", port: server.port, group: group,
                                                        configuration: configuration) { _ in reader }
        }

        private func serverKiB(_ server: DemoServer) -> Int {
            processMemoryKiB(server.process.process.processIdentifier) ?? 0
        }

        /// Waits until `condition` holds on the loop, or `seconds` pass; returns whether it held.
        private func wait(seconds: Double, on loop: EventLoop, _ condition: @escaping () -> Bool) async throws -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if await onLoop(loop, condition) { return true }
                try await Task.sleep(for: .milliseconds(20))
            }
            return await onLoop(loop, condition)
        }

        @Test func echoSizeMakesItsBodyOnlyAsTheClientReads() async throws {
            let group = EventLoopGroup(numberOfThreads: 1)
            try await withDemoServer { server in
                let reader = SlowReader()
                let connected = try await connect(server, reader, group: group)
                let loop = connected.channel.eventLoop
                let handler = connected.handler
                let baseline = serverKiB(server)
                let size = 100_000_000
                let stream = try await onLoopThrowing(loop) {
                    UncheckedTransfer(try handler.openStream(requestHead(path: "/echo-size/\(size)"), endStream: true))
                }.value
                // The server fills the 64 KiB window, then must wait: give it time to do worse.
                let filled = try await wait(seconds: 5, on: loop) { reader.received == Int(DemoServerBackpressureTests.window) }
                let got = await onLoop(loop) { reader.received }
                #expect(filled, "the client got \(got) bytes, expected its window")
                try await Task.sleep(for: .milliseconds(500))
                let grown = serverKiB(server) - baseline
                #expect(grown < DemoServerBackpressureTests.allowedGrowthKiB,
                        "the server grew by \(grown) KiB serving /echo-size/\(size) to a client that does not read")
                print("[interop memory] GET /echo-size/\(size), response not read: server RSS +\(grown) KiB")
                let stillGot = await onLoop(loop) { reader.received }
                #expect(stillGot == Int(DemoServerBackpressureTests.window))

                // Once the client reads, the whole body comes, and the server stayed small.
                await onLoop(loop) { reader.startReading(stream) }
                let completed = try await wait(seconds: 60, on: loop) { reader.ended }
                let received = await onLoop(loop) { reader.received }
                #expect(completed, "the body did not complete: \(received) bytes")
                let status = await onLoop(loop) { reader.status }
                #expect(status == "200" && received == size, "status \(status ?? "none"), \(received) bytes")
                let peak = serverKiB(server) - baseline
                #expect(peak < DemoServerBackpressureTests.allowedGrowthKiB, "the server grew by \(peak) KiB")
                try await connected.channel.close().get()
            }
            try await group.shutdownGracefully()
        }

        @Test func echoReturnsCreditOnlyAsTheEchoLeaves() async throws {
            let group = EventLoopGroup(numberOfThreads: 1)
            try await withDemoServer { server in
                let reader = SlowReader()
                let connected = try await connect(server, reader, group: group)
                let loop = connected.channel.eventLoop
                let handler = connected.handler
                let baseline = serverKiB(server)
                // Larger than the largest window the server's BDP growth may open (16 MiB), so a
                // server that credits on receipt cannot pass.
                let size = 20 << 20
                let body = ByteBuffer(bytes: patternBytes(size))
                let head = requestHead(method: "POST", path: "/echo", extra: [("content-length", String(size))])
                let stream = try await onLoopThrowing(loop) { () throws -> UncheckedTransfer<HTTP2StreamHandle> in
                    let stream = try handler.openStream(head, endStream: false)
                    try stream.sendData(body, endStream: true)  // leaves as the server credits it
                    return UncheckedTransfer(stream)
                }.value

                // The server echoes what fits in the client's window, then holds the rest of
                // what it received and credits nothing more: the upload stalls at what the
                // server's stream window allowed (1 MiB at first; the server's BDP estimate may
                // have raised it since, up to 16 MiB) plus the echoed bytes it credited.
                let filled = try await wait(seconds: 5, on: loop) { reader.received == Int(DemoServerBackpressureTests.window) }
                let got = await onLoop(loop) { reader.received }
                #expect(filled, "the client got \(got) bytes of the echo, expected its window")
                try await Task.sleep(for: .milliseconds(500))
                let (uploaded, serverWindow) = await onLoop(loop) {
                    (size - stream.bufferedBytes, Int(handler.connection.peerSettings.initialWindowSize))
                }
                try await Task.sleep(for: .milliseconds(500))
                let uploadedLater = await onLoop(loop) { size - stream.bufferedBytes }
                let uploadLimit = serverWindow + Int(DemoServerBackpressureTests.window)
                #expect(uploaded <= uploadLimit && uploadedLater == uploaded,
                        "the client uploaded \(uploaded) bytes, then \(uploadedLater), to a server whose echo it does not read (server window \(serverWindow))")
                // What the server holds is the stalled upload, plus the slack of the read
                // buffers its slices keep: well under the body.
                let grown = serverKiB(server) - baseline
                let allowed = 2 * uploaded / 1024 + DemoServerBackpressureTests.allowedGrowthKiB
                #expect(grown < allowed, "the server grew by \(grown) KiB holding \(uploaded) bytes for a client that does not read")
                print("[interop memory] POST /echo of \(size) bytes, response not read: \(uploaded) bytes uploaded, server window \(serverWindow), server RSS +\(grown) KiB")

                // Reading resumes: credit flows both ways and the echo completes.
                await onLoop(loop) { reader.startReading(stream) }
                let completed = try await wait(seconds: 60, on: loop) { reader.ended }
                let received = await onLoop(loop) { reader.received }
                #expect(completed, "the echo did not complete: \(received) bytes")
                let status = await onLoop(loop) { reader.status }
                #expect(status == "200" && received == size, "status \(status ?? "none"), \(received) bytes")
                try await connected.channel.close().get()
            }
            try await group.shutdownGracefully()
        }
    }
}
