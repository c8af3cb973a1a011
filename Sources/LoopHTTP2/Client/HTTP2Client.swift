import Loop
import LoopTLS
import Synchronization

/// One HTTP/2 connection carrying many concurrent requests: cleartext with prior knowledge
/// (h2c) over TCP or a Unix domain socket, or TLS with `h2` offered through ALPN (`tls:`).
///
/// `connect` returns only after the server's SETTINGS arrived (the readiness grpc-go and
/// others rely on), or fails with `HTTP2ConnectionError.handshakeTimeout`.
///
/// ```swift
/// let client = try await HTTP2Client.connect(host: "127.0.0.1", port: 8080, group: group)
/// let response = try await client.send(HTTP2RequestHead(method: "GET", path: "/hello", authority: "127.0.0.1"))
/// let body = try await response.body.collect(upTo: 1 << 20)
/// try await client.close()
/// ```
///
/// Over TLS, verifying the server against a CA of your own:
///
/// ```swift
/// let tls = TLSConfiguration.client(trustRoots: .pem(.file("ca.pem")))
/// let client = try await HTTP2Client.connect(host: "localhost", port: 8443, group: group, tls: tls)
/// ```
public final class HTTP2Client: Sendable {
    /// The connection's channel.
    public let channel: any Channel
    private let handler: UncheckedTransfer<HTTP2ConnectionHandler>
    private let streams: UncheckedTransfer<HTTP2ClientStreams>

    private init(channel: any Channel, handler: HTTP2ConnectionHandler, streams: HTTP2ClientStreams) {
        self.channel = channel
        self.handler = UncheckedTransfer(handler)
        self.streams = UncheckedTransfer(streams)
    }

    /// Connects and waits for the server's SETTINGS. A host name's addresses are tried in
    /// order (see `ClientBootstrap.connect(host:port:)`).
    public static func connect(
        host: String, port: Int, group: EventLoopGroup,
        configuration: HTTP2Configuration = HTTP2Configuration(role: .client),
        connectTimeout: Duration = .seconds(10),
        tls: TLSConfiguration? = nil,
        frameLogger: (@Sendable (String) -> Void)? = nil
    ) async throws -> HTTP2Client {
        try await connect(to: .hostAndPort(host: host, port: port), group: group, configuration: configuration,
                          connectTimeout: connectTimeout, tls: tls, frameLogger: frameLogger)
    }

    /// Connects to a host and port or a Unix domain socket and waits for the server's
    /// SETTINGS. Over a Unix domain socket, send `authority: "localhost"` (or the name the
    /// server expects).
    ///
    /// ```swift
    /// let client = try await HTTP2Client.connect(to: .unixDomainSocket(path: "/tmp/app.sock"), group: group)
    /// let response = try await client.send(HTTP2RequestHead(method: "GET", path: "/hello", authority: "localhost"))
    /// ```
    public static func connect(
        to endpoint: Endpoint, group: EventLoopGroup,
        configuration: HTTP2Configuration = HTTP2Configuration(role: .client),
        connectTimeout: Duration = .seconds(10),
        tls: TLSConfiguration? = nil,
        frameLogger: (@Sendable (String) -> Void)? = nil
    ) async throws -> HTTP2Client {
        let tlsContext = try tls.map { try TLSContext($0.defaultingApplicationProtocols(to: ["h2"])) }
        let connected = try await connectHandler(to: endpoint, group: group, configuration: configuration,
                                                 connectTimeout: connectTimeout, tls: tlsContext, frameLogger: frameLogger) { channel in
            HTTP2ClientStreams(loop: channel.eventLoop)
        }
        return HTTP2Client(channel: connected.channel, handler: connected.handler,
                           streams: connected.handler.delegate as! HTTP2ClientStreams)
    }

    /// Connects with a connection handler driving the delegate `makeDelegate` returns, and
    /// returns once the server's SETTINGS arrived: the building block for clients of
    /// protocols over HTTP/2 (LoopGRPC's channel uses it).
    /// - Throws: `HTTP2ConnectionError.handshakeTimeout` when the SETTINGS do not arrive in
    ///   time, or the connect error.
    public static func connectHandler(
        host: String, port: Int, group: EventLoopGroup,
        configuration: HTTP2Configuration = HTTP2Configuration(role: .client),
        connectTimeout: Duration = .seconds(10),
        tls: TLSContext? = nil,
        frameLogger: (@Sendable (String) -> Void)? = nil,
        makeDelegate: @escaping @Sendable (any Channel) -> any HTTP2StreamDelegate
    ) async throws -> HTTP2ConnectedHandler {
        try await connectHandler(to: .hostAndPort(host: host, port: port), group: group, configuration: configuration,
                                 connectTimeout: connectTimeout, tls: tls, frameLogger: frameLogger, makeDelegate: makeDelegate)
    }

