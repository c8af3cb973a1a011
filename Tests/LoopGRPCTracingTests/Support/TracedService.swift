import InMemoryTracing
import Loop
import LoopGRPC
import LoopGRPCTracing
import Synchronization
import Tracing

/// Methods for the tracing tests. Each records the `traceparent` its call arrived with and
/// the span context current in its handler.
final class TracedService: GRPCService {
    static let echo = "/trace.T/Echo"
    static let fail = "/trace.T/Fail"
    static let big = "/trace.T/Big"
    static let nested = "/trace.T/Nested"
    static let expand = "/trace.T/Expand"
    static let sleep = "/trace.T/Sleep"

    struct Seen: Sendable {
        var traceparent: String?
        var current: InMemorySpanContext?
    }

    let seen = Mutex<[String: Seen]>([:])
    /// The channel nested calls go through (set once the server is bound).
    let channel = Mutex<GRPCChannel?>(nil)

    private func note(_ context: GRPCServerContext) {
        let record = Seen(traceparent: context.requestMetadata["traceparent"], current: ServiceContext.current?.inMemorySpanContext)
        seen.withLock { $0[context.path] = record }
    }

    func register(with router: inout GRPCRouter) {
        let codec = ByteBufferCodec()
        router.registerUnary(Self.echo, deserializer: codec, serializer: codec) { request, context in
            self.note(context)
            return request
        }
        router.registerUnary(Self.fail, deserializer: codec, serializer: codec) { _, context -> ByteBuffer in
            self.note(context)
            throw GRPCStatus(.notFound, "no such thing")
        }
        router.registerUnary(Self.big, deserializer: codec, serializer: codec) { _, context in
            self.note(context)
            return ByteBuffer(bytes: [UInt8](repeating: 1, count: 64))
        }
        router.registerUnary(Self.nested, deserializer: codec, serializer: codec) { request, context in
            self.note(context)
            let channel = self.channel.withLock { $0 }!
            return try await channel.unary(path: Self.echo, request: request, serializer: codec, deserializer: codec,
                                           options: GRPCCallOptions()).message
        }
        router.registerServerStreaming(Self.expand, deserializer: codec, serializer: codec) { request, response, context in
            self.note(context)
            for byte in request.readableBytesView { try await response.send(ByteBuffer(bytes: [byte])) }
        }
        router.registerUnary(Self.sleep, deserializer: codec, serializer: codec) { request, context in
            self.note(context)
            try await Task.sleep(for: .seconds(20))
            return request
        }
    }
}

/// A server of `TracedService` with `serverInterceptors` (responses up to 32 bytes) on
/// `endpoint` (127.0.0.1 and a free port by default) and a channel to it with
/// `clientInterceptors` (given the port), both closed at the end.
func withTracedServer<R>(
    _ endpoint: Endpoint = .hostAndPort(host: "127.0.0.1", port: 0),
    server serverInterceptors: [any GRPCServerInterceptor], client clientInterceptors: @escaping (Int) -> [any GRPCClientInterceptor],
    _ body: (GRPCChannel, TracedService) async throws -> R
) async throws -> R {
    let service = TracedService()
    var configuration = GRPCServerConfiguration()
    configuration.interceptors = serverInterceptors
    configuration.maxSendMessageSize = 32
    let group = EventLoopGroup(numberOfThreads: 2)
    let server = try await GRPCServer.bind(endpoint, group: group, services: [service], configuration: configuration)
    var channelConfiguration = GRPCChannelConfiguration()
    channelConfiguration.interceptors = clientInterceptors(server.port)
    let target: Endpoint
    switch endpoint {
    case .hostAndPort(let host, _): target = .hostAndPort(host: host, port: server.port)
    case .unixDomainSocket: target = endpoint
    }
    let channel = GRPCChannel(endpoint: target, group: group, configuration: channelConfiguration)
    service.channel.withLock { $0 = channel }
    let result: Result<R, any Error>
    do {
        result = .success(try await body(channel, service))
    } catch {
        result = .failure(error)
    }
    service.channel.withLock { $0 = nil }
    await channel.close()
    try await server.close()
    try await group.shutdownGracefully()
    return try result.get()
}

/// A server and a channel traced with `tracer` on both sides.
func withTracedServer<R>(tracer: W3CTestTracer, _ body: (GRPCChannel, TracedService) async throws -> R) async throws -> R {
    try await withTracedServer(server: [GRPCServerTracingInterceptor(tracer: tracer)],
                               client: { [GRPCClientTracingInterceptor(tracer: tracer, serverAddress: "127.0.0.1", serverPort: $0)] },
                               body)
}

let codec = ByteBufferCodec()

func unary(_ channel: GRPCChannel, _ path: String, _ request: String = "hi", options: GRPCCallOptions = GRPCCallOptions()) async throws -> ByteBuffer {
    try await channel.unary(path: path, request: ByteBuffer(string: request), serializer: codec, deserializer: codec, options: options).message
}

func text(_ buffer: ByteBuffer) -> String { String(decoding: buffer.readableBytesView, as: UTF8.self) }
