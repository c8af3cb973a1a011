import InteropTestSupport
import Loop
import Synchronization
import Testing
@testable import LoopHTTP2

/// HTTP2Proxy between LoopHTTP2 peers over 127.0.0.1, for what gRPC clients cannot show:
/// the exact request head the upstream sees, RST_STREAM codes in both directions, and a
/// large body echoed through the proxy byte for byte.
@Suite(.serialized) struct HTTP2ProxySocketTests {
    /// What the recording upstream saw, in order.
    final class Log: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    /// An upstream that records heads and resets: "/upstream-resets" is reset with
    /// HTTP_1_1_REQUIRED, anything else answered with a head and kept open.
    final class Recorder: HTTP2StreamDelegate {
        let log: Log
        init(log: Log) { self.log = log }

        func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
            log.add("headers " + headers.map(\.description).joined(separator: ", "))
            if headers.contains(where: { $0.name == ":path" && $0.value == "/upstream-resets" }) {
                stream.reset(.http11Required)
            } else {
                try? stream.sendHeaders([HPACKHeader(":status", "200")], endStream: false)
            }
        }

        func streamReset(_ stream: HTTP2StreamHandle, code: HTTP2ErrorCode) {
            log.add("reset \(code)")
        }
    }

    /// A client-side delegate that ignores everything (the test drives the stream itself).
    final class Quiet: HTTP2StreamDelegate {
        func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {}
    }

    private func withProxy<T>(to port: Int, _ body: (HTTP2Proxy, EventLoopGroup) async throws -> T) async throws -> T {
        let group = EventLoopGroup(numberOfThreads: 1)
        let proxy = try await HTTP2Proxy.bind(host: "127.0.0.1", port: 0, group: group,
                                              configuration: HTTP2ProxyConfiguration(upstreams: [.hostAndPort(host: "127.0.0.1", port: port)]))
        do {
            let result = try await body(proxy, group)
            try await proxy.close()
            try await group.shutdownGracefully()
            return result
        } catch {
            try? await proxy.close()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func waitFor(_ log: Log, _ what: String, containing text: String) async throws {
        try await withDeadline(10, what) {
            while !log.all.contains(where: { $0.contains(text) }) { try await Task.sleep(for: .milliseconds(5)) }
        }
    }

    @Test func theRequestHeadAndResetCodesPassUnchangedBothWays() async throws {
        let log = Log()
        let group = EventLoopGroup(numberOfThreads: 1)
        let upstream = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group) { _ in Recorder(log: log) }
        try await withProxy(to: upstream.localAddress!.port) { proxy, _ in try await withDeadline(30, "the head and resets through the proxy") {
            // The head, pseudo-headers and all, as the client sent it.
            let client = try await HTTP2Client.connect(host: "127.0.0.1", port: proxy.port, group: group)
            let head = HTTP2RequestHead(method: "POST", path: "/a/b?c=d", authority: "example.test:8443",
                                        headers: [HPACKHeader("te", "trailers"), HPACKHeader("x-bin", "AAEC"), HPACKHeader("x-two", "1"), HPACKHeader("x-two", "2")])
            // An upstream's RST_STREAM code reaches the client unchanged.
            await #expect(throws: HTTP2StreamResetError(code: .http11Required)) {
                _ = try await client.send(HTTP2RequestHead(method: "GET", path: "/upstream-resets", authority: "example.test"))
            }
            let response = try await client.send(head)
            #expect(response.head.status == 200)
            try await waitFor(log, "the head upstream", containing: "/a/b?c=d")
            #expect(log.all.contains(
                "headers :method: POST, :scheme: http, :path: /a/b?c=d, :authority: example.test:8443, te: trailers, x-bin: AAEC, x-two: 1, x-two: 2"),
                "\(log.all)")
            // The stream stays open upstream: no graceful close.
            _ = client.channel.close()

            // A client's RST_STREAM code reaches the upstream unchanged.
            let connected = try await HTTP2Client.connectHandler(host: "127.0.0.1", port: proxy.port, group: group) { _ in Quiet() }
            let handler = UncheckedTransfer(connected.handler)
            let stream = try await onLoopThrowing(connected.channel.eventLoop) {
                UncheckedTransfer(try handler.value.openStream(HTTP2RequestHead(method: "GET", path: "/to-reset", authority: "x").headerList, endStream: false))
            }
            try await waitFor(log, "the stream to reach the upstream", containing: "/to-reset")
            await onLoop(connected.channel.eventLoop) { stream.value.reset(.connectError) }
            try await waitFor(log, "the reset to reach the upstream", containing: "reset CONNECT_ERROR")
            _ = connected.channel.close()
        } }
        try await upstream.close()
        try await group.shutdownGracefully()
    }

    @Test func aLargeBodyIsEchoedThroughTheProxyByteForByte() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let upstream = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group) { request, response in
            let body = try await request.body.collect(upTo: 64 << 20)
            try await response.respond(HTTP2ResponseHead(status: 200), body: body)
        }
        try await withProxy(to: upstream.localAddress!.port) { proxy, _ in
            let client = try await HTTP2Client.connect(host: "127.0.0.1", port: proxy.port, group: group)
            var big = ByteBuffer()
            for index in 0..<(6 << 20) / 4 { big.writeInteger(UInt32(truncatingIfNeeded: index &* 2_654_435_761)) }
            let echoed = try await client.send(HTTP2RequestHead(method: "POST", path: "/echo", authority: "localhost"), body: big)
            #expect(echoed.head.status == 200)
            let back = try await echoed.body.collect(upTo: 64 << 20)
            #expect(back == big)
            let statistics = await proxy.statistics()
            #expect(statistics.heldBytes == 0)
            #expect(statistics.maxHeldBytes <= 2 << 20)
            try await client.close()
        }
        try await upstream.close()
        try await group.shutdownGracefully()
    }
}
