import Loop

/// Collects the echoed bytes until as many arrived as were sent.
final class ReplyCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let expectedBytes: Int
    private let reply: EventLoopPromise<String>
    private var received = ByteBuffer()

    init(expectedBytes: Int, reply: EventLoopPromise<String>) {
        self.expectedBytes = expectedBytes
        self.reply = reply
    }

    func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        var data = data
        received.writeBuffer(&data)
        if received.readableBytes >= expectedBytes {
            reply.succeed(received.readString(length: received.readableBytes) ?? "")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        reply.fail(ChannelError.ioOnClosedChannel)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reply.fail(error)
        context.close(promise: nil)
    }
}
