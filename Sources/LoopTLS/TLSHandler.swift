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
///                         │                       │                  │
///                         └──failed / timeout─────┴──▶ failed        │
///                                                        │           │
///   (any state) ──channel inactive / handler removed─────┴───────────┴──▶ closed
/// ```
///
/// Memory per connection stays bounded: one socket read of ciphertext is decrypted at a
/// time, large flushes are encrypted and handed to the socket 64 KiB at a time (the buffers
/// kept for reuse stay small), and what reads alone make us send (KeyUpdate answers, alerts)
/// stops reading while the socket is not writable. A peer that sends 64 KiB of records
/// without any application data (a KeyUpdate flood, say) is closed.
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
        /// The handshake or a record failed; the channel is closing.
        case failed
        /// The channel is inactive or the handler was removed.
        case closed
    }

    let engine: TLSEngine
    @exclusivity(unchecked) private var state: State = .idle
    /// Plaintext written from above and not yet encrypted, with its promises.
    @exclusivity(unchecked) private var pending: [(buffer: ByteBuffer, promise: EventLoopPromise<Void>?)] = []
    /// How many of `pending` were flushed.
    @exclusivity(unchecked) private var flushedCount = 0
    /// Flushed plaintext gathered for one encryption (reused while no one else holds it).
    @exclusivity(unchecked) private var gathered = ByteBuffer(capacity: 0)
    /// Ciphertext for the wire (reused once the socket has written it, while it is small).
    @exclusivity(unchecked) private var output = ByteBuffer(capacity: 0)
    /// Decrypted bytes for the handlers above (reused when they kept no slice of it).
    @exclusivity(unchecked) private var plaintext = ByteBuffer(capacity: 0)
    @exclusivity(unchecked) private var plaintextSize = 2048
    private static let maximumPlaintextSize = 64 * 1024
    /// Gathering copies small writes into one record; a write this large is encrypted from
    /// its own bytes.
    private static let gatherLimit = 16 * 1024
    /// Ciphertext is handed to the socket in pieces of about this size during a large flush,
    /// so neither the memory BIO nor the reused output buffer grows past it.
    private static let outputChunk = 64 * 1024
    /// What reads alone made us send while the socket was not writable (KeyUpdate answers):
    /// past `maximumQueuedByReads`, reading stops until the socket drains.
    private static let maximumQueuedByReads = 64 * 1024
    @exclusivity(unchecked) private var queuedByReads = 0
    @exclusivity(unchecked) private var readingPaused = false
    /// Chunks of this flush were written to the socket and wait for its flush.
    @exclusivity(unchecked) private var chunksWritten = false
    @exclusivity(unchecked) private var handshakeTimer: ScheduledCallback?
    @exclusivity(unchecked) private var inputClosedSent = false
    private var handshakePromises: [EventLoopPromise<TLSConnectionInfo>] = []
    private var handshakeFailure: TLSError?

    /// Bytes this connection's TLS holds in buffers kept for reuse and in OpenSSL's memory
    /// BIOs (for the memory bound's tests).
    var retainedBytes: Int {
        gathered.capacity + output.capacity + plaintext.capacity + engine.outputBytes
    }

    /// What the handshake agreed on, once it finished (on the channel's loop).
    public private(set) var connectionInfo: TLSConnectionInfo?

    /// A handler for one connection.
    /// - Parameters:
    ///   - context: the shared TLS context the connection is cut from.
    ///   - serverHostname: for a client, the host dialled: sent as SNI and verified against the
    ///     server's certificate (unless the configuration's `serverHostOverride` names another).
    ///   - port: for a client, the port dialled (sessions are kept per host and port).
    /// - Throws: `TLSError` (`.invalidConfiguration`) for a client that must verify the
    ///   server's name but has none (a Unix domain socket without `serverHostOverride`), or
    ///   whose name OpenSSL cannot check.
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
        } else if case .closed = state {
            promise.fail(TLSError(.closedDuringHandshake, "the connection closed during the TLS handshake"))
        } else {
            handshakePromises.append(promise)
        }
        return promise.futureResult
    }

    // MARK: Inbound

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        closeDown(ChannelError.ioOnClosedChannel)
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard case .idle = state else { return }
        state = .handshaking
        let limit = engine.context.configuration.handshakeTimeout
        // A loop callback: it may hold the handler and its context as they are.
        handshakeTimer = context.eventLoop.scheduleCallback(in: limit) { [self] in
            guard case .handshaking = state else { return }
            fail(TLSError(.handshakeTimeout, "TLS handshake not finished within \(limit)"), context: context)
        }
        if engine.role == .client { advanceHandshake(context: context) }
    }

    public func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        switch state {
        case .idle, .failed, .closed:
            return
        case .handshaking:
            engine.receive(data)
            advanceHandshake(context: context)
        case .active, .closing:
            engine.receive(data)
            decrypt(context: context)
            guard !isEnded else { return }
            // What reading produced: tickets, KeyUpdate answers, alerts.
            let written = writeOutput(context: context)
            if written > 0 && !context.channel.isWritable { noteQueuedByReads(written, context) }
        }
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            queuedByReads = 0
            if readingPaused {
                readingPaused = false
                _ = context.channel.setOption(.autoRead(true))
            }
        }
        context.fireChannelWritabilityChanged()
    }

    /// A peer that does not read cannot make us queue answers to its records without bound.
    private func noteQueuedByReads(_ bytes: Int, _ context: ChannelHandlerContext) {
        queuedByReads += bytes
        guard !readingPaused, queuedByReads > TLSHandler.maximumQueuedByReads else { return }
        readingPaused = true
        _ = context.channel.setOption(.autoRead(false))
    }

    public func channelInactive(context: ChannelHandlerContext) {
        reportRefusalForMissingCertificate(context)
        if case .handshaking = state {
            fail(TLSError(.closedDuringHandshake, "the connection closed during the TLS handshake"), context: context, close: false)
        }
        closeDown(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    /// A server that asked for our missing client certificate and closes: say so
    /// (`TLSEngine.refusalForMissingCertificate`).
    private func reportRefusalForMissingCertificate(_ context: ChannelHandlerContext) {
        guard case .active = state, let refusal = engine.refusalForMissingCertificate() else { return }
        context.fireErrorCaught(refusal)
    }

    /// The end: the timer stops, and every write and waiter still here fails.
    private func closeDown(_ error: any Error) {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        state = .closed
        failPending(handshakeFailure ?? error)
        let promises = handshakePromises
        handshakePromises = []
        let failure = handshakeFailure ?? TLSError(.closedDuringHandshake, "the connection closed during the TLS handshake")
        for promise in promises { promise.fail(failure) }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            switch state {
            case .handshaking:
                fail(TLSError(.closedDuringHandshake, "the peer closed the connection during the TLS handshake"), context: context)
                return
            case .active, .closing:
                // A TCP FIN without close_notify (or right after it): the peer sends nothing more.
                reportRefusalForMissingCertificate(context)
                if inputClosedSent { return }
                inputClosedSent = true
            case .idle, .failed, .closed:
                break
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Outbound

    public func write(context: ChannelHandlerContext, data: ByteBuffer, promise: EventLoopPromise<Void>?) {
        switch state {
        case .failed, .closing, .closed:
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
                // Everything written so far leaves first (as a socket's half-close sends what
                // was written), then close_notify (RFC 8446 §6.1).
                flushedCount = pending.count
                encryptFlushed(context: context)
                if case .active = state {
                    state = .closing
                    engine.shutdown()
                    writeOutput(context: context)
                }
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
            guard case .active = state else { return }
            decrypt(context: context)
            if case .active = state { encryptFlushed(context: context) }
            if !isEnded { writeOutput(context: context) }
        }
    }

    private var isEnded: Bool {
        switch state {
        case .failed, .closed: return true
        case .idle, .handshaking, .active, .closing: return false
        }
    }

    /// Reports `error`, sends the alert OpenSSL queued, and closes.
    private func fail(_ error: TLSError, context: ChannelHandlerContext, close: Bool = true) {
        guard !isEnded else { return }
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

    /// Decrypts what was received and hands it up; returns the plaintext bytes delivered.
    @discardableResult
    private func decrypt(context: ChannelHandlerContext) -> Int {
        var delivered = 0
        while true {
            if plaintext.isStorageUnique() && plaintext.capacity >= plaintextSize {
                plaintext.clear()
            } else {
                plaintext = ByteBuffer(capacity: plaintextSize)
            }
            let result = engine.read(into: &plaintext)
            if plaintext.readableBytes > 0 {
                delivered += plaintext.readableBytes
                context.fireChannelRead(plaintext)
            }
            if isEnded { return delivered }  // A handler above closed the channel.
            switch result {
            case .bufferFull:
                if plaintextSize < TLSHandler.maximumPlaintextSize { plaintextSize *= 2 }
                continue
            case .needMoreData:
                return delivered
            case .closeNotify:
                // The peer ends its side (RFC 8446 §6.1); like a TCP half-close above us.
                reportRefusalForMissingCertificate(context)
                if !inputClosedSent {
                    inputClosedSent = true
                    context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
                }
                return delivered
            case .failed(let error):
                fail(error, context: context)
                return delivered
            }
        }
    }

    /// Encrypts every flushed write: small ones gathered into one buffer and encrypted together
    /// (records of up to 16 KiB), large ones from their own bytes; the ciphertext goes to the
    /// socket 64 KiB at a time.
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
                failure = encryptGathered(context)
                if failure == nil { failure = encryptLarge(buffer, context) }
            } else {
                if gathered.readableBytes + buffer.readableBytes > TLSHandler.gatherLimit { failure = encryptGathered(context) }
                _ = gathered.writeImmutableBuffer(buffer)
            }
        }
        if failure == nil { failure = encryptGathered(context) }
        if flushedCount == pending.count {
            pending.removeAll(keepingCapacity: pending.capacity <= 64)
        } else {
            pending.removeFirst(flushedCount)
        }
        flushedCount = 0
        if let failure {
            for promise in promises { promise.fail(failure) }
            fail(failure, context: context)
            return
        }
        writeOutput(context: context, promises: promises)
    }

    private func encryptGathered(_ context: ChannelHandlerContext) -> TLSError? {
        guard gathered.readableBytes > 0 else { return nil }
        let error = gathered.withUnsafeReadableBytes { engine.write($0) }
        gathered.clear()
        if error == nil { handOverOutputChunk(context) }
        return error
    }

    /// A large write, encrypted from its own bytes a chunk at a time.
    private func encryptLarge(_ buffer: ByteBuffer, _ context: ChannelHandlerContext) -> TLSError? {
        buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let count = min(TLSHandler.outputChunk, bytes.count - offset)
                if let error = engine.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])) { return error }
                offset += count
                handOverOutputChunk(context)
            }
            return nil
        }
    }

    /// During a large flush: once a chunk of ciphertext is waiting, it goes to the socket
    /// (written, not yet flushed) in a buffer of its own.
    private func handOverOutputChunk(_ context: ChannelHandlerContext) {
        let waiting = engine.outputBytes
        guard waiting >= TLSHandler.outputChunk else { return }
        var chunk = ByteBuffer(capacity: waiting)
        engine.takeOutput(into: &chunk)
        context.write(chunk, promise: nil)
        chunksWritten = true
    }

    /// Writes and flushes what OpenSSL produced; `promises` complete when it was written.
    /// Returns the bytes written.
    @discardableResult
    private func writeOutput(context: ChannelHandlerContext, promises: [EventLoopPromise<Void>] = []) -> Int {
        let waiting = engine.outputBytes
        guard waiting > 0 else {
            // Everything left in chunks already written (or nothing was produced).
            if chunksWritten {
                chunksWritten = false
                context.flush()
            }
            for promise in promises { promise.succeed(()) }
            return 0
        }
        chunksWritten = false
        if output.isStorageUnique() && output.capacity <= TLSHandler.outputChunk * 2 {
            output.clear()
        } else {
            output = ByteBuffer(capacity: waiting)
        }
        engine.takeOutput(into: &output)
        if promises.isEmpty {
            context.write(output, promise: nil)
        } else {
            let written = context.eventLoop.makePromise(of: Void.self)
            let waitingPromises = promises
            written.futureResult.whenComplete { result in
                for promise in waitingPromises {
                    switch result {
                    case .success: promise.succeed(())
                    case .failure(let error): promise.fail(error)
                    }
                }
            }
            context.write(output, promise: written)
        }
        context.flush()
        return waiting
    }

    private func failPending(_ error: any Error) {
        guard !pending.isEmpty else { return }
        let waiting = pending
        pending = []
        flushedCount = 0
        for entry in waiting { entry.promise?.fail(error) }
    }
}
