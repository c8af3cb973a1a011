import Loop

/// Prints every HTTP/2 frame going in and out, readably (like `nghttp -v`), for debugging
/// what peers and proxies do to a stream. Insert it between the socket and the HTTP/2
/// handler; bytes pass through unchanged.
///
/// ```swift
/// try channel.pipeline.addHandler(FrameLogger(role: .server))
/// try channel.pipeline.addHandler(HTTP2ConnectionHandler(configuration: configuration, delegate: streams))
/// // [127.0.0.1:50312] recv SETTINGS [MAX_CONCURRENT_STREAMS=100, INITIAL_WINDOW_SIZE=65535]
/// // [127.0.0.1:50312] send HEADERS stream=1 END_STREAM ...
/// ```
public final class FrameLogger: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundIn = ByteBuffer

    private var inbound: HTTP2FrameDecoder?
    private var outbound: HTTP2FrameDecoder?
    private let log: (String) -> Void
    private var label = ""

    /// `role` is the side of the connection this pipeline belongs to; `log` receives one
    /// line (or block) per frame.
    public init(role: HTTP2Configuration.Role, log: @escaping (String) -> Void = { print($0) }) {
        // A server receives the client preface; a client sends it.
        var inbound = HTTP2FrameDecoder(role: role == .server ? .server : .client, maxHeaderListSize: 1 << 24)
        var outbound = HTTP2FrameDecoder(role: role == .server ? .client : .server, maxHeaderListSize: 1 << 24)
        inbound.maxFrameSize = 16_777_215
        outbound.maxFrameSize = 16_777_215
        self.inbound = inbound
        self.outbound = outbound
        self.log = log
    }

    public func channelActive(context: ChannelHandlerContext) {
        label = context.channel.remoteAddress.map { "[\($0)] " } ?? ""
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        describe(data, direction: "recv", decoder: &inbound)
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: ByteBuffer, promise: EventLoopPromise<Void>?) {
        describe(data, direction: "send", decoder: &outbound)
        context.write(data, promise: promise)
    }

    private func describe(_ bytes: ByteBuffer, direction: String, decoder: inout HTTP2FrameDecoder?) {
        guard decoder != nil else { return }
        decoder!.append(bytes)
        do {
            while let frame = try decoder!.nextFrame() {
                log("\(label)\(direction) \(frame)")
            }
        } catch {
            log("\(label)\(direction) undecodable bytes: \(error); no more frames logged in this direction")
            decoder = nil
        }
    }
}
