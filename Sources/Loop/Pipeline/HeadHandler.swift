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

/// The pipeline's tail: where inbound events no handler consumed end.
final class TailHandler: _ChannelInboundEvents {
    func _channelRead(context: ChannelHandlerContext, message: PipelineMessage) {}
    func channelActive(context: ChannelHandlerContext) {}
    func channelInactive(context: ChannelHandlerContext) {}
    func channelReadComplete(context: ChannelHandlerContext) {}
    func channelWritabilityChanged(context: ChannelHandlerContext) {}
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {}
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // No handler dealt with it: the error is dropped, as the channel already acted on it.
    }
}
