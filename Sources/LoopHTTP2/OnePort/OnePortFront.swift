import Loop
import LoopTLS

/// The front of a connection on a one-port server (``HTTP2Configuration/http1``), held by
/// its ``HTTP2ConnectionHandler`` until the protocol is known: the handler's first bytes come
/// here until ``HTTPProtocolDetector`` decides (24 bytes at most, within
/// ``HTTP1Options/detectionTimeout``, kept by the loop's ``DetectionDeadlines``).
///
/// - HTTP/2: the handler starts (its SETTINGS are written now and leave at the end of this
///   read batch, ahead of the answer to the bytes: the handshake rule) and reads the bytes as
///   if they had just arrived. Nothing is added to the pipeline.
/// - HTTP/1.1: an ``HTTP1BridgeHandler`` goes in front of the handler, the handler starts
///   (its SETTINGS go to the bridge), and the bridge reads the bytes.
/// - A TLS ClientHello, on a server with TLS: a `TLSHandler` goes in front and reads it; the
///   front then waits for the plaintext (or the handshake's ALPN choice) and decides again.
/// - Otherwise (a ClientHello without TLS, bytes that are no HTTP, cleartext HTTP on a TLS
///   port unless ``HTTP1Options/servesCleartextBesideTLS``, a peer that half-closes first):
///   the connection closes, logged at debug, touching no other connection.
///
/// Inside the HTTP/2 handler rather than a handler of its own in front: a separate handler
/// cost a pipeline context, its add and removal (or a pass-through hop per event), about a
/// tenth of what a new HTTP/2 connection costs; the goal is within 5 % (issue #10).
final class OnePortFront {
    /// Unowned: the handler owns its front. (Not weak: a weak reference moves the handler's
    /// reference counts to a side table, slower for every retain of it.) The front's wait
    /// ends when the handler is removed or its channel closes (`stop()`), so no deadline
    /// reaches a handler that is gone.
    private unowned(unsafe) let http2: HTTP2ConnectionHandler
    let options: HTTP1Options
    /// `http` or `https` (behind TLS), for the bridge's `:scheme`.
    private var scheme = "http"
    /// The server's TLS (nil: a cleartext port, or the plaintext behind the TLSHandler).
    private var tls: TLSContext?
    private var allowsCleartext: Bool
    private var buffered = ByteBuffer(capacity: 0)
    /// The server's per-loop list of deadlines (nil behind TLS, where a timer of its own runs:
    /// the limit differs from the outer one's).
    private var deadlines: DetectionDeadlines?
    private var timer: ScheduledCallback?

    // Kept by `DetectionDeadlines`, which links its waiting fronts through them.
    @exclusivity(unchecked) var isWaiting = false
    @exclusivity(unchecked) var deadline: UInt64 = 0
    @exclusivity(unchecked) var nextWaiting: OnePortFront?
    @exclusivity(unchecked) unowned(unsafe) var previousWaiting: OnePortFront?

    /// `deadlines`: the loop's list (its timeout must be ``detectionLimit(_:tls:)``); nil: a
    /// timer of its own.
    init(http2: HTTP2ConnectionHandler, options: HTTP1Options, tls: TLSContext?, deadlines: DetectionDeadlines?) {
        self.http2 = http2
        self.options = options
        self.tls = tls
        self.allowsCleartext = tls == nil || options.servesCleartextBesideTLS
        self.deadlines = deadlines
    }

    /// The limit on telling the protocol. On a TLS port the client's first bytes are its
    /// handshake's: the handshake's limit too.
    static func detectionLimit(_ options: HTTP1Options, tls: TLSContext?) -> Duration {
        tls.map { min(options.detectionTimeout, $0.configuration.handshakeTimeout) } ?? options.detectionTimeout
    }

    // MARK: The wait

    /// The connection is active: the wait for its first bytes starts.
    func activate(_ context: ChannelHandlerContext) {
        guard !isWaiting, timer == nil else { return }
        if let deadlines {
            deadlines.add(self)
        } else {
            // A loop callback, not a scheduled task: no promise per connection.
            timer = context.eventLoop.scheduleCallback(in: Self.detectionLimit(options, tls: tls)) { [weak self] in
                self?.deadlinePassed()
            }
        }
    }

