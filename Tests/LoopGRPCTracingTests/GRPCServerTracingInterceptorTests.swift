import InMemoryTracing
import Loop
import LoopGRPC
import LoopGRPCTracing
import Synchronization
import Testing
import Tracing

/// The server span of each call: continued from the request's `traceparent` or a new root,
/// current in the handler, ended with the status the client got.
@Suite struct GRPCServerTracingInterceptorTests {
    /// A call without trace context (an untraced client) gets a new root span, current in
    /// the handler, with the call's attributes.
    @Test func callWithoutContextGetsARootSpan() async throws {
        let tracer = W3CTestTracer()
        try await withTracedServer(server: [GRPCServerTracingInterceptor(tracer: tracer)], client: { _ in [] }) { channel, service in
            _ = try await unary(channel, TracedService.echo)
            let server = try #require(try await tracer.spans("trace.T/Echo", .server).first)
            #expect(server.parentSpanID == nil)
            #expect(TraceParent("00-\(server.traceID)-\(server.spanID)-01") != nil)
            let seen = try #require(service.seen.withLock { $0[TracedService.echo] })
            #expect(seen.traceparent == nil)
            #expect(seen.current == server.spanContext)

            #expect(server.attributes.string("rpc.system") == "grpc")
            #expect(server.attributes.string("rpc.service") == "trace.T")
            #expect(server.attributes.string("rpc.method") == "Echo")
            #expect(server.attributes.int("rpc.grpc.status_code") == 0)
            #expect(server.attributes.string("network.transport") == "tcp")
            #expect(server.attributes.string("network.type") == "ipv4")
            #expect(server.attributes.string("network.peer.address") == "127.0.0.1")
            #expect(server.attributes.string("client.address") == "127.0.0.1")
            #expect((server.attributes.int("client.port") ?? 0) > 0)
            #expect(server.attributes.string("server.address") == "127.0.0.1")
            #expect((server.attributes.int("server.port") ?? 0) > 0)
        }
    }

    /// Over a Unix domain socket: `network.transport` unix and the socket's path as
    /// `server.address`; the connecting client's socket has no name, so no client address.
    @Test func unixDomainSocketAttributes() async throws {
        let tracer = W3CTestTracer()
        let path = "/tmp/loop-tracing-\(UInt32.random(in: 0 ... .max)).sock"
        try await withTracedServer(.unixDomainSocket(path: path), server: [GRPCServerTracingInterceptor(tracer: tracer)],
                                   client: { _ in [] }) { channel, _ in
            _ = try await unary(channel, TracedService.echo)
            let server = try #require(try await tracer.spans("trace.T/Echo", .server).first)
            #expect(server.attributes.string("network.transport") == "unix")
            #expect(server.attributes.string("server.address") == path)
            #expect(server.attributes.get("server.port") == nil)
            #expect(server.attributes.get("client.address") == nil)
            #expect(server.attributes.get("network.type") == nil)
        }
    }

    /// The span's context is current in the handler: a call it makes through a traced
    /// channel is a child of the server span, and the server span of that call a child of it.
    @Test func nestedCallsAreChildren() async throws {
        let tracer = W3CTestTracer()
        try await withTracedServer(tracer: tracer) { channel, service in
            _ = try await unary(channel, TracedService.nested)
            let outerClient = try #require(try await tracer.spans("trace.T/Nested", .client).first)
            let outerServer = try #require(try await tracer.spans("trace.T/Nested", .server).first)
            let innerClient = try #require(try await tracer.spans("trace.T/Echo", .client).first)
            let innerServer = try #require(try await tracer.spans("trace.T/Echo", .server).first)
            #expect(outerServer.parentSpanID == outerClient.spanID)
            #expect(innerClient.parentSpanID == outerServer.spanID)
            #expect(innerServer.parentSpanID == innerClient.spanID)
            #expect(Set([outerClient, outerServer, innerClient, innerServer].map(\.traceID)).count == 1)
            #expect(service.seen.withLock { $0[TracedService.nested]?.current } == outerServer.spanContext)
        }
    }

    /// The status decided after the interceptor's `next` returned (the response is framed
    /// then, and found too large) is the span's.
    @Test func statusDecidedAfterTheHandler() async throws {
        let tracer = W3CTestTracer()
        try await withTracedServer(server: [GRPCServerTracingInterceptor(tracer: tracer)], client: { _ in [] }) { channel, _ in
            await #expect(throws: GRPCStatus.self) { _ = try await unary(channel, TracedService.big) }
            let server = try #require(try await tracer.spans("trace.T/Big", .server).first)
            #expect(server.attributes.int("rpc.grpc.status_code") == 8)
            #expect(server.status?.code == .error)
            #expect(server.errors.count == 1)
        }
    }

    /// A `traceparent` that is not W3C starts a new trace, as the tracer decides.
    @Test func malformedTraceparentStartsANewTrace() async throws {
        let tracer = W3CTestTracer()
        try await withTracedServer(server: [GRPCServerTracingInterceptor(tracer: tracer)], client: { _ in [] }) { channel, _ in
            var options = GRPCCallOptions()
            options.metadata.add("traceparent", "00-not-a-trace-01")
            _ = try await unary(channel, TracedService.echo, options: options)
            let server = try #require(try await tracer.spans("trace.T/Echo", .server).first)
            #expect(server.parentSpanID == nil)
        }
    }

    /// Without an explicit tracer both interceptors use the one bootstrapped in
    /// `InstrumentationSystem` (once per process: only this test bootstraps it).
    @Test func usesTheBootstrappedTracer() async throws {
        let tracer = Self.bootstrapped
        try await withTracedServer(server: [GRPCServerTracingInterceptor()], client: { _ in [GRPCClientTracingInterceptor()] }) { channel, _ in
            await #expect(throws: GRPCStatus.self) { _ = try await unary(channel, TracedService.fail) }
            let client = try #require(try await tracer.spans("trace.T/Fail", .client).first)
            let server = try #require(try await tracer.spans("trace.T/Fail", .server).first)
            #expect(server.parentSpanID == client.spanID)
            #expect(server.attributes.int("rpc.grpc.status_code") == 5)
        }
    }

    static let bootstrapped: W3CTestTracer = {
        let tracer = W3CTestTracer()
        InstrumentationSystem.bootstrap(tracer)
        return tracer
    }()
}