    /// `connectHandler(host:port:...)` for a host and port or a Unix domain socket.
    ///
    /// With `tls`, the connection speaks TLS cut from that context (made once and shared, so
    /// sessions are resumed across connections; give its configuration
    /// `applicationProtocols: ["h2"]`): the host dialled is sent as SNI and verified unless the
    /// configuration's `serverHostOverride` names another, and a failed handshake throws its
    /// `TLSError` ("certificate verify failed: self-signed certificate").
    public static func connectHandler(
        to endpoint: Endpoint, group: EventLoopGroup,
        configuration: HTTP2Configuration = HTTP2Configuration(role: .client),
        connectTimeout: Duration = .seconds(10),
        tls: TLSContext? = nil,
        frameLogger: (@Sendable (String) -> Void)? = nil,
        makeDelegate: @escaping @Sendable (any Channel) -> any HTTP2StreamDelegate
    ) async throws -> HTTP2ConnectedHandler {
        var configuration = configuration
        configuration.role = .client
        let fixed = configuration
        // The handler is kept from the initializer: looked up later it may already have left
        // the pipeline (a connection that closed at once, or a handshake timer that fired on a
        // very busy machine). It keeps its loop and state after removal.
        let created = HandlerSlot()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.connectTimeout(connectTimeout))
            .channelInitializer { channel in
                if let tls {
                    let (host, port): (String?, Int) = switch endpoint {
                    case .hostAndPort(let host, let port): (host, port)
                    case .unixDomainSocket: (nil, 0)
                    }
                    try channel.pipeline.addHandler(TLSHandler(context: tls, serverHostname: host, port: port), name: "tls")
                }
                if let frameLogger { try channel.pipeline.addHandler(FrameLogger(role: .client, log: frameLogger)) }
                let handler = HTTP2ConnectionHandler(configuration: fixed, delegate: makeDelegate(channel))
                created.handler = handler
                try channel.pipeline.addHandler(handler, name: "http2")
                // Asked for before any byte is read: the handshake counts as done once the
                // peer's SETTINGS arrived, even if the connection ends before this task gets
                // back to the loop (a server's maximum age closing an idle connection at once).
                created.ready = handler.whenReady()
            }
            .connect(to: endpoint)
            .get()
        let loop = channel.eventLoop
        guard let handler = await onLoop(loop, { created.handler }) else { throw HTTP2ConnectionError.closedBeforeReady }
        let ready = await onLoop(loop) { UncheckedTransfer(created.ready ?? handler.whenReady()) }.value
        let timedOut = Atomic<Bool>(false)
        let timeout = loop.scheduleTask(in: fixed.handshakeTimeout) {
            timedOut.store(true, ordering: .relaxed)
            channel.close()
        }
        do {
            try await ready.get()
            timeout.cancel()
        } catch {
            timeout.cancel()
            channel.close()
            // The handler's handshake timer (SETTINGS_TIMEOUT), or the backstop closing the
            // channel: the server never completed the handshake in time. A close of the
            // server's own stays what it is ("closed before the peer's SETTINGS arrived").
            if case HTTP2ConnectionError.closedBeforeReady = error, timedOut.load(ordering: .relaxed) {
                throw HTTP2ConnectionError.handshakeTimeout(fixed.handshakeTimeout)
            }
            if let protocolError = error as? HTTP2ProtocolError, protocolError.code == .settingsTimeout {
                throw HTTP2ConnectionError.handshakeTimeout(fixed.handshakeTimeout)
            }
            throw error
        }
        return HTTP2ConnectedHandler(channel: channel, handler: handler)
    }

    /// Sends a request with an optional body and returns once the response head arrived.
    public func send(_ head: HTTP2RequestHead, body: ByteBuffer? = nil) async throws -> HTTP2ClientResponse {
        let hasBody = body.map { $0.readableBytes > 0 } ?? false
        let started = try await start(head, endStream: !hasBody)
        if let body, hasBody {
            do {
                try await onLoopThrowing(channel.eventLoop) { try started.writer.stream.sendData(body, endStream: true) }
            } catch is HTTP2StreamError {
                // The server answered (or reset) before the body left: the stream-end rule
                // (docs/architecture.md); its response, or the reset, is the outcome.
            }
            await onLoop(channel.eventLoop) { started.writer.markHeadSent(finished: true) }
        }
        return try await started.head.get()
    }

    /// Sends a request whose body `writeBody` streams (with backpressure); returns the
    /// response once its head arrived. The body is finished when `writeBody` returns.
    public func send(
        _ head: HTTP2RequestHead,
        writeBody: @escaping @Sendable (HTTP2RequestBodyWriter) async throws -> Void
    ) async throws -> HTTP2ClientResponse {
        let started = try await start(head, endStream: false)
        let writer = HTTP2RequestBodyWriter(storage: started.writer)
        let upload = Task(executorPreference: channel.eventLoop) {
            do {
                try await writeBody(writer)
                try await writer.finish()
            } catch {
                await onLoop(started.writer.loop) {
                    if !started.writer.finished { started.writer.stream.reset(.cancel) }
                }
            }
        }
        do {
            return try await started.head.get()
        } catch {
            upload.cancel()
            throw error
        }
    }

    private struct Started: Sendable {
        let writer: HTTP2WriterStorage
        let head: EventLoopFuture<HTTP2ClientResponse>
    }

    /// Opens the stream on the loop and registers the call before any response can arrive.
    private func start(_ head: HTTP2RequestHead, endStream: Bool) async throws -> Started {
        let loop = channel.eventLoop
        let handler = self.handler
        let streams = self.streams
        return try await onLoopThrowing(loop) { () throws -> Started in
            let id = try handler.value.sendHeaders(streamID: nil, head.headerList, endStream: endStream)
            let stream = HTTP2StreamHandle(id: id, connection: handler.value)
            let writer = HTTP2WriterStorage(stream: stream, loop: loop)
            writer.markHeadSent(finished: endStream)
            let promise = loop.makePromise(of: HTTP2ClientResponse.self)
            streams.value.register(id, HTTP2ClientStreams.Call(head: promise, body: HTTP2BodyStorage(stream: stream, loop: loop), writer: writer))
            return Started(writer: writer, head: promise.futureResult)
        }
    }

    /// Closes gracefully: open requests finish, then the connection closes.
    public func close() async throws {
        let handler = self.handler
        await onLoop(channel.eventLoop) { handler.value.beginGracefulShutdown() }
        try await channel.closeFuture.get()
    }
}

