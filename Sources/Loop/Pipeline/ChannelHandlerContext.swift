/// A handler's place in a pipeline: passes events on to the next handler in each direction.
///
/// Contexts belong to the channel's event loop; use them on that loop only.
public final class ChannelHandlerContext {
    /// The handler's name in the pipeline.
    public let name: String
    /// The handler.
    public let handler: any ChannelHandler
    /// The channel's event loop.
    public let eventLoop: EventLoop
    // `handler` keeps the handler alive; these typed views of it need no reference counting.
    @usableFromInline unowned(unsafe) let inbound: (any _ChannelInboundEvents)?
    @usableFromInline unowned(unsafe) let outbound: (any _ChannelOutboundEvents)?
    /// Set once, right after creation; the pipeline owns its contexts.
    @usableFromInline unowned(unsafe) var _pipeline: ChannelPipeline?

    // The list (structure) and the shortcuts used on every event (recomputed on change).
    // Touched on the channel's loop only, never across a re-entrant call that also writes
    // them: dynamic exclusivity checks would cost more than the traversal itself.
    @exclusivity(unchecked) var next: ChannelHandlerContext?
    @exclusivity(unchecked) var prev: ChannelHandlerContext?
    // The shortcuts do not own their targets, so following them costs no retain/release:
    // contexts in the pipeline are owned through `next`/`prev`, and a removed context owns
    // its shortcut targets through `removedTargets` (it may still pass on an event).
    // Held unmanaged and called through `_withUnsafeGuaranteedRef`: no retain/release.
    @exclusivity(unchecked) @usableFromInline var _nextInbound: Unmanaged<ChannelHandlerContext>?
    @exclusivity(unchecked) @usableFromInline var _prevOutbound: Unmanaged<ChannelHandlerContext>?

    var nextInbound: ChannelHandlerContext? {
        get { _nextInbound?.takeUnretainedValue() }
        set { _nextInbound = newValue.map { Unmanaged.passUnretained($0) } }
    }

    var prevOutbound: ChannelHandlerContext? {
        get { _prevOutbound?.takeUnretainedValue() }
        set { _prevOutbound = newValue.map { Unmanaged.passUnretained($0) } }
    }
    var removedTargets: (ChannelHandlerContext?, ChannelHandlerContext?)
    var isRemoved = false

    init(name: String, handler: any ChannelHandler, eventLoop: EventLoop) {
        self.name = name
        self.handler = handler
        // The conformance's own answer first (no dynamic cast); the cast still decides when it
        // says nil, for a subclass that added a conformance its superclass lacked.
        self.inbound = handler._inboundEvents ?? (handler as? any _ChannelInboundEvents)
        self.outbound = handler._outboundEvents ?? (handler as? any _ChannelOutboundEvents)
        self.eventLoop = eventLoop
    }

    /// The pipeline this handler is (or was) in.
    public var pipeline: ChannelPipeline { _pipeline.unsafelyUnwrapped }

    /// The channel.
    public var channel: any Channel { pipeline.channel }

    // MARK: Inbound: towards the application

    /// Passes `data` to the next inbound handler.
    @inlinable
    public func fireChannelRead<T>(_ data: T) {
        _nextInbound?._withUnsafeGuaranteedRef { $0.invokeChannelRead(PipelineMessage(data)) }
    }

    @inlinable
    func invokeChannelRead(_ message: PipelineMessage) {
        inbound.unsafelyUnwrapped._channelRead(context: self, message: message)
    }

    /// Passes read-complete to the next inbound handler.
    @inlinable
    public func fireChannelReadComplete() {
        _nextInbound?._withUnsafeGuaranteedRef { $0.inbound.unsafelyUnwrapped.channelReadComplete(context: $0) }
    }

    /// Passes channel-active to the next inbound handler.
    public func fireChannelActive() {
        if let next = nextInbound { next.inbound.unsafelyUnwrapped.channelActive(context: next) }
    }

    /// Passes channel-inactive to the next inbound handler.
    public func fireChannelInactive() {
        if let next = nextInbound { next.inbound.unsafelyUnwrapped.channelInactive(context: next) }
    }

    /// Passes writability-changed to the next inbound handler.
    public func fireChannelWritabilityChanged() {
        if let next = nextInbound { next.inbound.unsafelyUnwrapped.channelWritabilityChanged(context: next) }
    }

    /// Passes a user event to the next inbound handler.
    public func fireUserInboundEventTriggered(_ event: Any) {
        if let next = nextInbound { next.inbound.unsafelyUnwrapped.userInboundEventTriggered(context: next, event: event) }
    }

    /// Passes an error to the next inbound handler.
    public func fireErrorCaught(_ error: any Error) {
        if let next = nextInbound { next.inbound.unsafelyUnwrapped.errorCaught(context: next, error: error) }
    }

    // MARK: Outbound: towards the socket

    /// Passes `data` to the next outbound handler; it is sent on the next `flush()`.
    @inlinable
    public func write<T>(_ data: T, promise: EventLoopPromise<Void>?) {
        if let prev = _prevOutbound {
            prev._withUnsafeGuaranteedRef {
                $0.outbound.unsafelyUnwrapped._write(context: $0, message: PipelineMessage(data), promise: promise)
            }
        } else {
            promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    /// Writes and flushes `data`; the future completes when it was handed to the socket.
    public func writeAndFlush<T>(_ data: T) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        write(data, promise: promise)
        flush()
        return promise.futureResult
    }

    /// Writes and flushes `data`.
    @inlinable
    public func writeAndFlush<T>(_ data: T, promise: EventLoopPromise<Void>?) {
        write(data, promise: promise)
        flush()
    }

    /// Asks the next outbound handler to send what was written.
    @inlinable
    public func flush() {
        _prevOutbound?._withUnsafeGuaranteedRef { $0.outbound.unsafelyUnwrapped.flush(context: $0) }
    }

    /// Asks for one more read (when `autoRead` is off).
    public func read() {
        if let prev = prevOutbound { prev.outbound.unsafelyUnwrapped.read(context: prev) }
    }

    /// Closes the channel, or one direction of it.
    public func close(mode: CloseMode = .all, promise: EventLoopPromise<Void>?) {
        if let prev = prevOutbound {
            prev.outbound.unsafelyUnwrapped.close(context: prev, mode: mode, promise: promise)
        } else {
            promise?.fail(ChannelError.alreadyClosed)
        }
    }

    /// Closes the channel, or one direction of it.
    @discardableResult
    public func close(mode: CloseMode = .all) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        close(mode: mode, promise: promise)
        return promise.futureResult
    }

    /// Passes a user event to the next outbound handler.
    public func triggerUserOutboundEvent(_ event: Any, promise: EventLoopPromise<Void>?) {
        if let prev = prevOutbound {
            prev.outbound.unsafelyUnwrapped.triggerUserOutboundEvent(context: prev, event: event, promise: promise)
        } else {
            promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }
}
