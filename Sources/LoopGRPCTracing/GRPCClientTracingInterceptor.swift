import LoopGRPC
import Synchronization
import Tracing

/// Opens a client span for every call: a child of the current span (`ServiceContext.current`,
/// so a call made by a traced handler continues its trace), injects the span's context into
/// the request metadata (W3C `traceparent` with swift-otel's propagator) for the server's
/// ``GRPCServerTracingInterceptor``, makes it current while the call runs, and ends it with
/// the status the call ended with (`GRPCCallOptions.onFinish`): the server's status with its
/// trailers, or DEADLINE_EXCEEDED, CANCELLED, UNAVAILABLE and so on when it ended here, also
/// for streaming calls whose status comes after the last message.
///
/// Attributes as OpenTelemetry's conventions for gRPC ask: name `package.Service/Method`,
/// kind `.client`, `rpc.system` (`grpc`), `rpc.service`, `rpc.method`,
/// `rpc.grpc.status_code`, and `server.address` and `server.port` when given. A status
/// other than OK sets the span's status to error with the status's message.
///
/// Put it last among the channel's interceptors, after any that retry, so every attempt is
/// a span of its own and carries its own `traceparent`:
///
/// ```swift
/// InstrumentationSystem.bootstrap(tracer)  // swift-otel's OTelTracer, for example
/// var configuration = GRPCChannelConfiguration()
/// configuration.interceptors = [AddToken(), GRPCClientTracingInterceptor(serverAddress: "api.internal", serverPort: 443)]
/// let channel = GRPCChannel(host: "api.internal", port: 443, group: group, configuration: configuration)
/// ```
public struct GRPCClientTracingInterceptor: GRPCClientInterceptor {
    private let tracer: (any Tracer)?
    private let serverAddress: String?
    private let serverPort: Int?

    /// Traces with the tracer bootstrapped in `InstrumentationSystem` (looked up per call).
    ///
    /// - Parameters:
    ///   - serverAddress: the `server.address` attribute, the name the channel connects to.
    ///   - serverPort: the `server.port` attribute.
    public init(serverAddress: String? = nil, serverPort: Int? = nil) {
        self.tracer = nil
        self.serverAddress = serverAddress
        self.serverPort = serverPort
    }

    /// Traces with `tracer` instead of the bootstrapped one.
    public init(tracer: any Tracer, serverAddress: String? = nil, serverPort: Int? = nil) {
        self.tracer = tracer
        self.serverAddress = serverAddress
        self.serverPort = serverPort
    }

    public func intercept<Result: Sendable>(
        path: String, options: GRPCCallOptions, next: @concurrent @Sendable (GRPCCallOptions) async throws -> Result
    ) async throws -> Result {
        let tracer = self.tracer ?? InstrumentationSystem.tracer
        let name = GRPCMethodName(path: path)
        let span = tracer.startSpan(name.fullName, context: ServiceContext.current ?? .topLevel, ofKind: .client)
        span.setMethodAttributes(name)
        if serverAddress != nil || serverPort != nil {
            span.updateAttributes { attributes in
                attributes[GRPCSpanAttribute.serverAddress] = serverAddress
                attributes[GRPCSpanAttribute.serverPort] = serverPort
            }
        }
        var options = options
        tracer.inject(span.context, into: &options.metadata, using: GRPCMetadataInjector())
        // The span ends once `next` is done, with the status of the last call it made: an
        // interceptor after this one may retry (several calls) or refuse (none).
        let outcome = CallOutcome()
        options.onFinish { status in outcome.record(status) }
        let result: Result
        do {
            result = try await ServiceContext.withValue(span.context) { try await next(options) }
        } catch {
            span.end(with: outcome.status ?? GRPCStatus(endingWith: error))
            throw error
        }
        span.end(with: outcome.status ?? .ok)
        return result
    }
}

/// The status of the last call an interception made.
private final class CallOutcome: Sendable {
    private let last = Mutex<GRPCStatus?>(nil)

    func record(_ status: GRPCStatus) { last.withLock { $0 = status } }

    var status: GRPCStatus? { last.withLock { $0 } }
}
