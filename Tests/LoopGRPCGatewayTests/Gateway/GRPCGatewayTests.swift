import Foundation
import InteropTestSupport
import Loop
import LoopGRPC
@testable import LoopGRPCGateway
import LoopGRPCProtobuf
import LoopHTTP2
import Synchronization
import Testing

/// GRPCGateway on a GRPCServer's port, calling its services in process: metadata both ways,
/// the deadline from `grpc-timeout`, the server's interceptors, the body limit, and a server
/// stream's backpressure reaching the handler.
@Suite struct GRPCGatewayTests {
    @Test func theQueryStartsAtTheFirstQuestionMark() {
        // RFC 3986 §3.4: the query follows the first "?" of the target.
        let cases: [(String, String?)] = [("", nil), ("/a", nil), ("/a?b", "b"), ("?", ""), ("/a?b?c", "b?c"), ("/é/ü?x=ß", "x=ß")]
        for (target, query) in cases {
            let start = GRPCGateway.queryStart(target)
            #expect(start.map { String(target[target.utf8.index(after: $0)...]) } == query, "\(target)")
            #expect(start.map { String(target[..<$0]) } ?? target == String(target.prefix { $0 != "?" }), "\(target)")
        }
    }

    /// Refuses calls whose `authorization` is "Bearer bad": in-process calls are intercepted too.
    struct Auth: GRPCServerInterceptor {
        func intercept<Result: Sendable>(context: GRPCServerContext, next: @Sendable () async throws -> Result) async throws -> Result {
            if context.requestMetadata["authorization"] == "Bearer bad" { throw GRPCStatus(.permissionDenied, "bad token") }
            return try await next()
        }
    }

    /// How many stream messages the handler got out (for the backpressure test).
    final class Progress: Sendable {
        let sent = Atomic<Int>(0)
    }

    private static func router(progress: Progress) -> GRPCRouter {
        var router = GRPCRouter()
        router.registerUnary("/loop.demo.v1.Greetings/SayHello", deserializer: ProtobufDeserializer<Loop_Demo_V1_HelloRequest>(),
                             serializer: ProtobufSerializer<Loop_Demo_V1_HelloReply>()) { request, context in
            switch request.name {
            case "slow": try await Task.sleep(for: .seconds(30))
            case "nobody": throw GRPCStatus(.unauthenticated, "who are you?")
            default: break
            }
            context.addInitialMetadata("x-served-by", "gateway-test")
            context.addTrailingMetadata("x-cost", "3")
            var reply = Loop_Demo_V1_HelloReply()
            reply.message = "Hello, \(request.name)!"
            // The metadata the call got, to check what the gateway forwarded.
            reply.tags = ["authorization", "x-request-id", "tenant", "cookie"].map { "\($0)=\(context.requestMetadata[$0] ?? "-")" }
            return reply
        }
        router.registerServerStreaming("/loop.demo.v1.Greetings/StreamHellos", deserializer: ProtobufDeserializer<Loop_Demo_V1_StreamHellosRequest>(),
                                       serializer: ProtobufSerializer<Loop_Demo_V1_HelloReply>()) { request, response, _ in
            let padding = String(repeating: "x", count: 1000)
            for sequence in 1...Int(request.count) {
                var reply = Loop_Demo_V1_HelloReply()
                reply.message = padding
                reply.sequence = Int64(sequence)
                try await response.send(reply)
                progress.sent.add(1, ordering: .relaxed)
            }
        }
        return router
    }

    private static func routes() throws -> GatewayRoutes {
        var routes = GatewayRoutes()
        try routes.add(.get, "/v1/greetings/{name}", method: "/loop.demo.v1.Greetings/SayHello",
                       request: Loop_Demo_V1_HelloRequest.self, response: Loop_Demo_V1_HelloReply.self)
        try routes.add(.post, "/v1/greetings", body: "*", method: "/loop.demo.v1.Greetings/SayHello",
                       request: Loop_Demo_V1_HelloRequest.self, response: Loop_Demo_V1_HelloReply.self)
        try routes.add(.get, "/v1/greetings/{name}/stream", method: "/loop.demo.v1.Greetings/StreamHellos", kind: .serverStreaming,
                       request: Loop_Demo_V1_StreamHellosRequest.self, response: Loop_Demo_V1_HelloReply.self)
        return routes
    }

