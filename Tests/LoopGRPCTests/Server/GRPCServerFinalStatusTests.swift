import Testing
import Synchronization
import Loop
import LoopHTTP2
@testable import LoopGRPC
import InteropTestSupport

/// The statuses calls ended with, by path, as finish observers saw them.
final class FinalStatuses: Sendable {
    private let state = Mutex<(statuses: [String: [GRPCStatus]], started: Set<String>)>(([:], []))

    func record(_ path: String, _ status: GRPCStatus) { state.withLock { $0.statuses[path, default: []].append(status) } }

    func markStarted(_ path: String) { _ = state.withLock { $0.started.insert(path) } }

    /// Every status `path` ended with so far, in order.
    func all(_ path: String) -> [GRPCStatus] { state.withLock { $0.statuses[path] ?? [] } }

    /// The first status `path` ended with; waits up to 30 s for it (the whole suite in parallel can starve a test for seconds).
    func first(_ path: String) async throws -> GRPCStatus {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let status = all(path).first { return status }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw GRPCStatus(.deadlineExceeded, "no finish observer ran for \(path) within 30 s")
    }

    /// Waits up to 30 s until an interceptor ran for `path`.
    func waitUntilStarted(_ path: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !state.withLock({ $0.started.contains(path) }) {
            guard ContinuousClock.now < deadline else { throw GRPCStatus(.deadlineExceeded, "\(path) did not start within 30 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// An interceptor that records each call's final status through `context.onFinish`.
struct RecordFinalStatus: GRPCServerInterceptor {
    let statuses: FinalStatuses

    func intercept<Result: Sendable>(context: GRPCServerContext, next: @Sendable () async throws -> Result) async throws -> Result {
        let path = context.path
        context.onFinish { status in statuses.record(path, status) }
        statuses.markStarted(path)
        return try await next()
    }
}

/// What `GRPCServerContext.onFinish` hands an interceptor: the status the client got, for
/// every way a call ends, with its code exactly.
@Suite struct GRPCServerFinalStatusTests {
    let codec = ByteBufferCodec()

    /// Methods that end in each way.
    struct Ends: GRPCService {
        static let ok = "/finish.F/Ok"
        static let thrown = "/finish.F/Thrown"
        static let plain = "/finish.F/Plain"
        static let sleep = "/finish.F/Sleep"
        static let hold = "/finish.F/Hold"
        static let big = "/finish.F/Big"
        static let bigStream = "/finish.F/BigStream"
        static let reserved = "/finish.F/Reserved"
        static let stream = "/finish.F/Stream"
        static let refused = "/finish.F/Refused"
        static let echo = "/finish.F/Echo"

        func register(with router: inout GRPCRouter) {
            let codec = ByteBufferCodec()
            router.registerUnary(Self.ok, deserializer: codec, serializer: codec) { request, context in
                context.addTrailingMetadata("x-result", "fine")
                return request
            }
            router.registerUnary(Self.thrown, deserializer: codec, serializer: codec) { _, context -> ByteBuffer in
                context.addTrailingMetadata("x-from-context", "1")
                throw GRPCStatus(.notFound, "nothing here", trailingMetadata: GRPCMetadata(["x-why": "gone"]))
            }
            router.registerUnary(Self.plain, deserializer: codec, serializer: codec) { _, _ -> ByteBuffer in
                throw EchoService.PlainError()
            }
            router.registerUnary(Self.sleep, deserializer: codec, serializer: codec) { request, _ in
                try await Task.sleep(for: .seconds(20))
                return request
            }
            router.registerClientStreaming(Self.hold, deserializer: codec, serializer: codec) { requests, _ in
                for try await _ in requests {}
                return ByteBuffer()
            }
            router.registerUnary(Self.big, deserializer: codec, serializer: codec) { request, _ in request }
            router.registerServerStreaming(Self.bigStream, deserializer: codec, serializer: codec) { request, response, _ in
                try await response.send(ByteBuffer(string: "small"))
                try await response.send(ByteBuffer(bytes: [UInt8](repeating: 7, count: 64)))
            }
            router.registerUnary(Self.reserved, deserializer: codec, serializer: codec) { request, context in
                context.addTrailingMetadata("grpc-status", "0")
                return request
            }
            router.registerServerStreaming(Self.stream, deserializer: codec, serializer: codec) { request, response, context in
                for _ in 0..<3 { try await response.send(request) }
                context.addTrailingMetadata("x-count", "3")
            }
            router.registerUnary(Self.refused, deserializer: codec, serializer: codec) { request, _ in request }
            router.registerBidirectionalStreaming(Self.echo, deserializer: codec, serializer: codec) { requests, response, _ in
                for try await request in requests { try await response.send(request) }
            }
        }
    }

    /// Refuses calls to `Ends.refused` before their handler runs.
    struct Refuse: GRPCServerInterceptor {
        func intercept<Result: Sendable>(context: GRPCServerContext, next: @Sendable () async throws -> Result) async throws -> Result {
            if context.path == Ends.refused { throw GRPCStatus(.permissionDenied, "not for you") }
            return try await next()
        }
    }

    /// A server of `Ends` whose first interceptor records final statuses (`Refuse` after it),
    /// responses limited to 32 bytes. Once the server has closed, each path must have been
    /// reported at most once (`onceEach`: the test calls each path once at most).
    func withServer(channelConfiguration: GRPCChannelConfiguration = GRPCChannelConfiguration(), onceEach: Bool = true,
                    _ body: (GRPCChannel, GRPCServer, FinalStatuses) async throws -> Void) async throws {
        let statuses = FinalStatuses()
        var configuration = GRPCServerConfiguration()
        configuration.interceptors = [RecordFinalStatus(statuses: statuses), Refuse()]
        configuration.maxSendMessageSize = 32
        let group = EventLoopGroup(numberOfThreads: 1)
        let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [Ends()], configuration: configuration)
        let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: group, configuration: channelConfiguration)
        do {
            try await body(channel, server, statuses)
        } catch {
            await channel.close()
            try await server.close()
            try await group.shutdownGracefully()
            throw error
        }
        await channel.close()
        try await server.close()
        try await group.shutdownGracefully()
        guard onceEach else { return }
        for path in [Ends.ok, Ends.thrown, Ends.plain, Ends.sleep, Ends.hold, Ends.big, Ends.bigStream, Ends.reserved, Ends.stream, Ends.refused, Ends.echo] {
            #expect(statuses.all(path).count <= 1, "\(path) was reported \(statuses.all(path).count) times")
        }
    }

    func unary(_ channel: GRPCChannel, _ path: String, _ request: String = "hi", options: GRPCCallOptions = GRPCCallOptions()) async throws -> GRPCResponse<ByteBuffer> {
        try await channel.unary(path: path, request: ByteBuffer(string: request), serializer: codec, deserializer: codec, options: options)
    }

    @Test func okWithTheTrailingMetadataSent() async throws {
        try await withServer { channel, _, statuses in
            _ = try await unary(channel, Ends.ok)
            let status = try await statuses.first(Ends.ok)
            #expect(status.code == .ok)
            #expect(status.message.isEmpty)
            #expect(status.trailingMetadata["x-result"] == "fine")
        }
    }

    @Test func okAfterAStreamedResponse() async throws {
        try await withServer { channel, _, statuses in
            let count = try await channel.serverStreaming(path: Ends.stream, request: ByteBuffer(string: "m"), serializer: codec,
                                                          deserializer: codec, options: GRPCCallOptions()) { responses in
                var count = 0
                for try await _ in responses { count += 1 }
                return count
            }
            #expect(count == 3)
            let status = try await statuses.first(Ends.stream)
            #expect(status.code == .ok)
            #expect(status.trailingMetadata["x-count"] == "3")
        }
    }

    /// The handler's status, with its own trailing metadata and the context's.
    @Test func thrownStatus() async throws {
        try await withServer { channel, _, statuses in
            await #expect(throws: GRPCStatus(.notFound, "nothing here")) { _ = try await unary(channel, Ends.thrown) }
            let status = try await statuses.first(Ends.thrown)
            #expect(status == GRPCStatus(.notFound, "nothing here"))
            #expect(status.trailingMetadata["x-why"] == "gone")
            #expect(status.trailingMetadata["x-from-context"] == "1")
        }
    }

    @Test func otherErrorIsUnknown() async throws {
        try await withServer { channel, _, statuses in
            await #expect(throws: GRPCStatus(.unknown, "a plain error")) { _ = try await unary(channel, Ends.plain) }
            let status = try await statuses.first(Ends.plain)
            #expect(status == GRPCStatus(.unknown, "a plain error"))
        }
    }

    /// The server's own deadline timer (a raw client sends grpc-timeout and never cancels,
    /// so the server's timer, not the client's reset, ends the call). One second: the
    /// interceptor must have run before it passes.
    @Test func deadlineExceeded() async throws {
        try await withServer { _, server, statuses in
            let group = EventLoopGroup(numberOfThreads: 1)
            let client = try await HTTP2Client.connect(host: "127.0.0.1", port: server.port, group: group)
            let head = HTTP2RequestHead(method: "POST", path: Ends.sleep, authority: "127.0.0.1",
                                        headers: [HPACKHeader("te", "trailers"), HPACKHeader("content-type", "application/grpc"),
                                                  HPACKHeader("grpc-timeout", "1S")])
            var body = ByteBuffer()
            body.writeBytes([0, 0, 0, 0, 1, 0x61])
            let response = try await client.send(head, body: body)
            _ = try await response.body.collect(upTo: 1 << 20)
            let trailers = await response.body.trailers ?? []
            #expect((response.head.headers + trailers).first { $0.name == "grpc-status" }?.value == "4")
            let status = try await statuses.first(Ends.sleep)
            #expect(status == GRPCStatus(.deadlineExceeded, "the deadline passed before the call completed"))
            try await client.close()
            try await group.shutdownGracefully()
        }
    }

    /// The client's RST_STREAM(CANCEL): nothing is sent, the call is CANCELLED.
    @Test func cancelledByTheClientsReset() async throws {
        try await withServer { channel, _, statuses in
            let call = Task { try await unary(channel, Ends.sleep) }
            try await statuses.waitUntilStarted(Ends.sleep)
            call.cancel()
            await #expect(throws: GRPCStatus.self) { _ = try await call.value }
            let status = try await statuses.first(Ends.sleep)
            #expect(status.code == .cancelled)
            #expect(status.message.contains("RST_STREAM"), "\(status)")
        }
    }

    /// The connection closes under an open call (no reset, no GOAWAY): CANCELLED.
    @Test func cancelledByConnectionLoss() async throws {
        try await withServer { _, server, statuses in
            let group = EventLoopGroup(numberOfThreads: 1)
            let client = try await HTTP2Client.connect(host: "127.0.0.1", port: server.port, group: group)
            let head = HTTP2RequestHead(method: "POST", path: Ends.hold, authority: "127.0.0.1",
                                        headers: [HPACKHeader("te", "trailers"), HPACKHeader("content-type", "application/grpc")])
            let upload = Task {
                try await client.send(head) { _ in try await Task.sleep(for: .seconds(20)) }
            }
            try await statuses.waitUntilStarted(Ends.hold)
            try await client.channel.close().get()
            let status = try await statuses.first(Ends.hold)
            // The server resets the streams still waiting for a peer that closed its side
            // (the stream-end rule), or finds the stream closed with the connection.
            #expect(status.code == .cancelled)
            #expect(status.message == "the connection closed before the call completed"
                    || status.message == "the client cancelled the call (RST_STREAM CANCEL)", "\(status)")
            upload.cancel()
            _ = try await withDeadline(30, "the raw client's request after its connection closed") { await upload.result }
            try await group.shutdownGracefully()
        }
    }

    /// A unary response over `maxSendMessageSize`.
    @Test func oversizedResponseIsResourceExhausted() async throws {
        try await withServer { channel, _, statuses in
            let request = String(repeating: "x", count: 40)
            await #expect(throws: GRPCStatus.self) { _ = try await unary(channel, Ends.big, request) }
            let status = try await statuses.first(Ends.big)
            #expect(status.code == .resourceExhausted, "\(status)")
        }
    }

    /// A streamed response message over `maxSendMessageSize`, after one that fit.
    @Test func oversizedStreamedResponseIsResourceExhausted() async throws {
        try await withServer { channel, _, statuses in
            let received = Mutex(0)
            await #expect(throws: GRPCStatus.self) {
                try await channel.serverStreaming(path: Ends.bigStream, request: ByteBuffer(), serializer: codec, deserializer: codec,
                                                  options: GRPCCallOptions()) { responses in
                    for try await _ in responses { received.withLock { $0 += 1 } }
                }
            }
            #expect(received.withLock { $0 } == 1)
            let status = try await statuses.first(Ends.bigStream)
            #expect(status.code == .resourceExhausted, "\(status)")
        }
    }

    /// Trailing metadata that may not be sent: the client gets INTERNAL, and so does the observer.
    @Test func unsendableTrailingMetadataIsInternal() async throws {
        try await withServer { channel, _, statuses in
            await #expect(throws: GRPCStatus.self) { _ = try await unary(channel, Ends.reserved) }
            let status = try await statuses.first(Ends.reserved)
            #expect(status.code == .internal)
            #expect(status.message.contains("grpc-status"), "\(status)")
        }
    }

    /// An interceptor after the observing one refuses the call.
    @Test func refusedByAnInterceptor() async throws {
        try await withServer { channel, _, statuses in
            await #expect(throws: GRPCStatus(.permissionDenied, "not for you")) { _ = try await unary(channel, Ends.refused) }
            let status = try await statuses.first(Ends.refused)
            #expect(status == GRPCStatus(.permissionDenied, "not for you"))
        }
    }

    /// An observer registered after the end runs at once with the same status.
    @Test func observerRegisteredAfterTheEndRunsAtOnce() {
        let context = GRPCServerContext(path: Ends.ok, requestMetadata: GRPCMetadata(), deadline: nil, userAgent: nil)
        context.addTrailingMetadata("x-late", "yes")
        let early = Mutex<[GRPCStatus]>([])
        context.onFinish { status in early.withLock { $0.append(status) } }
        context.ended(GRPCStatus(.aborted, "stop"), withTrailingMetadata: true)
        context.ended(GRPCStatus(.ok), withTrailingMetadata: true)  // only the first end counts
        let late = Mutex<[GRPCStatus]>([])
        context.onFinish { status in late.withLock { $0.append(status) } }
        for seen in [early.withLock { $0 }, late.withLock { $0 }] {
            #expect(seen == [GRPCStatus(.aborted, "stop")])
            #expect(seen.first?.trailingMetadata["x-late"] == "yes")
        }
    }
}
