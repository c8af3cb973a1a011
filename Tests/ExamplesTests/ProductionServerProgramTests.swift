import Foundation
import InteropTestSupport
import Loop
import LoopGRPC
import Testing

/// The README's production-style server is `Sources/examples/ProductionServer/main.swift`,
/// word for word, under 40 lines; built, it serves a call, counts it at /metrics, logs, and
/// drains on SIGTERM.
@Suite(.serialized) struct ProductionServerProgramTests {
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/examples/ProductionServer/main.swift").path
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("README.md").path

    @Test func theReadmeShowsTheProgramAsItIs() throws {
        let program = try String(contentsOfFile: Self.source, encoding: .utf8)
        let text = try String(contentsOfFile: Self.readme, encoding: .utf8)
        let marker = "<!-- production-server: Sources/examples/ProductionServer/main.swift -->\n```swift\n"
        guard let start = text.range(of: marker) else {
            Issue.record("README.md has no block marked \(marker)")
            return
        }
        guard let end = text.range(of: "```\n", range: start.upperBound..<text.endIndex) else {
            Issue.record("the README's block does not end")
            return
        }
        #expect(String(text[start.upperBound..<end.lowerBound]) == program, "README.md's production server differs from \(Self.source)")
        #expect(program.split(separator: "\n", omittingEmptySubsequences: false).count - 1 < 40)
    }

    @Test func itServesCountsLogsAndDrainsOnSIGTERM() async throws {
        guard !portAccepts(50051), !portAccepts(9090) else {
            throw InteropError("ports 50051 or 9090 are taken on this machine: ProductionServer listens on them")
        }
        let curl = try Peer(name: "curl", package: "curl").locate()
        let server = try BackgroundProcess(try locateBuiltProduct("ProductionServer"), [], name: "ProductionServer")
        try await withBackgroundProcess(server) { server in
            try await waitUntilAccepting(server, port: 9090, timeout: 30)
            let group = EventLoopGroup(numberOfThreads: 1)
            let channel = GRPCChannel(host: "127.0.0.1", port: 50051, group: group)
            let reply = try await channel.unary(path: "/echo.Echo/Get", request: ByteBuffer(string: "ping"), serializer: ByteBufferCodec(),
                                                deserializer: ByteBufferCodec(), options: GRPCCallOptions())
            #expect(String(decoding: reply.message.readableBytesView, as: UTF8.self) == "ping")
            await channel.close()
            try await group.shutdownGracefully()

            let scrape = try await runProcess(curl, ["-sS", "--http2-prior-knowledge", "http://127.0.0.1:9090/metrics"], timeout: 30)
            #expect(scrape.stdout.contains(#"loop_grpc_server_calls_finished_total{method="/echo.Echo/Get",code="OK"} 1"#), "\(scrape.stdout)")
            #expect(server.log.contains("serving gRPC on :50051, metrics on :9090/metrics"), "\(server.log)")

            kill(server.process.processIdentifier, SIGTERM)
            #expect(try await waitForExit(server.process, timeout: 15), "ProductionServer did not exit after SIGTERM")
            #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 0, "\(server.exitDescription): \(server.log)")
        }
    }
}
