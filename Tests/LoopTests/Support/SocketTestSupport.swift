import Testing
@testable import Loop

// Servers and clients on 127.0.0.1 for the socket tests, every wait bounded.

/// An echo server on `host`, port chosen by the kernel.
func startEchoServer(group: EventLoopGroup, host: String = "127.0.0.1") async throws -> any Channel {
    try await ServerBootstrap(group: group)
        .childChannelInitializer { channel in try channel.pipeline.addHandler(EchoTestHandler()) }
        .bind(host: host, port: 0)
        .get(within: .seconds(5), "bind")
}

/// A server whose accepted channels are recorded (in accept order) and set up by `initializer`.
func startRecordingServer(
    group: EventLoopGroup,
    accepted: Locked<[any Channel]>,
    serverOptions: [ChannelOption] = [],
    childOptions: [ChannelOption] = [],
    _ initializer: @escaping @Sendable (any Channel) throws -> Void = { _ in }
) async throws -> any Channel {
    var bootstrap = ServerBootstrap(group: group)
    for option in serverOptions { bootstrap = bootstrap.serverOption(option) }
    for option in childOptions { bootstrap = bootstrap.childOption(option) }
    return try await bootstrap
        .childChannelInitializer { channel in
            try initializer(channel)
            accepted.mutate { $0.append(channel) }
        }
        .bind(host: "127.0.0.1", port: 0)
        .get(within: .seconds(5), "bind")
}

/// A client connected to `address`.
func connect(
    group: EventLoopGroup,
    to address: SocketAddress,
    options: [ChannelOption] = [],
    _ initializer: @escaping @Sendable (any Channel) throws -> Void = { _ in }
) async throws -> any Channel {
    var bootstrap = ClientBootstrap(group: group)
    for option in options { bootstrap = bootstrap.channelOption(option) }
    return try await bootstrap
        .channelInitializer(initializer)
        .connect(to: address)
        .get(within: .seconds(5), "connect to \(address)")
}

/// The bound address of a listening channel.
func boundAddress(_ server: any Channel) throws -> SocketAddress {
    try #require(server.localAddress)
}

/// What a `RecordingHandler` saw: made by the test, filled on the loop.
struct Recorder: Sendable {
    let bytes = Locked<[UInt8]>([])
    let events = Locked<[String]>([])

    var text: String { String(decoding: bytes.value, as: UTF8.self) }
    var byteCount: Int { bytes.mutate { $0.count } }
}

/// Records inbound bytes and events of a channel into a `Recorder`.
final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let recorder: Recorder
    /// Optional reaction to a read-complete (runs on the loop).
    let onReadComplete: ((ChannelHandlerContext) -> Void)?

    init(_ recorder: Recorder, onReadComplete: ((ChannelHandlerContext) -> Void)? = nil) {
        self.recorder = recorder
        self.onReadComplete = onReadComplete
    }

    private func log(_ event: String) { recorder.events.append(event) }

    func channelActive(context: ChannelHandlerContext) {
        log("active")
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        log("inactive")
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        recorder.bytes.mutate { $0.append(contentsOf: data.readableBytesView) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        onReadComplete?(context)
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        log("writable \(context.channel.isWritable)")
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        log("event \(event)")
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        log("error \(error)")
        context.fireErrorCaught(error)
    }
}
