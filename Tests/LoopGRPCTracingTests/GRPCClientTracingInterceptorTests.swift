import InMemoryTracing
import Loop
import LoopGRPC
import LoopGRPCTracing
import Testing
import Tracing

/// The client span of a call, the `traceparent` it sends, and the server span that continues
/// it (both interceptors, one W3C tracer).
@Suite struct GRPCClientTracingInterceptorTests {
    static let echoName = "trace.T/Echo"

    /// The server span is the child of the client span: same trace id, parent id = the
    /// client span's id; the `traceparent` the server saw is valid W3C and names the client
    /// span; the client span is a root (no current context), the OK status recorded on both.
    @Test func serverSpanIsTheChildOfTheClientSpan() async throws {
        let tracer = W3CTestTracer()
        try await withTracedServer(tracer: tracer) { channel, service in
            #expect(text(try await unary(channel, TracedService.echo)) == "hi")
            let client = try #require(try await tracer.spans(Self.echoName, .client).first)
            let server = try #require(try await tracer.spans(Self.echoName, .server).first)
            #expect(server.traceID == client.traceID)
            #expect(server.parentSpanID == client.spanID)
            #expect(client.parentSpanID == nil)

            let header = try #require(service.seen.withLock { $0[TracedService.echo]?.traceparent })
            let parsed = try #require(TraceParent(header), "not a W3C traceparent: \(header)")
            #expect(parsed.traceID == client.traceID)
            #expect(parsed.parentID == client.spanID)

            for span in [client, server] {
                #expect(span.attributes.int("rpc.grpc.status_code") == 0)
                #expect(span.status == nil)  // OK leaves the status unset (OpenTelemetry)
                #expect(span.errors.isEmpty)
            }
            #expect(client.attributes.string("rpc.system") == "grpc")
            #expect(client.attributes.string("rpc.service") == "trace.T")
            #expect(client.attributes.string("rpc.method") == "Echo")
            #expect(client.attributes.string("server.address") == "127.0.0.1")
            #expect(client.attributes.int("server.port") != nil)
        }
    }

    /// A status other than OK: the error status with its message on both spans.
    @Test func errorStatusOnBothSpans() async throws {
        let tracer = W3CTestTracer()
        try await withTracedServer(tracer: tracer) { channel, _ in
            await #expect(throws: GRPCStatus(.notFound, "no such thing")) { _ = try await unary(channel, TracedService.fail) }
            let client = try #require(try await tracer.spans("trace.T/Fail", .client).first)
            let server = try #require(try await tracer.spans("trace.T/Fail", .server).first)
            #expect(server.parentSpanID == client.spanID)
            for span in [client, server] {
                #expect(span.attributes.int("rpc.grpc.status_code") == 5)
                #expect(span.status == SpanStatus(code: .error, message: "no such thing"))
                #expect(span.errors.count == 1)
            }
        }
    }

    /// A call made inside a span continues its trace.
    @Test func clientSpanIsTheChildOfTheCurrentSpan() async throws {
        let tracer = W3CTestTracer()
        try await withTracedServer(tracer: tracer) { channel, _ in
            let outer = tracer.startSpan("outer", context: .topLevel, ofKind: .internal)
            _ = try await ServiceContext.withValue(outer.context) { try await unary(channel, TracedService.echo) }
            outer.end()
            let client = try #require(try await tracer.spans(Self.echoName, .client).first)
            let server = try #require(try await tracer.spans(Self.echoName, .server).first)
            #expect(client.traceID == outer.traceID)
            #expect(client.parentSpanID == outer.spanID)
            #expect(server.traceID == outer.traceID)
            #expect(server.parentSpanID == client.spanID)
        }
    }

    /// A server-streaming call's span ends with the status after the last message.
    @Test func streamingCallEndsWithItsStatus() async throws {
        let tracer = W3CTestTracer()
        try await withTracedServer(tracer: tracer) { channel, _ in
            let count = try await channel.serverStreaming(path: TracedService.expand, request: ByteBuffer(string: "abc"), serializer: codec,
                                                          deserializer: codec, options: GRPCCallOptions()) { responses in
                var count = 0
                for try await _ in responses { count += 1 }
                return count
            }
            #expect(count == 3)
            let client = try #require(try await tracer.spans("trace.T/Expand", .client).first)
            let server = try #require(try await tracer.spans("trace.T/Expand", .server).first)
            #expect(server.parentSpanID == client.spanID)
            #expect(client.attributes.int("rpc.grpc.status_code") == 0)
            #expect(server.attributes.int("rpc.grpc.status_code") == 0)
        }
    }

    /// The client's deadline: DEADLINE_EXCEEDED on the client span.
    @Test func deadlineOnTheClientSpan() async throws {
        let tracer = W3CTestTracer()
        try await withTracedServer(tracer: tracer) { channel, _ in
            var options = GRPCCallOptions()
            options.timeout = .milliseconds(100)
            await #expect(throws: GRPCStatus.self) { _ = try await unary(channel, TracedService.sleep, options: options) }
            let client = try #require(try await tracer.spans("trace.T/Sleep", .client).first)
            #expect(client.attributes.int("rpc.grpc.status_code") == 4)
            #expect(client.status?.code == .error)
        }
    }

    /// No server: the span ends with UNAVAILABLE.
    @Test func unavailableWithoutAServer() async throws {
        let tracer = W3CTestTracer()
        let group = EventLoopGroup(numberOfThreads: 1)
        var configuration = GRPCChannelConfiguration()
        configuration.interceptors = [GRPCClientTracingInterceptor(tracer: tracer)]
        let channel = GRPCChannel(endpoint: .unixDomainSocket(path: "/tmp/loop-no-such-server-\(UInt32.random(in: 0 ... .max)).sock"),
                                  group: group, configuration: configuration)
        await #expect(throws: GRPCStatus.self) { _ = try await unary(channel, TracedService.echo) }
        let client = try #require(tracer.finishedSpans.first)
        #expect(client.operationName == Self.echoName)
        #expect(client.attributes.int("rpc.grpc.status_code") == 14)
        await channel.close()
        try await group.shutdownGracefully()
    }

    /// An interceptor after the tracing one refuses: no call, the span ends with the refusal.
    @Test func refusalAfterTheInterceptor() async throws {
        struct Refuse: GRPCClientInterceptor {
            func intercept<Result: Sendable>(path: String, options: GRPCCallOptions,
                                             next: @Sendable (GRPCCallOptions) async throws -> Result) async throws -> Result {
                throw GRPCStatus(.unauthenticated, "no token")
            }
        }
        let tracer = W3CTestTracer()
        try await withTracedServer(server: [], client: { _ in [GRPCClientTracingInterceptor(tracer: tracer), Refuse()] }) { channel, _ in
            await #expect(throws: GRPCStatus(.unauthenticated, "no token")) { _ = try await unary(channel, TracedService.echo) }
            let client = try #require(tracer.finishedSpans.first)
            #expect(client.attributes.int("rpc.grpc.status_code") == 16)
            #expect(client.status == SpanStatus(code: .error, message: "no token"))
        }
    }
}
