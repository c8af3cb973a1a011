import CoreMetrics
import Loop

/// A gRPC service: registers its methods with a router. Generated service protocols
/// (`protoc-gen-loop-grpc`) implement this for you.
public protocol GRPCService: Sendable {
    func register(with router: inout GRPCRouter)
}

/// The methods a server serves, by path (`/package.Service/Method`).
///
/// ```swift
/// var router = GRPCRouter()
/// router.registerUnary("/echo.Echo/Get", deserializer: ByteBufferCodec(), serializer: ByteBufferCodec()) { request, _ in
///     request
/// }
/// ```
public struct GRPCRouter: Sendable {
    /// One method, its types erased: runs a whole call.
    struct Method: Sendable {
        let run: @Sendable (GRPCServerCall, [any GRPCServerInterceptor]) async -> Void
        /// The method's call metrics (set by `GRPCServer.bind`, Observability/GRPCMetrics.swift).
        var metrics: GRPCMethodMetrics? = nil
        /// The handler for in-process calls (``GRPCLocalCaller``), with its message types erased.
        var local = GRPCLocalMethod.unsupported
    }

    private(set) var methods: [String: Method] = [:]
    /// Service names with at least one method, for "unknown method" versus "unknown service".
    private(set) var services: Set<Substring> = []
    /// Metrics of calls to paths no method is registered for (set with the methods').
    private(set) var unknownMethodMetrics: GRPCMethodMetrics?

    public init() {}

    /// Registers every method of `service`.
    public mutating func register(_ service: some GRPCService) {
        service.register(with: &self)
    }

    /// The paths registered, sorted.
    public var paths: [String] { methods.keys.sorted() }

    private mutating func add(_ path: String, _ method: Method) {
        precondition(path.hasPrefix("/") && path.dropFirst().contains("/"), "a gRPC path looks like /package.Service/Method, not \(path)")
        methods[path] = method
        services.insert(path.dropFirst().prefix { $0 != "/" })
    }

    func method(for path: String) -> Method? { methods[path] }

    /// Makes every method's call metrics through `factory`, once (`GRPCServer.bind`).
    mutating func makeMetrics(factory: any MetricsFactory) {
        for path in methods.keys {
            methods[path]?.metrics = GRPCMethodMetrics(factory: factory, prefix: "loop_grpc_server_", method: path)
        }
        unknownMethodMetrics = GRPCMethodMetrics(factory: factory, prefix: "loop_grpc_server_", method: "unknown")
    }

    /// UNIMPLEMENTED for a path no method is registered for, worded as grpc-go words it.
    func unknownMethodStatus(_ path: String) -> GRPCStatus {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else {
            return GRPCStatus(.unimplemented, "malformed method name \"\(path)\"")
        }
        if services.contains(parts[1]) {
            return GRPCStatus(.unimplemented, "unknown method \(parts[2]) for service \(parts[1])")
        }
        return GRPCStatus(.unimplemented, "unknown service \(parts[1])")
    }

    /// A unary method: one request, one response.
    public mutating func registerUnary<D: GRPCDeserializer, S: GRPCSerializer>(
        _ path: String, deserializer: D, serializer: S,
        handler: @escaping @Sendable (D.Message, GRPCServerContext) async throws -> S.Message
    ) {
        add(path, Method(run: { call, interceptors in
            do {
                let request = try Self.decode(try await call.singleMessage(), deserializer)
                let context = call.context
                let response = interceptors.isEmpty
                    ? try await handler(request, context)
                    : try await interceptors.run(context: context) { try await handler(request, context) }
                let framed = try GRPCMessageFramer.frame(response, serializer: serializer, compression: call.responseCompression,
                                                         maxMessageSize: call.maxSendMessageSize)
                if call.loop.inEventLoop { call.finishUnaryOnLoop(framed) } else { await call.finishUnary(framed) }
            } catch {
                await call.finish(error: error)
            }
        }, local: .unary { request, context, interceptors in
            let request = try GRPCLocalMethod.cast(request, to: D.Message.self, path: path)
            return interceptors.isEmpty
                ? try await handler(request, context)
                : try await interceptors.run(context: context) { try await handler(request, context) }
        }))
    }

