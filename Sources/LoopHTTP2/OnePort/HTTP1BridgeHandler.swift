import Loop

/// The channel adapter of ``HTTP1Bridge``: sits between the socket (or TLS) and the
/// connection's ``HTTP2ConnectionHandler`` on an HTTP/1.1 connection. Socket reads go through
/// the bridge, which feeds the HTTP/2 handler; the HTTP/2 handler's writes go through the
/// bridge, which writes HTTP/1.1. What the bridge wants from the HTTP/2 handler while that
/// one is writing (a WINDOW_UPDATE opened room for a body, a response finished and the next
/// pipelined request can start) is delivered in a later loop turn, never re-entrantly.
final class HTTP1BridgeHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    // Loop-confined state, never accessed re-entrantly while mutated: no dynamic exclusivity
    // check per access (the bridge is touched several times per request).
    @exclusivity(unchecked) private var bridge: HTTP1Bridge
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    @exclusivity(unchecked) private var deliveryScheduled = false
    @exclusivity(unchecked) private var pausedReading = false
    @exclusivity(unchecked) private var closing = false
    @exclusivity(unchecked) private var handsOverFrames = false
    /// The inputs being delivered to the HTTP/2 side (storage kept between requests).
    @exclusivity(unchecked) private var delivering: [HTTP1Bridge.HTTP2Input] = []
    // Loop callbacks, not promise-backed tasks: cancelling one (the head timer, once per
    // connection at least) fails no promise.
    private var headTimer: ScheduledCallback?
    private var lingerTimer: ScheduledCallback?

    /// The connection's handler, next in the pipeline: request HEADERS go to it decoded. Nil:
    /// everything goes down the pipeline as bytes.
    private let http2: HTTP2ConnectionHandler?

    init(options: HTTP1Options, scheme: String, http2: HTTP2ConnectionHandler? = nil) {
        bridge = HTTP1Bridge(options: options, scheme: scheme)
        bridge.handsOverDecodedHeaders = http2 != nil
        self.http2 = http2
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        headTimer?.cancel()
        lingerTimer?.cancel()
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        bridge.socketWritable = context.channel.isWritable
        bridge.receive(data)
        if !handsOverFrames, let http2, bridge.isTranslating {
            // From the first translated request on, the HTTP/2 side's streams answer in frames.
            handsOverFrames = true
            http2.handOverFrames(to: self)
        }
        deliver(context, readComplete: false)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        bridge.socketWritable = writable
        context.fireChannelWritabilityChanged()
        if writable { scheduleAdvance(context) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            bridge.inputClosed()
            deliver(context, readComplete: true)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        bridge.closed()
        headTimer?.cancel()
        lingerTimer?.cancel()
        context.fireChannelInactive()
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: ByteBuffer, promise: EventLoopPromise<Void>?) {
        if bridge.outbound(data) { scheduleAdvance(context) }
        if bridge.toSocket.readableBytes > 0 {
            context.write(takeSocketBytes(), promise: promise)
        } else {
            promise?.succeed(())
        }
        if bridge.hasHTTP2Input || bridge.closeRequested { scheduleAdvance(context) }
    }

    /// The HTTP/2 handler's output handed over in this process (its streams' HEADERS and DATA
    /// as frames, the rest as bytes), as ``write(context:data:promise:)`` takes its bytes.
    func written(_ output: [HTTP2Output.HandedOver]) {
        guard let context else { return }
        var progressed = false
        for item in output {
            switch item {
            case .bytes(let bytes): if bridge.outbound(bytes) { progressed = true }
            case .frame(let frame): if bridge.outbound(frame) { progressed = true }
            }
        }
        if progressed { scheduleAdvance(context) }
        if bridge.toSocket.readableBytes > 0 { context.write(takeSocketBytes(), promise: nil) }
        if bridge.hasHTTP2Input || bridge.closeRequested { scheduleAdvance(context) }
    }

    func flush(context: ChannelHandlerContext) {
        context.flush()
    }

    // MARK: Delivery

    private func takeSocketBytes() -> ByteBuffer {
        let bytes = bridge.toSocket
        bridge.toSocket = ByteBuffer(capacity: 0)
        return bytes
    }

    /// Moves on later in this loop turn (not inside the HTTP/2 handler's write).
    private func scheduleAdvance(_ context: ChannelHandlerContext) {
        guard !deliveryScheduled else { return }
        deliveryScheduled = true
        context.eventLoop.executeSoon { [self] in
            let handler = self
            handler.deliveryScheduled = false
            guard let context = handler.context else { return }
            handler.bridge.socketWritable = context.channel.isWritable
            handler.bridge.advance()
            handler.deliver(context, readComplete: true)
        }
    }

    /// Sends what the bridge produced: bytes to the socket, bytes to the HTTP/2 handler (with
    /// a read-complete when not inside a read batch, so it acts on them now), the close.
    private func deliver(_ context: ChannelHandlerContext, readComplete: Bool) {
        if bridge.toSocket.readableBytes > 0 {
            context.writeAndFlush(takeSocketBytes(), promise: nil)
        }
        if bridge.hasHTTP2Input {
            // Swapped out, not copied: what the HTTP/2 handler's answers queue meanwhile goes
            // to the bridge's own list, for the next delivery.
            bridge.takeHTTP2Input(into: &delivering)
            for input in delivering {
                switch input {
                case .bytes(let bytes): context.fireChannelRead(bytes)
                case .frame(let frame): http2?.channelRead(decoded: frame)
                }
            }
            delivering.removeAll(keepingCapacity: true)
            if readComplete { context.fireChannelReadComplete() }
            // The HTTP/2 handler may have answered at once.
            if bridge.toSocket.readableBytes > 0 { context.writeAndFlush(takeSocketBytes(), promise: nil) }
        }
        if bridge.takeInputClosed() {
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        // The channel may have closed inside those events (the HTTP/2 handler ending the
        // connection, a failed write): its pipeline is torn down, and it has no channel left.
        guard self.context != nil else { return }
        watchHead(context)
        updateReading(context)
        if bridge.closeRequested { close(context) }
    }

    /// The request-head timeout runs while a head is incomplete.
    private func watchHead(_ context: ChannelHandlerContext) {
        if bridge.isReceivingHead {
            guard headTimer == nil else { return }
            headTimer = context.eventLoop.scheduleCallback(in: bridge.options.requestHeadTimeout) { [self] in
                self.headTimer = nil
                guard let context = self.context else { return }
                self.bridge.headTimedOut()
                self.deliver(context, readComplete: true)
            }
        } else if let timer = headTimer {
            timer.cancel()
            headTimer = nil
        }
    }

    /// Stops reading the socket while more than the allowed bytes wait in the bridge.
    private func updateReading(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        let over = bridge.bufferedBytes > bridge.options.maxBufferedBytes
        if over, !pausedReading {
            pausedReading = true
            _ = context.channel.setOption(.autoRead(false))
        } else if !over, pausedReading {
            pausedReading = false
            _ = context.channel.setOption(.autoRead(true))
        }
    }

    /// Half-closes after the last bytes (so a response is not lost to a reset the kernel sends
    /// for unread input), then closes when the client closes or a second later.
    private func close(_ context: ChannelHandlerContext) {
        // Already gone (the channel closed inside this delivery): nothing to close.
        guard !closing, self.context != nil else { return }
        closing = true
        headTimer?.cancel()
        headTimer = nil
        if !pausedReading {
            // Nothing more is parsed: reading on would only cost CPU (a client pouring a body
            // after its error answer is held by its own socket buffer instead).
            pausedReading = true
            _ = context.channel.setOption(.autoRead(false))
        }
        let bound = LoopBound(self, eventLoop: context.eventLoop)
        lingerTimer = context.eventLoop.scheduleCallback(in: .seconds(1)) {
            bound.value.context?.close(promise: nil)
        }
        context.close(mode: .output).whenFailure { _ in
            bound.value.context?.close(promise: nil)
        }
    }
}
