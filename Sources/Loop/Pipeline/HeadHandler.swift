/// The pipeline's head: hands outbound operations to the channel's transport.
final class HeadHandler: _ChannelOutboundEvents {
    // The channel owns the pipeline, which owns this handler: the channel outlives it.
    unowned(unsafe) let core: any ChannelCore

    init(core: any ChannelCore) { self.core = core }

    func _write(context: ChannelHandlerContext, message: PipelineMessage, promise: EventLoopPromise<Void>?) {
        core.coreWrite(message, promise: promise)
    }
    func flush(context: ChannelHandlerContext) { core.coreFlush() }
    func read(context: ChannelHandlerContext) { core.coreRead() }
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        core.coreClose(mode: mode, promise: promise)
    }
    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        promise?.fail(ChannelError.operationUnsupported("user outbound event \(type(of: event)) reached the head of the pipeline"))
    }
}

/// The pipeline's tail: where inbound events no handler consumed end. An embedded channel
/// listens here to record them; a socket channel drops them (the channel itself already
/// acted on errors it raised).
final class TailHandler: _ChannelInboundEvents {
    enum Event {
        case read(PipelineMessage)
        case error(any Error)
        case userEvent(Any)
    }

    var sink: ((Event) -> Void)?

    func _channelRead(context: ChannelHandlerContext, message: PipelineMessage) { sink?(.read(message)) }
    func channelActive(context: ChannelHandlerContext) {}
    func channelInactive(context: ChannelHandlerContext) {}
    func channelReadComplete(context: ChannelHandlerContext) {}
    func channelWritabilityChanged(context: ChannelHandlerContext) {}
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) { sink?(.userEvent(event)) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { sink?(.error(error)) }
}
