import Testing
import Loop
import LoopHTTP2
@testable import LoopGRPC

/// A test service over raw bytes: every call kind, errors, metadata, slow handlers.
struct EchoService: GRPCService {
    static let unary = "/test.Echo/Get"
    static let collect = "/test.Echo/Collect"
    static let expand = "/test.Echo/Expand"
    static let update = "/test.Echo/Update"
    static let fail = "/test.Echo/Fail"
    static let sleep = "/test.Echo/Sleep"
    static let metadata = "/test.Echo/Metadata"

    func register(with router: inout GRPCRouter) {
        let codec = ByteBufferCodec()
        router.registerUnary(Self.unary, deserializer: codec, serializer: codec) { request, _ in request }
        router.registerClientStreaming(Self.collect, deserializer: codec, serializer: codec) { requests, _ in
            var all = ByteBuffer()
            for try await var part in requests { all.writeBuffer(&part) }
            return all
        }
        router.registerServerStreaming(Self.expand, deserializer: codec, serializer: codec) { request, response, _ in
            for byte in request.readableBytesView { try await response.send(ByteBuffer(bytes: [byte])) }
        }
        router.registerBidirectionalStreaming(Self.update, deserializer: codec, serializer: codec) { requests, response, _ in
            for try await request in requests { try await response.send(request) }
        }
        router.registerUnary(Self.fail, deserializer: codec, serializer: codec) { request, _ -> ByteBuffer in
            let text = String(decoding: request.readableBytesView, as: UTF8.self)
            if text == "plain" { throw PlainError() }
            throw GRPCStatus(.notFound, "no such thing: \(text)")
        }
        router.registerUnary(Self.sleep, deserializer: codec, serializer: codec) { request, context in
            try await Task.sleep(for: .seconds(10))
            return request
        }
        router.registerUnary(Self.metadata, deserializer: codec, serializer: codec) { request, context in
            if let value = context.requestMetadata["x-echo-initial"] { context.addInitialMetadata("x-echo-initial", value) }
            if let bytes = context.requestMetadata.binary("x-echo-trailing-bin") {
                var trailing = GRPCMetadata()
                trailing.add(binary: "x-echo-trailing-bin", bytes)
                context.addTrailingMetadata(trailing)
            }
            return request
        }
    }

    struct PlainError: Error, CustomStringConvertible {
        var description: String { "a plain error" }
    }
}

/// A server on an ephemeral port and a channel to it, both closed at the end.
@discardableResult
func withEchoServer<R>(
    configuration: GRPCServerConfiguration = GRPCServerConfiguration(),
    channelConfiguration: GRPCChannelConfiguration = GRPCChannelConfiguration(),
    _ body: (GRPCChannel, GRPCServer) async throws -> R
) async throws -> R {
    let group = EventLoopGroup(numberOfThreads: 2)
    let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [EchoService()], configuration: configuration)
    let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: group, configuration: channelConfiguration)
    do {
        let result = try await body(channel, server)
        await channel.close()
        try await server.close()
        try await group.shutdownGracefully()
        return result
    } catch {
        await channel.close()
        try await server.close()
        try await group.shutdownGracefully()
        throw error
    }
}

func text(_ buffer: ByteBuffer) -> String { String(decoding: buffer.readableBytesView, as: UTF8.self) }

@Suite struct GRPCEndToEndTests {
    let codec = ByteBufferCodec()