    /// A client-streaming method: a stream of requests, one response.
    public mutating func registerClientStreaming<D: GRPCDeserializer, S: GRPCSerializer>(
        _ path: String, deserializer: D, serializer: S,
        handler: @escaping @Sendable (GRPCRequestStream<D.Message>, GRPCServerContext) async throws -> S.Message
    ) {
        add(path, Method { call, interceptors in
            do {
                let requests = GRPCRequestStream(call: call) { try Self.decode($0, deserializer) }
                let context = call.context
                let response = interceptors.isEmpty
                    ? try await handler(requests, context)
                    : try await interceptors.run(context: context) { try await handler(requests, context) }
                let framed = try GRPCMessageFramer.frame(response, serializer: serializer, compression: call.responseCompression,
                                                         maxMessageSize: call.maxSendMessageSize)
                if call.loop.inEventLoop { call.finishUnaryOnLoop(framed) } else { await call.finishUnary(framed) }
            } catch {
                await call.finish(error: error)
            }
        })
    }

    /// A server-streaming method: one request, a stream of responses.
    public mutating func registerServerStreaming<D: GRPCDeserializer, S: GRPCSerializer>(
        _ path: String, deserializer: D, serializer: S,
        handler: @escaping @Sendable (D.Message, GRPCResponseWriter<S.Message>, GRPCServerContext) async throws -> Void
    ) {
        add(path, Method(run: { call, interceptors in
            do {
                let request = try Self.decode(try await call.singleMessage(), deserializer)
                let writer = Self.writer(call, serializer)
                let context = call.context
                if interceptors.isEmpty {
                    try await handler(request, writer, context)
                } else {
                    try await interceptors.run(context: context) { try await handler(request, writer, context) }
                }
                await call.finishOnLoop(.ok)
            } catch {
                await call.finish(error: error)
            }
        }, local: .serverStreaming { request, send, context, interceptors in
            let request = try GRPCLocalMethod.cast(request, to: D.Message.self, path: path)
            let writer = GRPCResponseWriter<S.Message>(local: { message in try await send(message) })
            if interceptors.isEmpty {
                try await handler(request, writer, context)
            } else {
                try await interceptors.run(context: context) { try await handler(request, writer, context) }
            }
        }))
    }

    /// A bidirectional-streaming method: requests and responses as independent streams.
    public mutating func registerBidirectionalStreaming<D: GRPCDeserializer, S: GRPCSerializer>(
        _ path: String, deserializer: D, serializer: S,
        handler: @escaping @Sendable (GRPCRequestStream<D.Message>, GRPCResponseWriter<S.Message>, GRPCServerContext) async throws -> Void
    ) {
        add(path, Method { call, interceptors in
            do {
                let requests = GRPCRequestStream(call: call) { try Self.decode($0, deserializer) }
                let writer = Self.writer(call, serializer)
                let context = call.context
                if interceptors.isEmpty {
                    try await handler(requests, writer, context)
                } else {
                    try await interceptors.run(context: context) { try await handler(requests, writer, context) }
                }
                await call.finishOnLoop(.ok)
            } catch {
                await call.finish(error: error)
            }
        })
    }

    private static func decode<D: GRPCDeserializer>(_ bytes: ByteBuffer, _ deserializer: D) throws(GRPCStatus) -> D.Message {
        do {
            return try deserializer.deserialize(bytes)
        } catch {
            throw GRPCStatus(.internal, "could not parse the request message: \(error)")
        }
    }

    private static func writer<S: GRPCSerializer>(_ call: GRPCServerCall, _ serializer: S) -> GRPCResponseWriter<S.Message> {
        let compression = call.responseCompression
        let limit = call.maxSendMessageSize
        return GRPCResponseWriter(call: call) { (message: S.Message) throws(GRPCStatus) -> ByteBuffer in
            try GRPCMessageFramer.frame(message, serializer: serializer, compression: compression, maxMessageSize: limit)
        }
    }
}