    /// A GRPCServer with the gateway as its HTTP handler, and an HTTP/2 client of it.
    private func withGateway(maxBody: Int = 4 << 20, maxBuffered: Int = 64 << 20, progress: Progress = Progress(),
                             _ body: (HTTP2Client, Int) async throws -> Void) async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let router = Self.router(progress: progress)
        var configuration = GRPCServerConfiguration()
        configuration.interceptors = [Auth()]
        var gatewayConfiguration = GatewayConfiguration()
        gatewayConfiguration.maxRequestBodySize = maxBody
        gatewayConfiguration.maxBufferedRequestBytes = maxBuffered
        gatewayConfiguration.forwardedHeaders.append("cookie")
        let gateway = GRPCGateway(routes: try Self.routes(), backend: .local(GRPCLocalCaller(router: router, interceptors: configuration.interceptors)),
                                  configuration: gatewayConfiguration)
        configuration.httpHandler = gateway.handler()
        let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, router: router, configuration: configuration)
        let client = try await HTTP2Client.connect(host: "127.0.0.1", port: server.port, group: group)
        do {
            try await body(client, server.port)
        } catch {
            try? await client.close()
            try? await server.close()
            try? await group.shutdownGracefully()
            throw error
        }
        try await client.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    private func get(_ client: HTTP2Client, _ path: String, headers: [HPACKHeader] = [], method: String = "GET",
                     body: String? = nil) async throws -> (status: Int, headers: [HPACKHeader], body: String) {
        let response = try await client.send(HTTP2RequestHead(method: method, path: path, authority: "test", headers: headers),
                                             body: body.map { ByteBuffer(string: $0) })
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (response.head.status, response.head.headers, String(decoding: bytes.readableBytesView, as: UTF8.self))
    }

    @Test func metadataGoesToTheCallAndComesBackAsFields() async throws {
        try await withGateway { client, _ in
            let answer = try await get(client, "/v1/greetings/ada", headers: [
                HPACKHeader("authorization", "Bearer good"), HPACKHeader("x-request-id", "r-17"),
                HPACKHeader("grpc-metadata-tenant", "acme"), HPACKHeader("cookie", "c=1"), HPACKHeader("x-other", "not forwarded"),
            ])
            #expect(answer.status == 200)
            #expect(answer.body == #"{"message":"Hello, ada!","tags":["authorization=Bearer good","x-request-id=r-17","tenant=acme","cookie=c=1"]}"#)
            #expect(answer.headers.contains(HPACKHeader("content-type", "application/json")))
            #expect(answer.headers.contains(HPACKHeader("grpc-metadata-x-served-by", "gateway-test")))
            #expect(answer.headers.contains(HPACKHeader("grpc-trailer-x-cost", "3")))
        }
    }

    @Test func theServersInterceptorsJudgeInProcessCalls() async throws {
        try await withGateway { client, _ in
            let denied = try await get(client, "/v1/greetings/ada", headers: [HPACKHeader("authorization", "Bearer bad")])
            #expect(denied.status == 403)
            #expect(denied.body == #"{"code":7,"message":"bad token","details":[]}"#)
            let unauthenticated = try await get(client, "/v1/greetings/nobody")
            #expect(unauthenticated.status == 401)
            #expect(unauthenticated.body == #"{"code":16,"message":"who are you?","details":[]}"#)
        }
    }

    /// `grpc-timeout` (gRPC's format) sets the call's deadline: DEADLINE_EXCEEDED is 504.
    @Test func grpcTimeoutIsTheCallsDeadline() async throws {
        try await withGateway { client, _ in
            let started = ContinuousClock.now
            let answer = try await get(client, "/v1/greetings/slow", headers: [HPACKHeader("grpc-timeout", "200m")])
            let elapsed = ContinuousClock.now - started
            #expect(answer.status == 504)
            #expect(answer.body.hasPrefix(#"{"code":4,"#), "\(answer.body)")
            #expect(elapsed >= .milliseconds(150) && elapsed < .seconds(10), "\(elapsed)")
        }
    }

    @Test func aBodyOverTheLimitIs413() async throws {
        try await withGateway(maxBody: 100) { client, _ in
            let small = try await get(client, "/v1/greetings", method: "POST", body: #"{"name":"ok"}"#)
            #expect(small.status == 200, "\(small.body)")
            let big = try await get(client, "/v1/greetings", method: "POST", body: #"{"name":"\#(String(repeating: "a", count: 500))"}"#)
            #expect(big.status == 413)
            #expect(big.body == #"{"code":3,"message":"the request body is larger than 100 bytes","details":[]}"#)
        }
    }

    /// The bytes of request bodies held at once are limited across requests (HTTP/2 lets one
    /// connection have many in flight): past the limit, 429 with RESOURCE_EXHAUSTED, and the
    /// bytes held go back when a request ends (the next small one passes).
    @Test func requestBodiesHeldAtOnceAreLimited() async throws {
        try await withGateway(maxBuffered: 64) { client, _ in
            let big = try await get(client, "/v1/greetings", method: "POST", body: #"{"name":"\#(String(repeating: "b", count: 100))"}"#)
            #expect(big.status == 429)
            #expect(big.body == #"{"code":8,"message":"the gateway is reading too many request bodies at once; retry later","details":[]}"#)
            for _ in 0..<3 {
                let small = try await get(client, "/v1/greetings", method: "POST", body: #"{"name":"ok"}"#)
                #expect(small.status == 200, "\(small.body)")
            }
        }
    }

    /// A client that does not read stops the handler: its `send` waits once the response's
    /// queue and windows are full, so what the server holds for the stream stays bounded.
    @Test func aStreamWaitsForItsReader() async throws {
        let progress = Progress()
        try await withGateway(progress: progress) { _, port in
            // 20,000 messages of ~1 KiB: 20 MiB of NDJSON, over HTTP/1.1, not read for a while.
            let fd = connectRawTCP(port, receiveTimeout: 10)
            #expect(fd >= 0)
            defer { close(fd) }
            var small: Int32 = 64 * 1024
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            let request = Array("GET /v1/greetings/x/stream?count=20000 HTTP/1.1\r\nHost: test\r\n\r\n".utf8)
            _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            // Wait until the handler stops (its sends wait): the count holds still for 500 ms
            // (a loaded machine takes longer to fill the queues; 15 s at most).
            var stalledAt = progress.sent.load(ordering: .relaxed)
            let until = ContinuousClock.now + .seconds(15)
            while ContinuousClock.now < until {
                try await Task.sleep(for: .milliseconds(500))
                let now = progress.sent.load(ordering: .relaxed)
                if now == stalledAt, now > 0 { break }
                stalledAt = now
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(progress.sent.load(ordering: .relaxed) == stalledAt, "the handler kept sending to a client that does not read")
            #expect(stalledAt < 8_000, "\(stalledAt) messages (~\(stalledAt) KiB) went out before the handler waited")
            // Now read everything (on a thread of its own: blocking reads): every message
            // arrives, in order, and the stream ends.
            let (received, tail) = try await onThread { () -> (Int, String) in
                var received = 0
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                var tail: [UInt8] = []
                while true {
                    let count = read(fd, &buffer, buffer.count)
                    guard count > 0 else { break }
                    tail.append(contentsOf: buffer[0..<count])
                    received += count
                    if tail.count > 64, String(decoding: tail.suffix(64), as: UTF8.self).contains("\r\n0\r\n\r\n") { break }
                    if tail.count > 1 << 20 { tail.removeFirst(tail.count - 128) }
                }
                return (received, String(decoding: tail.suffix(200), as: UTF8.self))
            }
            #expect(progress.sent.load(ordering: .relaxed) == 20_000)
            #expect(received > 20_000 * 1000)
            #expect(tail.contains(#""sequence":"20000"}}"#))
        }
    }
}
