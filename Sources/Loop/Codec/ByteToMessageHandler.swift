/// Accumulates inbound bytes and passes on each message its decoder finds.
///
/// A single read that holds whole messages is decoded in place (messages may be slices of
/// the read buffer); only a message split across reads is copied into an accumulation
/// buffer. After a decoding error the handler passes the error on, drops what it holds and
/// ignores further input.
public final class ByteToMessageHandler<Decoder: ByteToMessageDecoder>: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = Decoder.InboundOut

    private var decoder: Decoder
    private var accumulated: ByteBuffer?
    private var failed = false
    private var finished = false

    public init(_ decoder: Decoder) {
        self.decoder = decoder
    }

    public func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        guard !failed, !finished else { return }
        if accumulated == nil {
            accumulated = data
        } else {
            var data = data
            accumulated!.writeBuffer(&data)
        }
        decodeLoop(context: context, last: false)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        finish(context: context)
        context.fireChannelInactive()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            finish(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func finish(context: ChannelHandlerContext) {
        guard !failed, !finished else { return }
        finished = true
        if accumulated == nil { accumulated = ByteBuffer(capacity: 0) }
        decodeLoop(context: context, last: true)
    }

    private func decodeLoop(context: ChannelHandlerContext, last: Bool) {
        while var buffer = accumulated {
            // Hand the decoder the only reference, so it can consume without copying.
            accumulated = nil
            let message: Decoder.InboundOut?
            do {
                message = last ? try decoder.decodeLast(buffer: &buffer) : try decoder.decode(buffer: &buffer)
            } catch {
                failed = true
                context.fireErrorCaught(error)
                return
            }
            if buffer.readableBytes > 0 {
                // Reclaim consumed space once it outweighs what is left.
                if buffer.readerIndex > 4096 && buffer.readerIndex > buffer.readableBytes { buffer.discardReadBytes() }
                accumulated = buffer
            }
            guard let message else { return }
            context.fireChannelRead(message)
            if failed || context.isRemoved { return }
        }
    }
}
