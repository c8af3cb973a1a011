/// The pipeline's head: hands outbound operations to the channel's transport.
///
/// Generic over the transport so that calls reach it through an unmanaged reference,
/// without a retain and release per message.
final class HeadHandler<Core: ChannelCore>: _ChannelOutboundEvents, HeadHandlerAttaching {
    // The channel owns the pipeline, which owns this handler: the channel outlives it.
    // Set once by `ChannelPipeline.attach`, before any event.
    private var core: Unmanaged<Core>?

    func attach(_ transport: any ChannelCore) {
        core = Unmanaged.passUnretained(transport as! Core)
    }

    func _write(context: ChannelHandlerContext, message: PipelineMessage, promise: EventLoopPromise<Void>?) {
        core.unsafelyUnwrapped._withUnsafeGuaranteedRef { $0.coreWrite(message, promise: promise) }
    }
    func flush(context: ChannelHandlerContext) {
        core.unsafelyUnwrapped._withUnsafeGuaranteedRef { $0.coreFlush() }
    }
    func read(context: ChannelHandlerContext) {
        core.unsafelyUnwrapped._withUnsafeGuaranteedRef { $0.coreRead() }
    }
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        core.unsafelyUnwrapped._withUnsafeGuaranteedRef { $0.coreClose(mode: mode, promise: promise) }
    }
    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        promise?.fail(ChannelError.operationUnsupported("user outbound event \(type(of: event)) reached the head of the pipeline"))
    }
}

/// Connects a head handler to its transport, whatever the transport's type.
protocol HeadHandlerAttaching: AnyObject {
    func attach(_ transport: any ChannelCore)
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
