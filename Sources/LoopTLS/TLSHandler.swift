import Loop

/// Events `TLSHandler` sends up the pipeline.
public enum TLSEvent: Sendable, Equatable {
    /// The handshake finished; sent before the first decrypted byte.
    case handshakeCompleted(TLSConnectionInfo)
}

/// TLS in a channel pipeline: ciphertext below, plaintext above. Put it first; the handlers
/// after it read and write plaintext `ByteBuffer`s as on a cleartext connection.
///
/// The handshake starts when the channel becomes active (a client sends its ClientHello);
/// writes from above wait until it has finished, then leave encrypted, all the writes of one
/// flush gathered into records of up to 16 KiB. A handshake that fails sends the alert, reports
/// a `TLSError` through `errorCaught` and closes; one that does not finish within
/// `TLSConfiguration.handshakeTimeout` is closed the same way.
///
/// ```
///   idle ──active──▶ handshaking ──finished──▶ active ──close──▶ closing (close_notify sent)
///                         │                       │
///                         └──failed / timeout─────┴──▶ failed (error reported, channel closed)
/// ```
///
/// ```swift
/// let tls = try TLSContext(.server(certificateChain: .file("cert.pem"), privateKey: .file("key.pem")))
/// try channel.pipeline.addHandler(TLSHandler(context: tls))
/// try channel.pipeline.addHandler(MyProtocolHandler())
/// ```
public final class TLSHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case handshaking
        case active
        /// close_notify sent: nothing more goes out.
        case closing
        case failed
    }

    private let engine: TLSEngine
    @exclusivity(unchecked) private var state: State = .idle
    /// Plaintext written from above and not yet encrypted, with its promises.
    @exclusivity(unchecked) private var pending: [(buffer: ByteBuffer, promise: EventLoopPromise<Void>?)] = []
    /// How many of `pending` were flushed.
    @exclusivity(unchecked) private var flushedCount = 0
    /// Flushed plaintext gathered for one encryption (reused while no one else holds it).
    @exclusivity(unchecked) private var gathered = ByteBuffer(capacity: 0)
    /// Ciphertext for the wire (reused once the socket has written it).
    @exclusivity(unchecked) private var output = ByteBuffer(capacity: 0)
    /// Decrypted bytes for the handlers above (reused when they kept no slice of it).
    @exclusivity(unchecked) private var plaintext = ByteBuffer(capacity: 0)
    @exclusivity(unchecked) private var plaintextSize = 2048
    private static let maximumPlaintextSize = 64 * 1024
    /// Gathering copies small writes into one record; a write this large is encrypted from
    /// its own bytes.
    private static let gatherLimit = 16 * 1024
    @exclusivity(unchecked) private var handshakeTimer: Scheduled<Void>?
    @exclusivity(unchecked) private var inputClosedSent = false
    private var handshakePromises: [EventLoopPromise<TLSConnectionInfo>] = []
    private var handshakeFailure: TLSError?

    /// What the handshake agreed on, once it finished (on the channel's loop).
    public private(set) var connectionInfo: TLSConnectionInfo?

    /// A handler for one connection.
    /// - Parameters:
    ///   - serverHostname: for a client, the host dialled: sent as SNI and verified against the
    ///     server's certificate (unless the configuration's `serverHostOverride` names another).
    ///   - port: for a client, the port dialled (sessions are kept per host and port).
    public init(context: TLSContext, serverHostname: String? = nil, port: Int = 0) throws {
        engine = try TLSEngine(context: context, serverName: serverHostname, port: port)
    }

    /// Completes with the connection's `TLSConnectionInfo` when the handshake finished, or fails
    /// with its `TLSError`. Call on the channel's loop.
    public func handshakeResult(on loop: EventLoop) -> EventLoopFuture<TLSConnectionInfo> {
        let promise = loop.makePromise(of: TLSConnectionInfo.self)
        if let connectionInfo {
            promise.succeed(connectionInfo)
        } else if let handshakeFailure {
            promise.fail(handshakeFailure)
        } else {
            handshakePromises.append(promise)
        }
        return promise.futureResult
    }

    // MARK: Inbound

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard case .idle = state else { return }
        state = .handshaking
        let limit = engine.context.configuration.handshakeTimeout
        let bound = LoopBound(self, eventLoop: context.eventLoop)
        let boundContext = LoopBound(context, eventLoop: context.eventLoop)
        handshakeTimer = context.eventLoop.scheduleTask(in: limit) {
            let handler = bound.value
            guard case .handshaking = handler.state else { return }
            handler.fail(TLSError(.handshakeTimeout, "TLS handshake not finished within \(limit)"), context: boundContext.value)
        }
        if engine.role == .client { advanceHandshake(context: context) }
    }

    public func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        switch state {
        case .idle, .failed:
            return
        case .handshaking:
            engine.receive(data)
            advanceHandshake(context: context)
        case .active, .closing:
            engine.receive(data)
            decrypt(context: context)
            writeOutput(context: context)  // What reading produced: tickets, key updates, alerts.
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        if case .handshaking = state {
            fail(TLSError(.closedDuringHandshake, "the connection closed during the TLS handshake"), context: context, close: false)
        }
        failPending(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            switch state {
            case .handshaking:
                fail(TLSError(.closedDuringHandshake, "the peer closed the connection during the TLS handshake"), context: context)
                return
            case .active, .closing:
                // A TCP FIN without close_notify (or right after it): the peer sends nothing more.
                if inputClosedSent { return }
                inputClosedSent = true
            case .idle, .failed:
                break
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Outbound

    public func write(context: ChannelHandlerContext, data: ByteBuffer, promise: EventLoopPromise<Void>?) {
        switch state {
        case .failed, .closing:
            promise?.fail(handshakeFailure ?? ChannelError.outputClosed)
        case .idle, .handshaking, .active:
            pending.append((data, promise))
        }
    }

    public func flush(context: ChannelHandlerContext) {
        flushedCount = pending.count
        if case .active = state { encryptFlushed(context: context) }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch mode {
        case .all, .output:
            if case .active = state {
                // What was flushed leaves first, then close_notify (RFC 8446 §6.1).
                encryptFlushed(context: context)
                state = .closing
                failPending(ChannelError.outputClosed)
                engine.shutdown()
                writeOutput(context: context)
            }
        case .input:
            break
        }
        context.close(mode: mode, promise: promise)
    }

    // MARK: Handshake

    private func advanceHandshake(context: ChannelHandlerContext) {
        switch engine.handshake() {
        case .needMoreData:
            writeOutput(context: context)
        case .failed(let error):
            fail(error, context: context)
        case .complete:
            handshakeTimer?.cancel()
            handshakeTimer = nil
            state = .active
            let info = engine.connectionInfo()
            connectionInfo = info
            writeOutput(context: context)
            context.fireUserInboundEventTriggered(TLSEvent.handshakeCompleted(info))
            let promises = handshakePromises
            handshakePromises = []
            for promise in promises { promise.succeed(info) }
            // Application data may have come with the peer's last handshake flight.
            decrypt(context: context)
            if case .active = state { encryptFlushed(context: context) }
            writeOutput(context: context)
        }
    }

    /// Reports `error`, sends the alert OpenSSL queued, and closes.
    private func fail(_ error: TLSError, context: ChannelHandlerContext, close: Bool = true) {
        state = .failed
        handshakeFailure = error
        handshakeTimer?.cancel()
        handshakeTimer = nil
        if close { writeOutput(context: context) }
        failPending(error)
        let promises = handshakePromises
        handshakePromises = []
        for promise in promises { promise.fail(error) }
        context.fireErrorCaught(error)
        if close { context.close(mode: .all, promise: nil) }
    }

    // MARK: Moving bytes

    private func decrypt(context: ChannelHandlerContext) {
        loop: while true {
            if plaintext.isStorageUnique() && plaintext.capacity >= plaintextSize {
                plaintext.clear()
            } else {
                plaintext = ByteBuffer(capacity: plaintextSize)
            }
            let result = engine.read(into: &plaintext)
            if plaintext.readableBytes > 0 { context.fireChannelRead(plaintext) }
            switch result {
            case .bufferFull:
                if plaintextSize < TLSHandler.maximumPlaintextSize { plaintextSize *= 2 }
                if case .failed = state { return }
                continue loop
            case .needMoreData:
                break loop
            case .closeNotify:
                // The peer ends its side (RFC 8446 §6.1); like a TCP half-close above us.
                if !inputClosedSent {
                    inputClosedSent = true
                    context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
                }
                break loop
            case .failed(let error):
                fail(error, context: context)
                return
            }
        }
    }

    /// Encrypts every flushed write: small ones gathered into one buffer and encrypted together
    /// (records of up to 16 KiB), large ones from their own bytes.
    private func encryptFlushed(context: ChannelHandlerContext) {
        guard flushedCount > 0 else { return }
        var promises: [EventLoopPromise<Void>] = []
        if gathered.isStorageUnique() { gathered.clear() } else { gathered = ByteBuffer(capacity: TLSHandler.gatherLimit) }
        var failure: TLSError?
        for index in 0..<flushedCount {
            let (buffer, promise) = pending[index]
            if let promise { promises.append(promise) }
            if failure != nil { continue }
            if buffer.readableBytes >= TLSHandler.gatherLimit {
                failure = encryptGathered()
                if failure == nil { failure = buffer.withUnsafeReadableBytes { engine.write($0) } }
            } else {
                if gathered.readableBytes + buffer.readableBytes > TLSHandler.gatherLimit { failure = encryptGathered() }
                _ = gathered.writeImmutableBuffer(buffer)
            }
        }
        if failure == nil { failure = encryptGathered() }
        pending.removeFirst(flushedCount)
        flushedCount = 0
        if let failure {
            for promise in promises { promise.fail(failure) }
            fail(failure, context: context)
            return
        }
        writeOutput(context: context, promises: promises)
    }

    private func encryptGathered() -> TLSError? {
        guard gathered.readableBytes > 0 else { return nil }
        let error = gathered.withUnsafeReadableBytes { engine.write($0) }
        gathered.clear()
        return error
    }

    /// Writes and flushes what OpenSSL produced; `promises` complete when it was written.
    private func writeOutput(context: ChannelHandlerContext, promises: [EventLoopPromise<Void>] = []) {
        guard engine.outputBytes > 0 else {
            for promise in promises { promise.succeed(()) }
            return
        }
        if output.isStorageUnique() { output.clear() } else { output = ByteBuffer(capacity: engine.outputBytes) }
        engine.takeOutput(into: &output)
        if promises.isEmpty {
            context.write(output, promise: nil)
        } else {
            let written = context.eventLoop.makePromise(of: Void.self)
            let waiting = promises
            written.futureResult.whenComplete { result in
                for promise in waiting {
                    switch result {
                    case .success: promise.succeed(())
                    case .failure(let error): promise.fail(error)
                    }
                }
            }
            context.write(output, promise: written)
        }
        context.flush()
    }

    private func failPending(_ error: any Error) {
        let waiting = pending
        pending = []
        flushedCount = 0
        for entry in waiting { entry.promise?.fail(error) }
    }
}