    /// The wait ends (decided, or the connection went away).
    func stop() {
        deadlines?.remove(self)
        timer?.cancel()
        timer = nil
    }

    /// No protocol could be told in time: the connection closes.
    func deadlinePassed() {
        timer = nil
        guard http2.front === self, let context = http2.context else { return }
        refuse("no protocol could be told within \(Self.detectionLimit(options, tls: tls))", context)
    }

    // MARK: Deciding

    /// Bytes that arrived before the protocol was known.
    func read(_ data: ByteBuffer, _ context: ChannelHandlerContext) {
        if buffered.readableBytes == 0 { buffered = data } else { buffered.writeImmutableBuffer(data) }
        switch HTTPProtocolDetector.detect(buffered) {
        case .needMoreBytes:
            return
        case .http2 where allowsCleartext:
            startHTTP2(context)
        case .http1 where allowsCleartext:
            startHTTP1(context)
        case .http1, .http2:
            refuse("cleartext HTTP arrived on a TLS port", context)
        case .tls:
            guard let tls else { return refuse("a TLS ClientHello arrived on a port without TLS", context) }
            startTLS(tls, context)
        case .unknown:
            refuse("the first bytes are neither HTTP/1.1 nor HTTP/2", context)
        }
    }

    /// An event that arrived before the protocol was known: true if it was taken here.
    func event(_ event: Any, _ context: ChannelHandlerContext) -> Bool {
        if let event = event as? TLSEvent {
            // ALPN already told: no need to wait for bytes, and HTTP/2's SETTINGS go right
            // behind the handshake (the handshake rule). The event goes on to the handler
            // either way (it notes the TLS details and checks the choice).
            if case .handshakeCompleted(let info) = event {
                switch info.negotiatedProtocol {
                case "h2": startHTTP2(context)
                case "http/1.1": startHTTP1(context)
                default: break
                }
            }
            return false
        }
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The client left before saying anything we could serve.
            refuse("the peer closed its side before sending a request", context)
            return true
        }
        return false
    }

    private func startHTTP2(_ context: ChannelHandlerContext) {
        let bytes = finish()
        // With the client's bytes in hand (not after TLS's ALPN, which has none), our SETTINGS
        // go out with the answer to them, at the end of this read batch.
        http2.startNow(inReadBatch: bytes.readableBytes > 0)
        if bytes.readableBytes > 0 { http2.channelRead(context: context, data: bytes) }
    }

    private func startHTTP1(_ context: ChannelHandlerContext) {
        let bytes = finish()
        http2.servesHTTP1 = true
        let bridge = HTTP1BridgeHandler(options: options, scheme: scheme, http2: http2)
        do {
            // The bridge is in place before the HTTP/2 handler starts: it takes its SETTINGS.
            try context.pipeline.addHandler(bridge, name: "http1-bridge", position: .before(context))
        } catch {
            return refuse("its handlers could not be added: \(error)", context)
        }
        http2.startNow()
        if bytes.readableBytes > 0, let bridgeContext = try? context.pipeline.context(name: "http1-bridge") {
            bridge.channelRead(context: bridgeContext, data: bytes)
        }
    }

    private func startTLS(_ tls: TLSContext, _ context: ChannelHandlerContext) {
        let hello = buffered
        buffered = ByteBuffer(capacity: 0)
        let handler: TLSHandler
        do {
            handler = try TLSHandler(context: tls)
            try context.pipeline.addHandler(handler, name: "tls", position: .before(context))
        } catch {
            return refuse("the TLS handler could not be made: \(error)", context)
        }
        // The plaintext decides next, within the detection timeout of its own (the server's
        // list has the outer limit), started now as before.
        stop()
        deadlines = nil
        self.tls = nil
        scheme = "https"
        allowsCleartext = true
        activate(context)
        if let tlsContext = try? context.pipeline.context(name: "tls") {
            handler.channelRead(context: tlsContext, data: hello)
        }
    }

    /// Ends the front: the handler stops routing bytes here. Returns what was read.
    private func finish() -> ByteBuffer {
        stop()
        http2.front = nil
        let bytes = buffered
        buffered = ByteBuffer(capacity: 0)
        return bytes
    }

    private func refuse(_ reason: String, _ context: ChannelHandlerContext) {
        _ = finish()
        http2.logger.debug("connection closed: \(reason)")
        context.close(promise: nil)
    }
}