    @Test func unaryEcho() async throws {
        try await withEchoServer { channel, _ in
            let response = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: "hello"),
                                                   serializer: codec, deserializer: codec, options: GRPCCallOptions())
            #expect(text(response.message) == "hello")
            #expect(channel.connectivityState == .ready)
        }
    }

    @Test func allFourKinds() async throws {
        try await withEchoServer { channel, _ in
            let collected = try await channel.clientStreaming(path: EchoService.collect, serializer: codec, deserializer: codec,
                                                              options: GRPCCallOptions()) { requests in
                for part in ["a", "bb", "ccc"] { try await requests.send(ByteBuffer(string: part)) }
            }
            #expect(text(collected.message) == "abbccc")

            let expanded = try await channel.serverStreaming(path: EchoService.expand, request: ByteBuffer(string: "xyz"),
                                                             serializer: codec, deserializer: codec, options: GRPCCallOptions()) { responses in
                var parts: [String] = []
                for try await part in responses { parts.append(text(part)) }
                return parts
            }
            #expect(expanded == ["x", "y", "z"])

            let pingPong = try await channel.bidirectionalStreaming(path: EchoService.update, serializer: codec, deserializer: codec,
                                                                    options: GRPCCallOptions()) { requests, responses in
                var iterator = responses.makeAsyncIterator()
                var echoed: [String] = []
                for word in ["ping", "pong", "done"] {
                    try await requests.send(ByteBuffer(string: word))
                    echoed.append(text(try #require(try await iterator.next())))
                }
                try await requests.finish()
                #expect(try await iterator.next() == nil)
                return echoed
            }
            #expect(pingPong == ["ping", "pong", "done"])
        }
    }

    @Test func emptyStreams() async throws {
        try await withEchoServer { channel, _ in
            let count = try await channel.bidirectionalStreaming(path: EchoService.update, serializer: codec, deserializer: codec,
                                                                 options: GRPCCallOptions()) { requests, responses in
                try await requests.finish()
                var count = 0
                for try await _ in responses { count += 1 }
                return count
            }
            #expect(count == 0)
        }
    }

    @Test func unknownServiceAndMethodAreUnimplemented() async throws {
        try await withEchoServer { channel, _ in
            await #expect(throws: GRPCStatus(.unimplemented, "unknown method Nope for service test.Echo")) {
                _ = try await channel.unary(path: "/test.Echo/Nope", request: ByteBuffer(), serializer: codec, deserializer: codec, options: GRPCCallOptions())
            }
            await #expect(throws: GRPCStatus(.unimplemented, "unknown service test.Missing")) {
                _ = try await channel.unary(path: "/test.Missing/Get", request: ByteBuffer(), serializer: codec, deserializer: codec, options: GRPCCallOptions())
            }
        }
    }

    @Test func thrownErrorsBecomeStatuses() async throws {
        try await withEchoServer { channel, _ in
            await #expect(throws: GRPCStatus(.notFound, "no such thing: it ☺ 100%")) {
                _ = try await channel.unary(path: EchoService.fail, request: ByteBuffer(string: "it ☺ 100%"), serializer: codec, deserializer: codec, options: GRPCCallOptions())
            }
            await #expect(throws: GRPCStatus(.unknown, "a plain error")) {
                _ = try await channel.unary(path: EchoService.fail, request: ByteBuffer(string: "plain"), serializer: codec, deserializer: codec, options: GRPCCallOptions())
            }
        }
    }

    @Test func metadataBothWays() async throws {
        try await withEchoServer { channel, _ in
            var options = GRPCCallOptions()
            options.metadata.add("x-echo-initial", "initial value")
            options.metadata.add(binary: "x-echo-trailing-bin", [0x0a, 0x0b, 0x0a, 0x0b, 0x0a, 0x0b])
            let response = try await channel.unary(path: EchoService.metadata, request: ByteBuffer(string: "m"),
                                                   serializer: codec, deserializer: codec, options: options)
            #expect(response.initialMetadata["x-echo-initial"] == "initial value")
            #expect(response.trailingMetadata.binary("x-echo-trailing-bin") == [0x0a, 0x0b, 0x0a, 0x0b, 0x0a, 0x0b])
        }
    }

    @Test func deadlineExceeded() async throws {
        try await withEchoServer { channel, _ in
            var options = GRPCCallOptions()
            options.timeout = .milliseconds(100)
            let elapsed = try await resumingOnItsOwnLoop {
                let start = ContinuousClock.now
                do {
                    _ = try await channel.unary(path: EchoService.sleep, request: ByteBuffer(), serializer: codec, deserializer: codec, options: options)
                    Issue.record("the call should have timed out")
                } catch let status as GRPCStatus {
                    #expect(status.code == .deadlineExceeded)
                }
                return ContinuousClock.now - start
            }
            // Long before the handler's 10 s sleep ends (then the call would succeed).
            #expect(elapsed < .seconds(5))
            // The connection still serves calls.
            let response = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: "after"), serializer: codec, deserializer: codec, options: GRPCCallOptions())
            #expect(text(response.message) == "after")
        }
    }

    @Test func callerCancellation() async throws {
        try await withEchoServer { channel, _ in
            let codec = self.codec
            let task = Task {
                try await channel.unary(path: EchoService.sleep, request: ByteBuffer(), serializer: codec, deserializer: codec, options: GRPCCallOptions())
            }
            try await Task.sleep(for: .milliseconds(100))
            task.cancel()
            do {
                _ = try await task.value
                Issue.record("the call should have been cancelled")
            } catch let status as GRPCStatus {
                #expect(status.code == .cancelled)
            }
        }
    }

    @Test(arguments: [GRPCCompression.gzip, .deflate])
    func compressedCalls(_ compression: GRPCCompression) async throws {
        try await withEchoServer { channel, _ in
            var options = GRPCCallOptions()
            options.compression = compression
            let big = ByteBuffer(string: String(repeating: "squeeze me ", count: 10_000))
            let response = try await channel.unary(path: EchoService.unary, request: big, serializer: codec, deserializer: codec, options: options)
            #expect(response.message == big)
            #expect(response.initialMetadata.isEmpty)
        }
    }

    @Test func oversizedRequestIsResourceExhausted() async throws {
        var configuration = GRPCServerConfiguration()
        configuration.maxReceiveMessageSize = 1000
        try await withEchoServer(configuration: configuration) { channel, _ in
            await #expect(throws: GRPCStatus(.resourceExhausted, "received message of 1001 bytes exceeds the limit of 1000 bytes")) {
                _ = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: String(repeating: "x", count: 1001)),
                                            serializer: codec, deserializer: codec, options: GRPCCallOptions())
            }
            var options = GRPCCallOptions()
            options.maxReceiveMessageSize = 10
            await #expect(throws: GRPCStatus(.resourceExhausted, "received message of 11 bytes exceeds the limit of 10 bytes")) {
                _ = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: "01234567890"),
                                            serializer: codec, deserializer: codec, options: options)
            }
        }
    }

    @Test func largeMessagesBothWays() async throws {
        var configuration = GRPCServerConfiguration()
        configuration.maxReceiveMessageSize = 8 << 20
        try await withEchoServer(configuration: configuration) { channel, _ in
            var options = GRPCCallOptions()
            options.maxReceiveMessageSize = 8 << 20
            let big = ByteBuffer(bytes: (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            let response = try await channel.unary(path: EchoService.unary, request: big, serializer: codec, deserializer: codec, options: options)
            #expect(response.message == big)
        }
    }

    @Test func manyConcurrentCallsOnOneConnection() async throws {
        try await withEchoServer { channel, _ in
            let codec = self.codec
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let response = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: "\(index)"),
                                                               serializer: codec, deserializer: codec, options: GRPCCallOptions())
                        #expect(text(response.message) == "\(index)")
                    }
                }
                try await group.waitForAll()
            }
            #expect(channel.connectionCount == 1)
        }
    }

    @Test func newConnectionWhenTheStreamLimitIsReached() async throws {
        var configuration = GRPCServerConfiguration()
        configuration.http2.maxConcurrentStreams = 2
        try await withEchoServer(configuration: configuration) { channel, _ in
            let codec = self.codec
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var options = GRPCCallOptions()
                        options.timeout = .seconds(20)
                        _ = try? await channel.unary(path: EchoService.sleep, request: ByteBuffer(), serializer: codec, deserializer: codec, options: options)
                    }
                }
                // Four slow calls, two streams per connection: a second connection opens (in
                // milliseconds; the generous deadline is for a machine busy with other suites,
                // where 4 s once did not suffice).
                let deadline = ContinuousClock.now + .seconds(15)
                while channel.connectionCount < 2 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(channel.connectionCount == 2)
                group.cancelAll()
                try await group.waitForAll()
            }
        }
    }

    @Test func unreachableServerIsUnavailableThenTransientFailure() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        // A port nothing listens on: bind one, note it, close it.
        let probe = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [])
        let port = probe.port
        try await probe.close()
        let channel = GRPCChannel(host: "127.0.0.1", port: port, group: group)
        #expect(channel.connectivityState == .idle)
        do {
            _ = try await channel.unary(path: EchoService.unary, request: ByteBuffer(), serializer: codec, deserializer: codec, options: GRPCCallOptions())
            Issue.record("the call should fail")
        } catch let status as GRPCStatus {
            #expect(status.code == .unavailable)
            #expect(status.message.contains("127.0.0.1:\(port)"))
        }
        #expect(channel.connectivityState == .transientFailure)
        await channel.close()
        #expect(channel.connectivityState == .shutdown)
        try await group.shutdownGracefully()
    }

    @Test func interceptorsOnBothSides() async throws {
        struct RequireToken: GRPCServerInterceptor {
            func intercept<Result: Sendable>(context: GRPCServerContext, next: @Sendable () async throws -> Result) async throws -> Result {
                guard context.requestMetadata["authorization"] == "Bearer secret" else {
                    throw GRPCStatus(.unauthenticated, "missing or wrong token")
                }
                context.addTrailingMetadata("checked-by", "interceptor")
                return try await next()
            }
        }
        struct AddToken: GRPCClientInterceptor {
            func intercept<Result: Sendable>(path: String, options: GRPCCallOptions, next: @Sendable (GRPCCallOptions) async throws -> Result) async throws -> Result {
                var options = options
                options.metadata.add("authorization", "Bearer secret")
                return try await next(options)
            }
        }
        var server = GRPCServerConfiguration()
        server.interceptors = [RequireToken()]
        var client = GRPCChannelConfiguration()
        client.interceptors = [AddToken()]
        try await withEchoServer(configuration: server, channelConfiguration: client) { channel, _ in
            let response = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: "ok"), serializer: codec, deserializer: codec, options: GRPCCallOptions())
            #expect(response.trailingMetadata["checked-by"] == "interceptor")
        }
        try await withEchoServer(configuration: server) { channel, _ in
            await #expect(throws: GRPCStatus(.unauthenticated, "missing or wrong token")) {
                _ = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: "ok"), serializer: codec, deserializer: codec, options: GRPCCallOptions())
            }
        }
    }
}

