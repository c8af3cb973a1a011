import NIOCore
import NIOHPACK
import NIOHTTP2

/// One per stream (an HTTP2StreamChannel): answers the request once its HEADERS arrive
/// (request bodies are read and ignored).
final class DemoStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private static let textHead: HPACKHeaders = [":status": "200", "content-type": "text/plain"]
    private static let helloBytes = Array("Hello, world!".utf8)
    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .headers(let request) = self.unwrapInboundIn(data), !answered else { return }
        answered = true
        let path = request.headers.first(name: ":path") ?? ""
        let method = request.headers.first(name: ":method") ?? ""
        switch (method, path) {
        case ("GET", "/hello"):
            respondHello(context: context)
        case ("GET", _) where path.hasPrefix("/delay/"):
            guard let milliseconds = Int(path.dropFirst("/delay/".count)), (0...60_000).contains(milliseconds) else {
                respond(context: context, status: "400", text: "delay must be 0...60000 ms\n")
                return
            }
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(Int64(milliseconds))) {
                let (handler, context) = loopBound.value
                handler.respondHello(context: context)
            }
        case ("GET", _) where path.hasPrefix("/echo-size/"):
            guard let size = Int(path.dropFirst("/echo-size/".count)), size >= 0, size <= 1 << 30 else {
                respond(context: context, status: "400", text: "size must be 0...1073741824\n")
                return
            }
            let head: HPACKHeaders = [":status": "200", "content-length": String(size)]
            context.write(wrapOutboundOut(.headers(.init(headers: head, endStream: size == 0))), promise: nil)
            if size > 0 {
                var body = context.channel.allocator.buffer(capacity: size)
                body.writeRepeatingByte(UInt8(ascii: "x"), count: size)
                context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(body), endStream: true))), promise: nil)
            }
            context.flush()
        default:
            respond(context: context, status: "404", text: "no route for \(method) \(path)\n")
        }
    }

    private func respondHello(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.headers(.init(headers: Self.textHead))), promise: nil)
        var body = context.channel.allocator.buffer(capacity: Self.helloBytes.count)
        body.writeBytes(Self.helloBytes)
        context.writeAndFlush(wrapOutboundOut(.data(.init(data: .byteBuffer(body), endStream: true))), promise: nil)
    }

    private func respond(context: ChannelHandlerContext, status: String, text: String) {
        let head: HPACKHeaders = [":status": status, "content-type": "text/plain"]
        context.write(wrapOutboundOut(.headers(.init(headers: head))), promise: nil)
        let body = context.channel.allocator.buffer(string: text)
        context.writeAndFlush(wrapOutboundOut(.data(.init(data: .byteBuffer(body), endStream: true))), promise: nil)
    }
}
