/// Something in a channel's pipeline. Handlers are loop-bound: all their methods run on the
/// channel's event loop.
public protocol ChannelHandler: AnyObject {
    /// Called once the handler is in the pipeline.
    func handlerAdded(context: ChannelHandlerContext)
    /// Called once the handler has left the pipeline (removed, or the channel closed).
    func handlerRemoved(context: ChannelHandlerContext)

    /// The handler as an inbound or outbound one, or nil: chosen when the type conforms (the
    /// defaults below), so adding a handler to a pipeline needs no dynamic cast when it says
    /// yes (each cast asked the runtime's conformance tables, several hundred instructions per
    /// new connection and handler). Not for implementing.
    var _inboundEvents: (any _ChannelInboundEvents)? { get }
    var _outboundEvents: (any _ChannelOutboundEvents)? { get }
}

extension ChannelHandler {
    @inlinable public func handlerAdded(context: ChannelHandlerContext) {}
    @inlinable public func handlerRemoved(context: ChannelHandlerContext) {}
    @inlinable public var _inboundEvents: (any _ChannelInboundEvents)? { nil }
    @inlinable public var _outboundEvents: (any _ChannelOutboundEvents)? { nil }
}

extension _ChannelInboundEvents {
    @inlinable public var _inboundEvents: (any _ChannelInboundEvents)? { self }
}

extension _ChannelOutboundEvents {
    @inlinable public var _outboundEvents: (any _ChannelOutboundEvents)? { self }
}

/// Inbound events without their typed message; implement ``ChannelInboundHandler`` instead.
public protocol _ChannelInboundEvents: ChannelHandler {
    func _channelRead(context: ChannelHandlerContext, message: PipelineMessage)
    func channelActive(context: ChannelHandlerContext)
    func channelInactive(context: ChannelHandlerContext)
    func channelReadComplete(context: ChannelHandlerContext)
    func channelWritabilityChanged(context: ChannelHandlerContext)
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any)
    func errorCaught(context: ChannelHandlerContext, error: any Error)
}

/// A handler for events travelling from the socket towards the application.
///
/// Every event has a default that passes it on to the next inbound handler.
///
/// ```swift
/// final class EchoHandler: ChannelInboundHandler {
///     typealias InboundIn = ByteBuffer
///     func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
///         context.write(data, promise: nil)
///     }
///     func channelReadComplete(context: ChannelHandlerContext) {
///         context.flush()
///     }
/// }
/// ```
public protocol ChannelInboundHandler: _ChannelInboundEvents {
    /// The type of message this handler reads.
    associatedtype InboundIn
    /// The type of message this handler passes on (informational).
    associatedtype InboundOut = InboundIn

    /// A message arrived.
    func channelRead(context: ChannelHandlerContext, data: InboundIn)
}

extension ChannelInboundHandler {
    @inlinable
    public func _channelRead(context: ChannelHandlerContext, message: PipelineMessage) {
        channelRead(context: context, data: message.unwrap(as: InboundIn.self, for: String(describing: Self.self)))
    }

    @inlinable public func channelRead(context: ChannelHandlerContext, data: InboundIn) {
        context.fireChannelRead(data)
    }
    @inlinable public func channelActive(context: ChannelHandlerContext) { context.fireChannelActive() }
    @inlinable public func channelInactive(context: ChannelHandlerContext) { context.fireChannelInactive() }
    @inlinable public func channelReadComplete(context: ChannelHandlerContext) { context.fireChannelReadComplete() }
    @inlinable public func channelWritabilityChanged(context: ChannelHandlerContext) {
        context.fireChannelWritabilityChanged()
    }
    @inlinable public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
    }
    @inlinable public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.fireErrorCaught(error)
    }
}

/// Outbound operations without their typed message; implement ``ChannelOutboundHandler``.
public protocol _ChannelOutboundEvents: ChannelHandler {
    func _write(context: ChannelHandlerContext, message: PipelineMessage, promise: EventLoopPromise<Void>?)
    func flush(context: ChannelHandlerContext)
    func read(context: ChannelHandlerContext)
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?)
    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?)
}

/// A handler for operations travelling from the application towards the socket.
///
/// ```swift
/// final class UppercaseHandler: ChannelOutboundHandler {
///     typealias OutboundIn = String
///     func write(context: ChannelHandlerContext, data: String, promise: EventLoopPromise<Void>?) {
///         context.write(ByteBuffer(string: data.uppercased()), promise: promise)
///     }
/// }
/// ```
public protocol ChannelOutboundHandler: _ChannelOutboundEvents {
    /// The type of message this handler is given to write.
    associatedtype OutboundIn
    /// The type of message it passes on towards the socket (informational).
    associatedtype OutboundOut = OutboundIn

    /// A message is to be written; pass `promise` on with what you write, or complete it.
    func write(context: ChannelHandlerContext, data: OutboundIn, promise: EventLoopPromise<Void>?)
}

extension ChannelOutboundHandler {
    @inlinable
    public func _write(context: ChannelHandlerContext, message: PipelineMessage, promise: EventLoopPromise<Void>?) {
        write(context: context, data: message.unwrap(as: OutboundIn.self, for: String(describing: Self.self)), promise: promise)
    }

    @inlinable public func write(context: ChannelHandlerContext, data: OutboundIn, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
    }
    @inlinable public func flush(context: ChannelHandlerContext) { context.flush() }
    @inlinable public func read(context: ChannelHandlerContext) { context.read() }
    @inlinable public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        context.close(mode: mode, promise: promise)
    }
    @inlinable public func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        context.triggerUserOutboundEvent(event, promise: promise)
    }
}

/// A handler for both directions.
public typealias ChannelDuplexHandler = ChannelInboundHandler & ChannelOutboundHandler

/// What `close` shuts.
public enum CloseMode: Sendable, Equatable {
    /// Both directions: the channel closes.
    case all
    /// Writing only (half-close): pending writes are sent, then the peer sees end-of-stream.
    case output
    /// Reading only: the channel stops reading.
    case input
}

/// Inbound user events the channel itself fires.
public enum ChannelEvent: Equatable, Sendable {
    /// The peer closed its writing side while ours stays open (needs `allowRemoteHalfClosure`).
    case inputClosed
    /// Our writing side was shut (`close(mode: .output)`) after pending writes were sent.
    case outputClosed
}
