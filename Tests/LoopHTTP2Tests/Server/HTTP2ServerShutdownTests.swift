import InteropTestSupport
import Loop
@testable import LoopHTTP2
import Synchronization
import Testing

/// HTTP2Server's graceful shutdown (HTTP2ServerConnections; RFC 9113 §6.8, two-phase GOAWAY)
/// over real sockets with HTTP2Client.
@Suite struct HTTP2ServerShutdownTests {
    /// Requests in flight finish; the client may open no new stream after the GOAWAY; the
    /// port refuses new connections; idle connections close at once; serve() returns.
    @Test func requestsInFlightFinishAndIdleConnectionsClose() async throws {
        try await withDeadline(30, "HTTP2Server graceful shutdown") {
            let group = EventLoopGroup(numberOfThreads: 2)
            let started = Atomic<Int>(0)
            let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group) { request, response in
                started.add(1, ordering: .relaxed)
                try await Task.sleep(for: .milliseconds(400))
                try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: request.head.path))
            }
            let port = server.port
            let busy = try await HTTP2Client.connect(host: "127.0.0.1", port: port, group: group)
            var idle: [HTTP2Client] = []
            for _ in 0..<5 { idle.append(try await HTTP2Client.connect(host: "127.0.0.1", port: port, group: group)) }
            try await waitUntilTrue("6 connections") { server.connectionCount == 6 }
            let responses = Task {
                try await withThrowingTaskGroup(of: String.self) { tasks in
                    for index in 0..<10 {
                        tasks.addTask {
                            let response = try await busy.send(HTTP2RequestHead(method: "GET", path: "/\(index)", authority: "localhost"))
                            let body = try await response.body.collect(upTo: 100)
                            return "\(response.head.status) \(String(decoding: body.readableBytesView, as: UTF8.self))"
                        }
                    }
                    var all: [String] = []
                    for try await text in tasks { all.append(text) }
                    return all.sorted()
                }
            }
            try await waitUntilTrue("10 requests in their handlers") { started.load(ordering: .relaxed) == 10 }
            let began = ContinuousClock.now
            server.beginGracefulShutdown(deadline: .now + .seconds(10))
            try await server.closeFuture.get()
            #expect(!portAccepts(port))
            // The idle connections drain as soon as their PING comes back (plus the linger).
            try await waitUntilTrue("the idle connections to close") { server.connectionCount <= 1 }
            #expect(ContinuousClock.now - began < .seconds(2), "idle connections closed after \(ContinuousClock.now - began)")
            // After GOAWAY the client opens no new stream on this connection.
            await #expect(throws: (any Error).self) {
                _ = try await busy.send(HTTP2RequestHead(method: "GET", path: "/late", authority: "localhost"))
            }
            #expect(try await responses.value == (0..<10).map { "200 /\($0)" }.sorted())
            try await server.serve()
            #expect(server.connectionCount == 0)
            try await group.shutdownGracefully()
        }
    }

    /// The state machine's edges: serve() returns when the listener closed and the last
    /// connection ended, however that happened (close() and the clients leaving).
    @Test func serveReturnsOnceTheListenerAndEveryConnectionClosed() async throws {
        try await withDeadline(30, "serve() after close()") {
            let group = EventLoopGroup(numberOfThreads: 1)
            let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group) { _, response in
                try await response.respond(HTTP2ResponseHead(status: 204))
            }
            let client = try await HTTP2Client.connect(host: "127.0.0.1", port: server.port, group: group)
            _ = try await client.send(HTTP2RequestHead(method: "GET", path: "/", authority: "localhost"))
            let serving = Task { try await server.serve() }
            try await server.close()
            try await Task.sleep(for: .milliseconds(100))
            #expect(server.connectionCount == 1, "close() stops listening only")
            // The open connection is still served.
            #expect(try await client.send(HTTP2RequestHead(method: "GET", path: "/", authority: "localhost")).head.status == 204)
            try await client.close()
            try await serving.value
            #expect(server.connectionCount == 0)
            try await group.shutdownGracefully()
        }
    }
}
