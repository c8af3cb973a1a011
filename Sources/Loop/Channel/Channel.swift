/// A connection (or a listening socket) with its pipeline, on one event loop.
///
/// ```swift
/// let channel = try await ClientBootstrap(group: group)
///     .channelInitializer { channel in try channel.pipeline.addHandler(PrintHandler()) }
///     .connect(host: "127.0.0.1", port: 9999).get()
/// try await channel.writeAndFlush(ByteBuffer(string: "hello\n")).get()
/// try await channel.close().get()
/// ```
public protocol Channel: AnyObject, Sendable {
    /// The loop this channel lives on.
    var eventLoop: EventLoop { get }
    /// The channel's handlers.
    var pipeline: ChannelPipeline { get }
    /// The local address, once bound.
    var localAddress: SocketAddress? { get }
    /// The peer's address, for connected channels.
    var remoteAddress: SocketAddress? { get }
    /// Completes when the channel has closed.
    var closeFuture: EventLoopFuture<Void> { get }
    /// True while the channel is connected (or listening) and not closed.
    var isActive: Bool { get }
    /// False while more bytes are queued than the high water mark allows.
    var isWritable: Bool { get }
    /// Changes an option; takes effect on the loop.
    func setOption(_ option: ChannelOption) -> EventLoopFuture<Void>
}

extension Channel {
    // Each of these runs at once on the channel's loop and hops there from any other thread
    // (ChannelPipeline's operations do the check).

    /// Writes `data` through the pipeline (from the tail); sent on the next flush.
    @inlinable
    public func write<T: Sendable>(_ data: T, promise: EventLoopPromise<Void>? = nil) {
        pipeline.write(data, promise: promise)
    }

    /// Sends what was written.
    @inlinable
    public func flush() {
        pipeline.flush()
    }

    /// Writes and flushes `data`; the future completes when the socket took it.
    @discardableResult
    public func writeAndFlush<T: Sendable>(_ data: T) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        let pipeline = self.pipeline
        if eventLoop.inEventLoop {
            pipeline.tail.write(data, promise: promise)
            pipeline.tail.flush()
        } else {
            eventLoop.execute {
                pipeline.tail.write(data, promise: promise)
                pipeline.tail.flush()
            }
        }
        return promise.futureResult
    }

    /// Asks for one read (when `autoRead` is off).
    public func read() {
        pipeline.read()
    }

    /// Closes the channel, or one direction of it.
    @discardableResult
    public func close(mode: CloseMode = .all) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        pipeline.close(mode: mode, promise: promise)
        return promise.futureResult
    }
}

/// What the pipeline's head calls to reach the transport.
protocol ChannelCore: AnyObject {
    func coreWrite(_ message: PipelineMessage, promise: EventLoopPromise<Void>?)
    func coreFlush()
    func coreRead()
    func coreClose(mode: CloseMode, promise: EventLoopPromise<Void>?)
}

/// A channel its loop can close at shutdown.
protocol ClosableChannel: AnyObject {
    func closeForShutdown()
}
