import Glibc
import Logging
import Loop
import LoopTLS

/// Runs an ``HTTP2Connection`` on a channel: the thin adapter between socket events and the
/// I/O-free state machine. Stream events go to a ``HTTP2StreamDelegate``.
///
/// Sends made while the handler processes a read are gathered and flushed once at
/// read-complete; sends from elsewhere (async tasks) are flushed once at the end of the
/// current loop turn, so many small frames still leave in one `writev`.
///
/// Memory stays bounded whatever the peer does: once more than 64 KiB of frames were
/// queued while the channel is not writable (the peer does not read what we send; DATA is
/// already paused then, so these are replies it provoked: PING and SETTINGS ACKs, resets,
/// response heads), the handler stops reading until the channel drains, so the replies
/// cannot pile up. (Stopping at the first sign of a full socket would stall two peers that
/// both send big bodies until each reads: each would wait for the other.) One timer per
/// connection enforces the timeouts of ``HTTP2Configuration`` (`idleTimeout`, `headerBlockTimeout`, `writeStallTimeout`)
/// and its keepalive, PING policy and maximum age (`keepalive`, `pingPolicy`, `maxConnectionAge`).
///
/// ```swift
/// try channel.pipeline.addHandler(HTTP2ConnectionHandler(configuration: .init(role: .server), delegate: MyStreams()))
/// ```
public final class HTTP2ConnectionHandler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer

    /// The protocol state. Read it freely; change it through the handler's methods.
    // Every stored property is touched on the channel's loop only, and no access overlaps
    // another (the connection is pure: events are taken out before they are dispatched), so
    // the dynamic exclusivity checks a class property costs on every access are turned off,
    // as in SocketChannel: they were a measurable part of each request.
    @exclusivity(unchecked) public internal(set) var connection: HTTP2Connection
    /// Receives stream events.
    public let delegate: any HTTP2StreamDelegate
    @exclusivity(unchecked) var context: ChannelHandlerContext?
    @exclusivity(unchecked) private var inReadBatch = false
    @exclusivity(unchecked) private var flushScheduled = false
    private var handshakeTimer: ScheduledCallback?
    /// Runs once per grace period while streams wait for the client's end (the stream-end rule).
    var graceTimer: ScheduledCallback?
    /// Closes the socket if the peer does not close its side after we ended the connection.
    private var lingerTimer: ScheduledCallback?
    /// channelInactive arrived: the socket is closed.
    @exclusivity(unchecked) private var inactive = false
    @exclusivity(unchecked) var closing = false
    private var readyPromises: [EventLoopPromise<Void>] = []
    @exclusivity(unchecked) private var dispatching: [HTTP2ConnectionEvent] = []
    @exclusivity(unchecked) private var isDispatching = false
    @exclusivity(unchecked) private var outgoing: [ByteBuffer] = []
    static let clock = MonotonicClock()
    /// Reading stopped because the channel is not writable (backpressure to the peer).
    @exclusivity(unchecked) private var readingPaused = false
    /// Bytes written to the channel since it last turned unwritable.
    @exclusivity(unchecked) private var bytesQueuedWhileUnwritable = 0
    /// Past this many, reading stops until the channel is writable again.
    static let maxBytesQueuedWhileUnwritable = 64 * 1024
    @exclusivity(unchecked) var timeouts: HTTP2Timeouts
    var timeoutTimer: ScheduledCallback?
    /// When `timeoutTimer` fires (monotonic nanoseconds; .max: no timer).
    @exclusivity(unchecked) var timeoutTimerDeadline = UInt64.max
    /// Queued DATA at the last observation: less now means output moved.
    @exclusivity(unchecked) var lastQueuedOutboundBytes = 0
    /// The channel became writable since the last observation.
    @exclusivity(unchecked) var becameWritable = false
    /// Logging and metrics (Observability/HTTP2ConnectionObserver.swift).
    @exclusivity(unchecked) var observer: HTTP2ConnectionObserver

    /// A handler whose metrics, if the configuration's factory (or the bootstrapped
    /// `MetricsSystem`) is not the no-op one, are made for this connection alone. Servers and
    /// clients share one ``HTTP2Metrics`` among their connections instead
    /// (``init(configuration:delegate:metrics:)``).
    public convenience init(configuration: HTTP2Configuration, delegate: any HTTP2StreamDelegate) {
        self.init(configuration: configuration, delegate: delegate,
                  metrics: HTTP2Metrics.make(factory: configuration.metricsFactory, role: configuration.role))
    }

    /// A handler counting into `metrics` (nil: none).
    public init(configuration: HTTP2Configuration, delegate: any HTTP2StreamDelegate, metrics: HTTP2Metrics?) {
        self.connection = HTTP2Connection(configuration: configuration)
        self.delegate = delegate
        self.timeouts = HTTP2Timeouts(configuration: configuration)
        self.observer = HTTP2ConnectionObserver(configuration: configuration, metrics: metrics)
    }

    /// The configuration's logger with this connection's metadata (`loop.connection_id`,
    /// `loop.remote_address`), for what is logged about its streams. On the channel's loop.
    public var logger: Logger { observer.logger }

    /// The peer's address (nil for an embedded channel), noted once when the channel became
    /// active; on the channel's loop.
    public private(set) var remoteAddress: SocketAddress?
    /// Our end's address, noted with `remoteAddress`.
    public private(set) var localAddress: SocketAddress?

    /// What the connection's TLS handshake agreed on, when a `TLSHandler` is in front of this
    /// one (set before the first request arrives); nil in cleartext. On the channel's loop.
    public private(set) var tls: TLSConnectionInfo?
    /// The error that ended the connection before it was ready (a failed TLS handshake), for
    /// `whenReady()` callers that come later.
    private var failureBeforeReady: (any Error)?
    /// The peer's SETTINGS arrived (the connection was ready at some point).
    private var becameReady = false

    /// The channel's event loop (valid once added to a pipeline, and still after removal, so
    /// late callers such as `whenReady()` get an answer instead of a crash).
    public var eventLoop: EventLoop { loop! }
    private var loop: EventLoop?

    // MARK: Channel events

    /// Behind an ``HTTP1Bridge`` (a one-port server, ``HTTP2Configuration/http1``): ALPN
    /// "http/1.1" is this connection's own choice, not a refusal of HTTP/2.
    var servesHTTP1 = false {
        // The bridge decodes what this connection encodes, in the same process: Huffman coding
        // would only cost both sides time.
        didSet { if servesHTTP1 { connection.encoder.hpack.huffman = .never } }
    }

    /// On a one-port server: the protocol detection in front of this connection
    /// (OnePort/OnePortFront.swift) until it knows the protocol; the handler begins (its
    /// SETTINGS, its handshake timer) only then, through ``startNow()``. Set before the
    /// handler is added.
    @exclusivity(unchecked) var front: OnePortFront?

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.loop = context.eventLoop
        guard context.channel.isActive else { return }
        if let front { front.activate(context) } else { start(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        if let front { front.activate(context) } else { start(context: context) }
        context.fireChannelActive()
    }

    /// Begins a handler whose ``front`` decided: on its loop, once in the pipeline.
    /// `inReadBatch`: the front decided on bytes of the read batch under way, which this
    /// handler reads next; our SETTINGS then wait for the batch's flush and leave in the same
    /// write as the answer to those bytes (still the first frame we send, RFC 9113 §3.4), one
    /// `sendto` per connection fewer than flushing them alone.
    func startNow(inReadBatch: Bool = false) {
        if let context, context.channel.isActive { start(context: context, flushing: !inReadBatch) }
    }

    private func start(context: ChannelHandlerContext, flushing: Bool = true) {
        guard connection.state == .handshaking, handshakeTimer == nil else { return }
        // Read once per connection (the channel keeps them behind a lock), not per request.
        remoteAddress = context.channel.remoteAddress
        localAddress = context.channel.localAddress
        observer.started(remoteAddress: remoteAddress)
        // The handshake rule (docs/architecture.md): our SETTINGS leave now, before anything is read.
        connection.start(now: HTTP2ConnectionHandler.clock.nanoseconds())
        if flushing { flushNow() }
        let limit = connection.configuration.handshakeTimeout
        handshakeTimer = context.eventLoop.scheduleCallback(in: limit) { [self] in
            guard !self.connection.isReady, self.connection.state != .closed else { return }
            self.connection.close(code: .settingsTimeout, reason: "no SETTINGS from the peer within \(limit)")
            self.processEvents()
            self.flushNow()
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        if let front { return front.read(data, context) }
        inReadBatch = true
        connection.receive(data, now: HTTP2ConnectionHandler.clock.nanoseconds())
        processEvents()
    }

    /// A frame the HTTP/1.1 bridge in front of this handler made (a request's HEADERS or body
    /// DATA), handed over as it is: read as if it came in a read batch from the socket. Its fields
    /// come from the bridge's HTTP/1.1 parser and mapping, which checked them
    /// (`HTTP2Connection.receive(decoded:fieldsChecked:)`).
    func channelRead(decoded frame: HTTP2Frame) {
        inReadBatch = true
        connection.receive(decoded: frame, fieldsChecked: true, now: HTTP2ConnectionHandler.clock.nanoseconds())
        processEvents()
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        // Not started yet (the one-port front still reads): nothing to flush or time.
        if front != nil { return context.fireChannelReadComplete() }
        inReadBatch = false
        if observer.metrics != nil, !connection.counters.isEmpty { observer.report(&connection.counters) }
        flushNow()
        context.fireChannelReadComplete()
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            becameWritable = true
            bytesQueuedWhileUnwritable = 0
            connection.resumeOutput()
            if readingPaused {
                readingPaused = false
                _ = context.channel.setOption(.autoRead(true))
            }
        } else {
            connection.pauseOutput()
        }
        processEvents()
        flushNow()
        context.fireChannelWritabilityChanged()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        front?.stop()
        inactive = true
        handshakeTimer?.cancel()
        graceTimer?.cancel()
        graceTimer = nil
        timeoutTimer?.cancel()
        timeoutTimer = nil
        lingerTimer?.cancel()
        lingerTimer = nil
        // Whoever waits for the handshake hears why it will not come, before the connection's
        // own "connection closed" event: the error that ended it, or that it closed.
        if !becameReady {
            if failureBeforeReady == nil { failureBeforeReady = HTTP2ConnectionError.closedBeforeReady }
            failReadyPromises(failureBeforeReady ?? HTTP2ConnectionError.closedBeforeReady)
        }
        if connection.state != .closed {
            observer.closing(.peerClosed)
            connection.close(code: .noError, reason: "the socket closed")
        }
        connection.discardOutput()
        processEvents()
        observer.closed(&connection.counters)
        failReadyPromises(HTTP2ConnectionError.closedBeforeReady)
        context.fireChannelInactive()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let front, front.event(event, context) { return }
        if let event = event as? TLSEvent, case .handshakeCompleted(let info) = event {
            tls = info
            // ALPN chose another protocol than ours: this connection cannot speak HTTP/2. (No
            // ALPN at all is served as HTTP/2 with prior knowledge.)
            if let chosen = info.negotiatedProtocol, chosen != "h2", !(chosen == "http/1.1" && servesHTTP1) {
                let error = TLSError(.noCommonApplicationProtocol, "the peer chose ALPN protocol \(chosen), not h2")
                observer.errorCaught(error, beforeReady: true)
                failureBeforeReady = error
                failReadyPromises(error)
                context.fireErrorCaught(error)
                context.close(mode: .all, promise: nil)
                return
            }
        }
        // The peer half-closed the socket (servers accept with allowRemoteHalfClosure): answer
        // what it asked for, then close (HTTP2Connection.peerClosedInput).
        if let event = event as? ChannelEvent, event == .inputClosed {
            connection.peerClosedInput()
            processEvents()
            flushNow()
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if connection.state != .closed { observer.errorCaught(error, beforeReady: !becameReady) }
        // Before the handshake (a TLS handshake that failed, say) the error itself is what a
        // caller waiting in `whenReady()` must see.
        if !becameReady {
            if failureBeforeReady == nil { failureBeforeReady = error }
            failReadyPromises(error)
        }
        if connection.state != .closed {
            connection.close(code: .internalError, reason: "\(error)")
            processEvents()
            flushNow()
        }
        context.fireErrorCaught(error)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        front?.stop()
        self.context = nil
    }

    // MARK: Events

    func processEvents() {
        // Delegates send while handling events, which changes `connection`: take the events
        // out first (swapping storage, no allocation), then dispatch. Events raised by a
        // delegate's own calls are picked up by the loop below, not by a nested call.
        guard !isDispatching else { return }
        isDispatching = true
        defer { isDispatching = false }
        while true {
            connection.takeEvents(into: &dispatching)
            if dispatching.isEmpty { return }
            for event in dispatching { dispatch(event) }
            dispatching.removeAll(keepingCapacity: true)
        }
    }

    @inline(__always)  // in processEvents' loop: an out-of-line call copies each event
    private func dispatch(_ event: HTTP2ConnectionEvent) {
        switch event {
            case .ready:
                becameReady = true
                handshakeTimer?.cancel()
                handshakeTimer = nil
                let promises = readyPromises
                readyPromises = []
                for promise in promises { promise.succeed(()) }
                observer.ready()
                delegate.connectionReady(self)
            case .headers(let id, let headers, let endStream):
                delegate.streamHeaders(HTTP2StreamHandle(id: id, connection: self), headers, endStream: endStream)
            case .data(let id, let data, let endStream):
                delegate.streamData(HTTP2StreamHandle(id: id, connection: self), data, endStream: endStream)
            case .reset(let id, let code):
                delegate.streamReset(HTTP2StreamHandle(id: id, connection: self), code: code)
            case .streamError(let id, let error):
                observer.streamError(error)
                delegate.streamReset(HTTP2StreamHandle(id: id, connection: self), code: error.code)
            case .closed(let id):
                delegate.streamClosed(HTTP2StreamHandle(id: id, connection: self))
            case .writable(let id):
                delegate.streamWritable(HTTP2StreamHandle(id: id, connection: self))
            case .headerListTooLarge, .pingAck:
                break
            case .goAway(let last, let code, let debug):
                observer.goAwayReceived(lastStreamID: last, code: code, debugData: debug)
                delegate.connectionGoingAway(self, lastStreamID: last, code: code, debugData: debug)
            case .drained:
                observer.closing(.graceful)
                closeAfterFlush(linger: true)
            case .connectionError(let error):
                observer.connectionError(error, abuseLimit: connection.abuseLimit(for: error),
                                         expiredTimeout: timeouts.expired(now: HTTP2ConnectionHandler.clock.nanoseconds()))
                if !becameReady && failureBeforeReady == nil { failureBeforeReady = error }
                failReadyPromises(error)
                delegate.connectionFailed(self, error: error)
                closeAfterFlush(linger: error.code == .noError)
            }
    }

    private func failReadyPromises(_ error: any Error) {
        let promises = readyPromises
        readyPromises = []
        for promise in promises { promise.fail(error) }
    }

    /// Ends the connection. After an error, at once (RFC 9113 §5.4.1: GOAWAY, then close).
    /// After a clean end (`linger`: drained, or GOAWAY(NO_ERROR) for an idle connection or a
    /// closed peer), our last frames go out, then a FIN, and the socket closes when the peer
    /// closes its side or after `HTTP2ConnectionHandler.lingerTimeout`.
    ///
    /// Why linger: closing a socket that has unread bytes, or that receives bytes afterwards,
    /// makes the kernel answer with a TCP reset, and a peer that gets the reset before it
    /// read our GOAWAY loses it: it sees "connection reset by peer", and cannot tell from the
    /// GOAWAY's last stream id which of its requests were never processed (safe to retry). A
    /// peer still sending when we end (a PING behind its own GOAWAY, a request crossing our
    /// idle GOAWAY) hit this depending only on how its bytes were split across reads (h2spec
    /// http2/7/1, 16 of 200 runs). Reads in the meantime are discarded: the connection is
    /// closed and ignores them. Not after an error: the peer broke the protocol or abuses the
    /// server, and reading what it still sends for a second costs more than its GOAWAY is worth.
    private func closeAfterFlush(linger: Bool) {
        guard !closing, let context else { return }
        closing = true
        flushNow()
        // Already closed (we got here from channelInactive): nothing to linger for. (Not
        // `context.channel.isActive`: during teardown the channel may be gone already.)
        guard linger, !inactive else {
            context.close(promise: nil)
            return
        }
        let bound = LoopBound(self, eventLoop: context.eventLoop)
        lingerTimer = context.eventLoop.scheduleCallback(in: HTTP2ConnectionHandler.lingerTimeout) {
            let handler = bound.value
            handler.lingerTimer = nil
            handler.context?.close(promise: nil)
        }
        context.close(mode: .output).whenFailure { _ in
            // A transport that cannot half-close closes now, as before.
            bound.value.context?.close(promise: nil)
        }
    }

    /// How long a connection we ended waits for the peer to close its side before closing
    /// the socket anyway (as Go's HTTP/2 server does after its final GOAWAY).
    static let lingerTimeout: Duration = .seconds(1)

    // MARK: Output

    /// Writes and flushes what the connection produced.
    func flushNow() {
        guard let context else { return }
        // Writing can re-enter (a writability change lets more DATA out): move the buffers
        // out of the connection first, and go round until nothing new appeared.
        if connection.output.handsOverFrames {
            // The bridge went with its socket (a pipeline being torn down): nothing can be sent.
            if let bridge { flushHandedOver(to: bridge, context) } else { connection.discardOutput() }
        }
        while !connection.output.isEmpty {
            connection.moveOutput(into: &outgoing)
            if !context.channel.isWritable { noteQueuedWhileUnwritable(outgoing, context) }
            for buffer in outgoing { context.write(buffer, promise: nil) }
            outgoing.removeAll(keepingCapacity: true)
            context.flush()
            connection.reclaimOutput()
        }
        if graceTimer == nil, connection.hasStreamsAwaitingPeerEnd { startGraceTimer(context.eventLoop) }
        if !timeouts.isEmpty || connection.hasKeepaliveDeadlines { watchTimeouts(context) }
    }

    /// Behind the HTTP/1.1 bridge: the output goes to it directly, HEADERS and DATA as frames.
    private func flushHandedOver(to bridge: HTTP1BridgeHandler, _ context: ChannelHandlerContext) {
        while !connection.output.isEmpty {
            connection.moveOutput(into: &handedOver)
            if !context.channel.isWritable {
                for item in handedOver { bytesQueuedWhileUnwritable += item.byteCount }
                pauseReadingIfQueuedTooMuch(context)
            }
            bridge.written(handedOver)
            handedOver.removeAll(keepingCapacity: true)
            context.flush()
            connection.reclaimOutput()
        }
    }

    /// The bridge in front of this handler once it translates HTTP/1.1 (not after an h2c
    /// upgrade, where the output goes to the client as it is): it reads this connection's
    /// output in this process (`HTTP2Output.handsOverFrames`). Weak: the bridge holds this
    /// handler.
    weak var bridge: HTTP1BridgeHandler?
    @exclusivity(unchecked) private var handedOver: [HTTP2Output.HandedOver] = []

    /// Hands streams' HEADERS and DATA to `bridge` as frames from now on.
    func handOverFrames(to bridge: HTTP1BridgeHandler) {
        self.bridge = bridge
        connection.handOverFrames()
    }

    /// Backpressure from the write side to the read side: a peer that does not read gets
    /// nothing more read from it once what it provoked meanwhile passes the limit.
    private func noteQueuedWhileUnwritable(_ buffers: [ByteBuffer], _ context: ChannelHandlerContext) {
        for buffer in buffers { bytesQueuedWhileUnwritable += buffer.readableBytes }
        pauseReadingIfQueuedTooMuch(context)
    }

    private func pauseReadingIfQueuedTooMuch(_ context: ChannelHandlerContext) {
        guard !readingPaused, bytesQueuedWhileUnwritable > HTTP2ConnectionHandler.maxBytesQueuedWhileUnwritable else { return }
        readingPaused = true
        _ = context.channel.setOption(.autoRead(false))
    }

    /// After a send: flush now, at read-complete, or at the end of this loop turn.
    func outputChanged() {
        processEvents()
        guard !inReadBatch, !flushScheduled, let context else { return }
        flushScheduled = true
        context.eventLoop.executeSoon { [self] in
            flushScheduled = false
            flushNow()
        }
    }

    /// Completes once the peer's SETTINGS arrived (at once if they have).
    public func whenReady() -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        if connection.isReady {
            promise.succeed(())
        } else if connection.state == .closed {
            promise.fail(failureBeforeReady ?? HTTP2ConnectionError.closedBeforeReady)
        } else {
            readyPromises.append(promise)
        }
        return promise.futureResult
    }

    /// Opens a stream with its request headers (client side).
    /// - Throws: `HTTP2StreamError` when the connection is going away or the peer's
    ///   SETTINGS_MAX_CONCURRENT_STREAMS is reached.
    public func openStream(_ headers: [HPACKHeader], endStream: Bool) throws(HTTP2StreamError) -> HTTP2StreamHandle {
        let id = try sendHeaders(streamID: nil, headers, endStream: endStream)
        return HTTP2StreamHandle(id: id, connection: self)
    }

    // MARK: Sending (used through HTTP2StreamHandle)

    @discardableResult
    func sendHeaders(streamID: UInt32?, _ headers: [HPACKHeader], endStream: Bool) throws(HTTP2StreamError) -> UInt32 {
        let id = try connection.sendHeaders(streamID: streamID, headers, endStream: endStream)
        outputChanged()
        return id
    }

    func sendData(streamID: UInt32, _ data: ByteBuffer, endStream: Bool) throws(HTTP2StreamError) {
        try connection.sendData(streamID: streamID, data, endStream: endStream)
        outputChanged()
    }

    func reset(streamID: UInt32, code: HTTP2ErrorCode) {
        connection.resetStream(streamID, code: code)
        outputChanged()
    }

    func consumed(streamID: UInt32, bytes: Int) {
        connection.consumed(streamID: streamID, bytes: bytes)
        if !connection.output.isEmpty { outputChanged() }
    }

    /// Bytes queued on a stream, not yet sent. (Through the handler: reading
    /// `connection` from outside copies the whole connection state.)
    func bufferedBytes(streamID: UInt32) -> Int {
        connection.bufferedBytes(streamID: streamID)
    }

    /// What ended the connection, when an error or the socket's close ended it (nil while it
    /// runs, and after a graceful drain). A stream reset while this is set was reset by the
    /// connection's end, not by the peer.
    public var closeError: HTTP2ProtocolError? { connection.closeError }

    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS, nil when it set none.
    public var peerMaxConcurrentStreams: UInt32? { connection.peerSettings.maxConcurrentStreams }

    func notifyWhenBuffered(streamID: UInt32, atMost threshold: Int) {
        connection.notifyWhenBuffered(streamID: streamID, atMost: threshold)
        outputChanged()  // delivers a `.writable` raised at once
    }

    /// The connection's queued DATA is above `maxQueuedOutboundBytes`.
    var isOutboundFull: Bool { connection.isOutboundFull }

    /// The connection's queued DATA is under half of `maxQueuedOutboundBytes`.
    var hasOutboundRoom: Bool { connection.hasOutboundRoom }

    /// Starts a graceful shutdown: in-flight streams finish, then the channel closes.
    public func beginGracefulShutdown() {
        connection.beginGracefulShutdown()
        outputChanged()
    }
}

/// Errors of an HTTP/2 connection as a whole.
public enum HTTP2ConnectionError: Error, Equatable, CustomStringConvertible {
    /// The connection closed before the peer's SETTINGS arrived.
    case closedBeforeReady
    /// The peer did not complete the handshake in time.
    case handshakeTimeout(Duration)

    public var description: String {
        switch self {
        case .closedBeforeReady: return "HTTP2ConnectionError.closedBeforeReady: the connection closed before the peer's SETTINGS arrived"
        case .handshakeTimeout(let limit): return "HTTP2ConnectionError.handshakeTimeout: no SETTINGS from the server within \(limit)"
        }
    }
}

/// Monotonic nanoseconds for rate limits.
struct MonotonicClock: Sendable {
    func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
