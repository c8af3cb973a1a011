import Loop
import LoopTLS

/// The first handler of a connection on a one-port server (``HTTP2Configuration/http1``),
/// with the connection's ``HTTP2ConnectionHandler`` waiting behind it: reads until
/// ``HTTPProtocolDetector`` decides (24 bytes at most, within
/// ``HTTP1Options/detectionTimeout``, kept by the loop's ``DetectionDeadlines``), then puts
/// what the protocol needs in front of the HTTP/2 handler, starts it, and hands on every
/// byte it read, in order; from then on it passes everything through. HTTP/2 needs nothing
/// more (its SETTINGS leave as it starts: the handshake rule); HTTP/1.1 gets an
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
    /// The detection timeout: the server's per-loop list (`deadlines`), or a timer of its own
    /// (the detector behind TLS, whose limit differs from the outer one's).
    private let deadlines: DetectionDeadlines?
    private var timer: ScheduledCallback?
    private var decided = false
    /// The TLS handshake's outcome, for the handlers installed after it.
    private var tlsEvent: TLSEvent?
    private var context: ChannelHandlerContext?

    // Kept by `DetectionDeadlines`, which links its waiting detectors through them.
    @exclusivity(unchecked) var isWaiting = false
    @exclusivity(unchecked) var deadline: UInt64 = 0
    @exclusivity(unchecked) var nextWaiting: HTTPProtocolDetectorHandler?
    @exclusivity(unchecked) unowned(unsafe) var previousWaiting: HTTPProtocolDetectorHandler?

    /// `deadlines`: the loop's list its wait goes on (``DetectionDeadlines``, whose timeout
    /// must be ``detectionLimit(_:tls:)``); nil: a timer of its own.
    init(http2: HTTP2ConnectionHandler, options: HTTP1Options, tls: TLSContext?, deadlines: DetectionDeadlines? = nil) {
        self.http2 = http2
        self.options = options
        self.tls = tls
        self.scheme = "http"
        self.allowsCleartext = tls == nil || options.servesCleartextBesideTLS
        self.deadlines = deadlines
    }

    /// The limit on telling the protocol. On a TLS port the client's first bytes are its
    /// handshake's: the handshake's limit too.
    static func detectionLimit(_ options: HTTP1Options, tls: TLSContext?) -> Duration {
        tls.map { min(options.detectionTimeout, $0.configuration.handshakeTimeout) } ?? options.detectionTimeout
    }

    /// The detector behind a TLSHandler: reads plaintext.
    private init(decrypted http2: HTTP2ConnectionHandler, options: HTTP1Options) {
        self.http2 = http2
        self.options = options
        self.tls = nil
        self.scheme = "https"
        self.allowsCleartext = true
        self.deadlines = nil
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { startTimer(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startTimer(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopTimer()
        self.context = nil
    }

    private func startTimer(_ context: ChannelHandlerContext) {
        guard timer == nil, !isWaiting, !decided else { return }
        if let deadlines {
            deadlines.add(self)
            return
        }
        // A loop callback, not a scheduled task: no promise per connection (cancelled when decided).
        timer = context.eventLoop.scheduleCallback(in: Self.detectionLimit(options, tls: tls)) { [weak self] in
            self?.deadlinePassed()
        }
    }

    private func stopTimer() {
        deadlines?.remove(self)
        timer?.cancel()
        timer = nil
    }

    /// No protocol could be told in time: the connection closes.
    func deadlinePassed() {
        timer = nil
        guard !decided, let context else { return }
        http2.logger.debug("connection closed: no protocol could be told within \(Self.detectionLimit(options, tls: tls))")
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        guard !decided else { return context.fireChannelRead(data) }
        if buffered.readableBytes == 0 { buffered = data } else { buffered.writeImmutableBuffer(data) }
        switch HTTPProtocolDetector.detect(buffered) {
        case .needMoreBytes:
            return
        case .http2 where allowsCleartext:
            install(startingHTTP2: true, context)
        case .http1 where allowsCleartext:
            http2.servesHTTP1 = true
            install(HTTP1BridgeHandler(options: options, scheme: scheme, http2: http2), named: "http1-bridge", startingHTTP2: true, context)
        case .http1, .http2:
            refuse("cleartext HTTP arrived on a TLS port", context)
        case .tls:
            guard let tls else { return refuse("a TLS ClientHello arrived on a port without TLS", context) }
            do {
                // The detector behind TLS starts the HTTP/2 handler once it knows the protocol.
                install(try TLSHandler(context: tls), named: "tls", then: HTTPProtocolDetectorHandler(decrypted: http2, options: options),
                        named: "tls-detector", startingHTTP2: false, context)
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
                    install(startingHTTP2: true, context)
                case "http/1.1":
                    http2.servesHTTP1 = true
                    install(HTTP1BridgeHandler(options: options, scheme: scheme, http2: http2), named: "http1-bridge", startingHTTP2: true, context)
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

    /// Puts `first` (and `second` after it) between the detector and the HTTP/2 handler (which
    /// waits behind it from the start, see ``HTTP2ConnectionHandler/startsWhenTold``), starts
    /// the HTTP/2 handler if `startingHTTP2` (its SETTINGS leave now: the handshake rule), and
    /// hands on the TLS outcome and every byte read, in order.
    ///
    /// The detector then stays where it is, passing everything on: taking it out of the
    /// pipeline cost more per connection than its pass-through costs per read.
    private func install(_ first: (any ChannelHandler)? = nil, named firstName: String = "", then second: (any ChannelHandler)? = nil,
                         named secondName: String = "", startingHTTP2: Bool, _ context: ChannelHandlerContext) {
        decided = true
        stopTimer()
        do {
            // In order, each after the previous; on HTTP/1.1 the bridge must be in place before
            // the HTTP/2 handler starts, to take its SETTINGS. Each kind is installed once per
            // connection, so its fixed name will do.
            if let first {
                try context.pipeline.addHandler(first, name: firstName, position: .after(context))
                if let second {
                    try context.pipeline.addHandler(second, name: secondName, position: .after(context.pipeline.context(name: firstName)))
                }
            }
        } catch {
            http2.logger.debug("connection closed: its handlers could not be added: \(error)")
            context.close(promise: nil)
            return
        }
        if startingHTTP2 { http2.startNow() }
        if let tlsEvent { context.fireUserInboundEventTriggered(tlsEvent) }
        let bytes = buffered
        buffered = ByteBuffer(capacity: 0)
        if bytes.readableBytes > 0 { context.fireChannelRead(bytes) }
    }

    private func refuse(_ reason: String, _ context: ChannelHandlerContext) {
        decided = true
        stopTimer()
        http2.logger.debug("connection closed: \(reason)")
        buffered = ByteBuffer(capacity: 0)
        context.close(promise: nil)
    }
}
