/// A channel without a socket, for testing handlers: feed inbound messages in, read what
/// comes out of either end, and drive timers with a manual clock.
///
/// ```swift
/// let channel = EmbeddedChannel(handlers: [ByteToMessageHandler(LineFrameDecoder())])
/// try channel.writeInbound(ByteBuffer(string: "one\ntw"))
/// let line = try channel.readInbound(as: ByteBuffer.self)     // "one"
/// channel.eventLoop.advanceTime(by: .seconds(1))               // fires due timers
/// _ = try channel.finish()
/// ```
// @unchecked Sendable: An embedded channel has no thread of its own: it runs on the thread of the
// test that drives it, and its loop reports every thread as its own, so it must be used from one
// thread (a test) at a time.
public final class EmbeddedChannel: Channel, ChannelCore, ClosableChannel, @unchecked Sendable {
    public let eventLoop: EventLoop
    public let pipeline: ChannelPipeline
    private let closePromise: EventLoopPromise<Void>
    private var state: State = .idle
    private var pendingWrites: [(PipelineMessage, EventLoopPromise<Void>?)] = []
    private var outbound: [PipelineMessage] = []
    private var inbound: [PipelineMessage] = []
    private var userEvents: [Any] = []
    private var caughtError: (any Error)?
    private var options: [ChannelOption] = []
    /// How many times `read()` reached the channel (for autoRead tests).
    public private(set) var readRequests = 0
    /// How many flushes reached the channel with writes pending (each a `write`/`sendto` on a
    /// socket): for tests of write coalescing.
    public private(set) var flushRequests = 0
    /// The modes of `close` requests that reached the channel, in order.
    public private(set) var closeRequests: [CloseMode] = []

    enum State { case idle, active, closed }

    /// A channel with `handlers`, active unless `active` is false.
    public init(handlers: [any ChannelHandler] = [], active: Bool = true, loop: EventLoop = .makeEmbedded()) {
        precondition(loop.isEmbedded, "EmbeddedChannel needs an embedded loop")
        self.eventLoop = loop
        self.closePromise = loop.makePromise(of: Void.self)
        self.pipeline = ChannelPipeline(eventLoop: loop, transport: EmbeddedChannel.self)
        pipeline.attach(channel: self, core: self)
        (pipeline.tail.handler as! TailHandler).sink = { [unowned self] event in
            switch event {
            case .read(let message): inbound.append(message)
            case .error(let error): if caughtError == nil { caughtError = error }
            case .userEvent(let event): userEvents.append(event)
            }
        }
        for handler in handlers {
            try! pipeline.addHandler(handler)
        }
        if active { activate() }
    }

    public var closeFuture: EventLoopFuture<Void> { closePromise.futureResult }
    public var isActive: Bool { state == .active }
    public var isWritable: Bool { state == .active }
    public var localAddress: SocketAddress? { nil }
    public var remoteAddress: SocketAddress? { nil }

    public func setOption(_ option: ChannelOption) -> EventLoopFuture<Void> {
        options.append(option)
        return eventLoop.makeSucceededFuture(())
    }

    /// Fires channelActive (if not yet active).
    public func activate() {
        guard state == .idle else { return }
        state = .active
        pipeline.head.fireChannelActive()
    }

    // MARK: Inbound

    /// Passes `data` in from the socket side (read + read complete), then rethrows the first
    /// error that reached the tail.
    public func writeInbound<T>(_ data: T) throws {
        guard state != .closed else { throw ChannelError.ioOnClosedChannel }
        pipeline.head.fireChannelRead(data)
        pipeline.head.fireChannelReadComplete()
        eventLoop.run()
        try throwIfErrorCaught()
    }

    /// The next message that reached the tail, as `T`; nil when there is none.
    /// - Throws: `EmbeddedChannelError.wrongType` when it is not a `T`.
    public func readInbound<T>(as type: T.Type = T.self) throws -> T? {
        try pop(&inbound, as: type)
    }

    /// User events that reached the tail, oldest first (and forgets them).
    public func readUserEvents() -> [Any] {
        defer { userEvents = [] }
        return userEvents
    }

    /// Rethrows (once) the first error that reached the tail.
    public func throwIfErrorCaught() throws {
        if let error = caughtError {
            caughtError = nil
            throw error
        }
    }

    // MARK: Outbound

    /// Writes and flushes `data` from the application side.
    public func writeOutbound<T>(_ data: T) throws {
        guard state != .closed else { throw ChannelError.ioOnClosedChannel }
        pipeline.tail.write(data, promise: nil)
        pipeline.tail.flush()
        eventLoop.run()
        try throwIfErrorCaught()
    }

    /// The next flushed message that reached the head, as `T`; nil when there is none.
    public func readOutbound<T>(as type: T.Type = T.self) throws -> T? {
        try pop(&outbound, as: type)
    }

    /// Closes the channel and returns whether anything was left unread at either end.
    @discardableResult
    public func finish() throws -> (inboundLeft: Bool, outboundLeft: Bool) {
        let left = (!inbound.isEmpty, !outbound.isEmpty || !pendingWrites.isEmpty)
        if state != .closed { closeNow(promise: nil) }
        eventLoop.run()
        try throwIfErrorCaught()
        return left
    }

    private func pop<T>(_ queue: inout [PipelineMessage], as type: T.Type) throws -> T? {
        guard !queue.isEmpty else { return nil }
        let message = queue[0]
        guard let value = message.tryUnwrap(as: T.self) else {
            throw EmbeddedChannelError.wrongType(expected: String(describing: T.self), actual: message.typeName)
        }
        queue.removeFirst()
        return value
    }

    // MARK: ChannelCore

    func coreWrite(_ message: PipelineMessage, promise: EventLoopPromise<Void>?) {
        guard state != .closed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        pendingWrites.append((message, promise))
    }

    func coreFlush() {
        let flushed = pendingWrites
        pendingWrites = []
        if !flushed.isEmpty { flushRequests += 1 }
        for (message, promise) in flushed {
            outbound.append(message)
            promise?.succeed(())
        }
    }

    func coreRead() { readRequests += 1 }

    func coreClose(mode: CloseMode, promise: EventLoopPromise<Void>?) {
        closeRequests.append(mode)
        guard state != .closed else {
            promise?.fail(ChannelError.alreadyClosed)
            return
        }
        if mode == .all {
            closeNow(promise: promise)
        } else {
            promise?.succeed(())
        }
    }

    func closeForShutdown() { closeNow(promise: nil) }

    private func closeNow(promise: EventLoopPromise<Void>?) {
        let wasActive = state == .active
        state = .closed
        for (_, pending) in pendingWrites { pending?.fail(ChannelError.ioOnClosedChannel) }
        pendingWrites = []
        promise?.succeed(())
        if wasActive { pipeline.head.fireChannelInactive() }
        pipeline.tearDown()
        closePromise.succeed(())
    }
}

/// Errors of `EmbeddedChannel`'s test helpers.
public enum EmbeddedChannelError: Error, Equatable, CustomStringConvertible {
    case wrongType(expected: String, actual: String)

    public var description: String {
        switch self {
        case .wrongType(let expected, let actual):
            return "EmbeddedChannelError.wrongType: expected \(expected), the next message is \(actual)"
        }
    }
}