/// Carries the handler made by a channel initializer (which runs on the channel's loop) to
/// the code that connected; read it on that loop.
// @unchecked Sendable: Written on the channel's loop by the initializer and read only after the
// connect future completed, which orders the two.
private final class HandlerSlot: @unchecked Sendable {
    var handler: HTTP2ConnectionHandler?
    /// Completes when the peer's SETTINGS arrived (asked for in the initializer, on the loop).
    var ready: EventLoopFuture<Void>?
}

/// A connected, ready HTTP/2 connection: its channel and its handler (use the handler on
/// the channel's loop only).
// @unchecked Sendable: The channel is Sendable; the handler is loop-bound and documented as used on
// the channel's loop only (HTTP2Client does so through onLoop hops).
public struct HTTP2ConnectedHandler: @unchecked Sendable {
    public let channel: any Channel
    public let handler: HTTP2ConnectionHandler
}

/// A response: head, then the body (and trailers) as they arrive.
public struct HTTP2ClientResponse: Sendable {
    public let head: HTTP2ResponseHead
    public let body: HTTP2Body
    public let streamID: UInt32
}

/// Streams a request body with backpressure.
public struct HTTP2RequestBodyWriter: Sendable {
    let storage: HTTP2WriterStorage

    /// Sends body bytes; waits while more than 256 KiB are queued on the stream.
    public func write(_ data: ByteBuffer) async throws {
        try await storage.write(data)
    }

    /// Ends the body, with trailers if given (called for you when the writing closure returns).
    public func finish(trailers: [HPACKHeader] = []) async throws {
        try await storage.finish(trailers: trailers, defaultStatus: nil)
    }
}
