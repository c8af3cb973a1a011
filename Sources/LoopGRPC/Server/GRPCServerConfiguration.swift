import CoreMetrics
import Logging
import LoopHTTP2
import LoopTLS

/// Settings of a gRPC server.
public struct GRPCServerConfiguration: Sendable {
    /// The HTTP/2 settings (window sizes, concurrent streams, abuse limits) and how long a
    /// connection lives. grpc-go's server defaults are on (gRFC A8, A9): keepalive PINGs after
    /// 2 hours without reads, closing a client that answers nothing within 20 seconds
    /// (`http2.keepalive`, `HTTP2Configuration.Keepalive.grpcServer`), and the PING policy
    /// (`http2.pingPolicy`, `HTTP2Configuration.PingPolicy.grpc`): a client pinging more
    /// often than every 5 minutes, or at all without calls, gets
    /// GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings") at its third early PING, and gRPC clients
    /// then double their interval. The idle timeout (5 minutes, `http2.idleTimeout`) and
    /// the maximum connection age (off, `http2.maxConnectionAge`) are set here too.
    /// Replacing the whole value (`http2 = HTTP2Configuration(role: .server)`) turns keepalive
    /// and the policy off.
    ///
    /// ```swift
    /// var configuration = GRPCServerConfiguration()
    /// configuration.http2.maxConnectionAge = .seconds(1800)        // clients move every ~30 minutes
    /// configuration.http2.maxConnectionAgeGrace = .seconds(60)
    /// configuration.http2.pingPolicy?.minInterval = .seconds(10)    // allow clients pinging every 10 s
    /// configuration.http2.pingPolicy?.permitWithoutCalls = true
    /// ```
    public var http2 = HTTP2Configuration(role: .server)
    /// The largest request message accepted (after decompression); larger ones end the
    /// call with RESOURCE_EXHAUSTED. gRPC's usual default, 4 MiB.
    public var maxReceiveMessageSize = 4 * 1024 * 1024
    /// Bytes of unfinished request messages one connection may have granted at once: a
    /// message larger than half the stream window can only arrive if its bytes' credit goes
    /// back before it is complete, and these grants are limited per connection, so a client
    /// leaving unfinished maximum-size messages on many streams cannot make the server buffer
    /// them all (`GRPCPartialMessageBudget`, docs/architecture.md). A call past the limit
    /// waits for others to complete; one message is always granted when nothing else is,
    /// whatever its size within `maxReceiveMessageSize`.
    ///
    /// The default, 64 MiB, lets sixteen maximum-size (4 MiB) messages arrive at once on one
    /// connection; with the bytes whose credit is held (half the connection window less one
    /// stream window, 7 MiB by default) a connection's unfinished messages take at most about
    /// 71 MiB, where before it was the streams times the message size (1,000 × 4 MiB). Calls
    /// that can neither be granted nor wait within the held bytes end with RESOURCE_EXHAUSTED
    /// (measured with 6 MiB messages: 12 at once on one connection pass, 16 do not): raise
    /// this for clients that send many large messages at once on one connection.
    ///
    /// ```swift
    /// var configuration = GRPCServerConfiguration()
    /// configuration.maxReceiveMessageSize = 16 << 20
    /// configuration.maxPartialMessageBytesPerConnection = 128 << 20  // eight 16 MiB uploads at once
    /// ```
    public var maxPartialMessageBytesPerConnection = 64 * 1024 * 1024
    /// The largest response message sent; larger ones end the call with RESOURCE_EXHAUSTED.
    public var maxSendMessageSize = Int.max
    /// Encodings accepted on requests; others are answered with UNIMPLEMENTED.
    public var acceptedEncodings: [GRPCCompression] = GRPCCompression.allCases
    /// Whether responses use the request's encoding (when it is not identity). gRPC
    /// implementations answer compressed requests compressed.
    public var compressResponsesLikeRequests = true
    /// Interceptors run around every call, the first outermost.
    public var interceptors: [any GRPCServerInterceptor] = []

    /// Serve TLS with this configuration instead of cleartext h2c: ALPN offers `h2` when its
    /// `applicationProtocols` is empty; its certificates and keys are read once, at bind.
    ///
    /// ```swift
    /// var configuration = GRPCServerConfiguration()
    /// configuration.tls = .server(certificateChain: .file("server.pem"), privateKey: .file("server.key"))
    /// configuration.tls?.clientCertificates = .required          // mutual TLS
    /// configuration.tls?.trustRoots = .pem(.file("client-ca.pem"))
    /// ```
    public var tls: TLSConfiguration?

    /// Where the server logs: its connections (``http2``'s logger, the same one) and handler
    /// errors (at error level, with the method and the status the error became). The default
    /// logs nothing: a library does not print unless it is given a logger.
    ///
    /// ```swift
    /// configuration.logger = Logger(label: "greeter")
    /// ```
    public var logger: Logger {
        get { http2.logger }
        set { http2.logger = newValue }
    }

    /// Where the server's metrics go (calls by method and status, call durations, and the
    /// HTTP/2 connections'; ``http2``'s factory, the same one); nil: `MetricsSystem.factory`
    /// when the server binds, which counts nothing until the application bootstraps it.
    public var metricsFactory: (any MetricsFactory)? {
        get { http2.metricsFactory }
        set { http2.metricsFactory = newValue }
    }

    /// Serves the requests that are not gRPC — no `application/grpc` content type, or not a
    /// POST: REST routes, health checks, files — on the same port, over HTTP/1.1 and HTTP/2
    /// alike (nil: they are refused as gRPC refuses them, 415 or 405 with a gRPC status).
    ///
    /// ```swift
    /// configuration.httpHandler = { request, response in
    ///     guard request.head.path == "/healthz" else { return try await response.respond(HTTP2ResponseHead(status: 404)) }
    ///     try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: "ok"))
    /// }
    /// ```
    public var httpHandler: HTTP2AsyncStreamDelegate.Handler?

    /// gRPC-Web on the same port (PROTOCOL-WEB.md: `application/grpc-web`,
    /// `application/grpc-web+proto`, `application/grpc-web-text` in base64), over HTTP/1.1
    /// and HTTP/2, with CORS preflights answered by these rules. The default allows any origin
    /// (each echoed, never `*`) without credentials; nil refuses gRPC-Web with 415.
    ///
    /// ```swift
    /// configuration.web = GRPCWebConfiguration(allowedOrigins: .list(["https://app.example.com"]))
    /// ```
    public var web: GRPCWebConfiguration? = GRPCWebConfiguration()

    /// One port by default: HTTP/2 with prior knowledge (gRPC clients), HTTP/1.1 and the h2c
    /// upgrade (`http2.http1`; nil serves HTTP/2 only), and grpc-go's keepalive defaults.
    public init() {
        http2.keepalive = .grpcServer
        http2.pingPolicy = .grpc
        http2.http1 = HTTP1Options()
    }
}