/// Reserved or malformed metadata from a handler never reaches the wire.
@Suite struct GRPCServerMetadataTests {
    struct BadMetadata: GRPCService {
        func register(with router: inout GRPCRouter) {
            let codec = ByteBufferCodec()
            router.registerUnary("/bad.M/Initial", deserializer: codec, serializer: codec) { request, context in
                context.addInitialMetadata("grpc-status", "0")
                return request
            }
            router.registerUnary("/bad.M/Trailing", deserializer: codec, serializer: codec) { request, context in
                context.addTrailingMetadata("content-type", "text/plain")
                return request
            }
            router.registerServerStreaming("/bad.M/Stream", deserializer: codec, serializer: codec) { request, response, context in
                context.addInitialMetadata("Bad Key", "x")
                try await response.send(request)
            }
            router.registerUnary("/bad.M/Details", deserializer: codec, serializer: codec) { _, _ -> ByteBuffer in
                var details = GRPCMetadata()
                details.add(binary: "grpc-status-details-bin", [8, 5])
                throw GRPCStatus(.notFound, "with details", trailingMetadata: details)
            }
        }
    }

    @Test func reservedKeysEndTheCallWithInternal() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [BadMetadata()])
        let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: group)
        let codec = ByteBufferCodec()
        for path in ["/bad.M/Initial", "/bad.M/Trailing"] {
            await #expect(throws: GRPCStatus(.internal, path.hasSuffix("Initial") ? "metadata key \"grpc-status\" is reserved by gRPC"
                                                                                  : "metadata key \"content-type\" is reserved by gRPC")) {
                _ = try await channel.unary(path: path, request: ByteBuffer(string: "x"), serializer: codec, deserializer: codec, options: GRPCCallOptions())
            }
        }
        do {
            try await channel.serverStreaming(path: "/bad.M/Stream", request: ByteBuffer(string: "x"), serializer: codec, deserializer: codec,
                                              options: GRPCCallOptions()) { responses in
                for try await _ in responses {}
            }
            Issue.record("expected INTERNAL")
        } catch let status as GRPCStatus {
            #expect(status.code == .internal)
            #expect(status.message.hasPrefix("invalid metadata key \"bad key\""))
        }
        // grpc-status-details-bin is the application's and passes through.
        do {
            _ = try await channel.unary(path: "/bad.M/Details", request: ByteBuffer(), serializer: codec, deserializer: codec, options: GRPCCallOptions())
            Issue.record("expected NOT_FOUND")
        } catch let status as GRPCStatus {
            #expect(status == GRPCStatus(.notFound, "with details"))
            #expect(status.trailingMetadata.binary("grpc-status-details-bin") == [8, 5])
        }
        await channel.close()
        try await server.close()
        try await group.shutdownGracefully()
    }
}
