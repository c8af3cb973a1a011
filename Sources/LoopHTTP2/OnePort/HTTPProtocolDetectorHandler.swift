import Loop
import LoopTLS

/// The first handler of a connection on a one-port server (``HTTP2Configuration/http1``):
/// reads until ``HTTPProtocolDetector`` decides (24 bytes at most, within
/// ``HTTP1Options/detectionTimeout``), then puts the connection's handlers in its place and
/// hands them every byte it read, in order. HTTP/2 gets the ``HTTP2ConnectionHandler``
/// alone (which sends its SETTINGS as it is added: the handshake rule); HTTP/1.1 gets an
/// ``HTTP1BridgeHandler`` in front of it. A TLS ClientHello goes to a `TLSHandler` with a
/// second detector behind it for the plaintext, on a server with TLS; on one without, it is
/// closed, as are bytes that are no HTTP and, on a server with TLS, cleartext HTTP unless
/// ``HTTP1Options/servesCleartextBesideTLS`` (each logged at debug, touching no other
/// connection).
final class HTTPProtocolDetectorHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let http2: HTTP2ConnectionHandler
    private let options: HTTP1Options
    private let scheme: String
    /// The server's TLS (nil: a cleartext port, or the detector behind the TLSHandler).
    private let tls: TLSContext?
    private let allowsCleartext: Bool
    private var buffered = ByteBuffer(capacity: 0)
    private var timer: ScheduledCallback?
    private var decided = false
    /// The TLS handshake's outcome, for the handlers installed after it.
    private var tlsEvent: TLSEvent?

    init(http2: HTTP2ConnectionHandler, options: HTTP1Options, tls: TLSContext?) {
        self.http2 = http2
        self.options = options
        self.tls = tls
        self.scheme = "http"
        self.allowsCleartext = tls == nil || options.servesCleartextBesideTLS
    }

    /// The detector behind a TLSHandler: reads plaintext.
    private init(decrypted http2: HTTP2ConnectionHandler, options: HTTP1Options) {
        self.http2 = http2
        self.options = options
        self.tls = nil
        self.scheme = "https"
        self.allowsCleartext = true
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startTimer(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startTimer(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    private func startTimer(_ context: ChannelHandlerContext) {
        guard timer == nil, !decided else { return }
        // On a TLS port the client's first bytes are its handshake's: the handshake's limit too.
        let limit = tls.map { min(options.detectionTimeout, $0.configuration.handshakeTimeout) } ?? options.detectionTimeout
        // A loop callback, not a scheduled task: no promise per connection (cancelled when decided).
        timer = context.eventLoop.scheduleCallback(in: limit) { [logger = http2.logger] in
            logger.debug("connection closed: no protocol could be told within \(limit)")
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        guard !decided else { return context.fireChannelRead(data) }
        if buffered.readableBytes == 0 { buffered = data } else { buffered.writeImmutableBuffer(data) }
        switch HTTPProtocolDetector.detect(buffered) {
        case .needMoreBytes:
            return
        case .http2 where allowsCleartext:
            install(http2, named: "http2", context)
        case .http1 where allowsCleartext:
            http2.servesHTTP1 = true
            install(HTTP1BridgeHandler(options: options, scheme: scheme, http2: http2), named: "http1-bridge", then: http2, named: "http2", context)
        case .http1, .http2:
            refuse("cleartext HTTP arrived on a TLS port", context)
        case .tls:
            guard let tls else { return refuse("a TLS ClientHello arrived on a port without TLS", context) }
            do {
                install(try TLSHandler(context: tls), named: "tls", then: HTTPProtocolDetectorHandler(decrypted: http2, options: options),
                        named: "tls-detector", context)
            } catch {
                refuse("the TLS handler could not be made: \(error)", context)
            }
        case .unknown:
            refuse("the first bytes are neither HTTP/1.1 nor HTTP/2", context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !decided, let event = event as? TLSEvent {
            tlsEvent = event
            // ALPN already told: no need to wait for bytes, and HTTP/2's SETTINGS go right
            // behind the handshake (the handshake rule).
            if case .handshakeCompleted(let info) = event {
                switch info.negotiatedProtocol {
                case "h2":
                    install(http2, named: "http2", context)
                case "http/1.1":
                    http2.servesHTTP1 = true
                    install(HTTP1BridgeHandler(options: options, scheme: scheme, http2: http2), named: "http1-bridge", then: http2, named: "http2", context)
                default:
                    break
                }
            }
            return
        }
        if !decided, let event = event as? ChannelEvent, event == .inputClosed {
            // The client left before saying anything we could serve.
            return refuse("the peer closed its side before sending a request", context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Installs `first` (and `second` after it) in the detector's place.
    private func install(_ first: any ChannelHandler, named firstName: String, then second: (any ChannelHandler)? = nil,
                         named secondName: String = "", _ context: ChannelHandlerContext) {
        decided = true
        timer?.cancel()
        timer = nil
        do {
            // In order, each after the previous: the HTTP/2 handler writes its SETTINGS as it
            // is added, and on HTTP/1.1 the bridge must already be there to take them. Each kind
            // is installed once per connection, so its fixed name will do.
            try context.pipeline.addHandler(first, name: firstName, position: .after(context))
            if let second {
                try context.pipeline.addHandler(second, name: secondName, position: .after(context.pipeline.context(name: firstName)))
            }
        } catch {
            http2.logger.debug("connection closed: its handlers could not be added: \(error)")
            context.close(promise: nil)
            return
        }
        if let tlsEvent { context.fireUserInboundEventTriggered(tlsEvent) }
        let bytes = buffered
        buffered = ByteBuffer(capacity: 0)
        if bytes.readableBytes > 0 { context.fireChannelRead(bytes) }
        try? context.pipeline.removeHandler(context: context)
    }

    private func refuse(_ reason: String, _ context: ChannelHandlerContext) {
        decided = true
        timer?.cancel()
        timer = nil
        http2.logger.debug("connection closed: \(reason)")
        buffered = ByteBuffer(capacity: 0)
        context.close(promise: nil)
    }
}
