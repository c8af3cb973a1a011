import LoopGRPC
import Tracing

/// Opens a server span for every call: continues the trace the client propagated in the
/// request metadata (W3C `traceparent`, with the instrument bootstrapped in
/// `InstrumentationSystem`), or starts a new one when there is none; makes the span's
/// context current (`ServiceContext.current`) for the handler, so spans it starts and calls
/// it makes through a ``GRPCClientTracingInterceptor`` are children of it; and ends the span
/// with the status the client got, whatever ended the call (`GRPCServerContext.onFinish`).
///
/// The span follows OpenTelemetry's conventions for gRPC: named `package.Service/Method`,
/// kind `.server`, attributes `rpc.system` (`grpc`), `rpc.service`, `rpc.method`,
/// `rpc.grpc.status_code`, the client's address (`client.address`, `client.port`,
/// `network.peer.address`, `network.peer.port`, `network.transport`, `network.type`) and
/// the server's (`server.address`, `server.port`). A status other than OK sets the span's
/// status to error with the status's message and records the status as an error.
///
/// Put it first among the server's interceptors, so the span covers the others and sees
/// their refusals:
///
/// ```swift
/// InstrumentationSystem.bootstrap(tracer)  // swift-otel's OTelTracer, for example
/// var configuration = GRPCServerConfiguration()
/// configuration.interceptors = [GRPCServerTracingInterceptor(), RequireToken()]
/// ```
public struct GRPCServerTracingInterceptor: GRPCServerInterceptor {
    private let tracer: (any Tracer)?
    private let serverAddress: String?

    /// Traces with the tracer bootstrapped in `InstrumentationSystem` (looked up per call).
    ///
    /// - Parameter serverAddress: the `server.address` attribute, the name clients know the
    ///   server by; by default the address the call arrived on.
    public init(serverAddress: String? = nil) {
        self.tracer = nil
        self.serverAddress = serverAddress
    }

    /// Traces with `tracer` instead of the bootstrapped one.
    public init(tracer: any Tracer, serverAddress: String? = nil) {
        self.tracer = tracer
        self.serverAddress = serverAddress
    }

    public func intercept<Result: Sendable>(
        context: GRPCServerContext, next: @concurrent @Sendable () async throws -> Result
    ) async throws -> Result {
        let tracer = self.tracer ?? InstrumentationSystem.tracer
        var parent = ServiceContext.topLevel
        tracer.extract(context.requestMetadata, into: &parent, using: GRPCMetadataExtractor())
        let name = GRPCMethodName(path: context.path)
        let span = tracer.startSpan(name.fullName, context: parent, ofKind: .server)
        span.setMethodAttributes(name)
        span.setClientAttributes(context.remoteAddress)
        if let local = context.localAddress {
            span.updateAttributes { attributes in
                attributes[GRPCSpanAttribute.serverAddress] = serverAddress
                    ?? local.unixDomainSocketPath ?? local.ipAddress
                if local.unixDomainSocketPath == nil { attributes[GRPCSpanAttribute.serverPort] = local.port }
            }
        } else if let serverAddress {
            span.attributes[GRPCSpanAttribute.serverAddress] = serverAddress
        }
        // Called once, on the connection's loop, when the status is sent (or the client
        // reset the stream or went away): after `next` for most calls, before it when the
        // deadline passed while the handler ran.
        context.onFinish { status in span.end(with: status) }
        return try await ServiceContext.withValue(span.context) { try await next() }
    }
}
