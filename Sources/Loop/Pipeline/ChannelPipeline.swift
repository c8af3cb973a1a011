/// The ordered handlers of one channel. Inbound events travel from the head (the socket)
/// to the tail; outbound operations from the tail to the head.
///
/// Change the pipeline on the channel's loop (in a channel initializer, or from a handler);
/// handlers may add or remove handlers, themselves included, while handling an event.
///
/// ```swift
/// try channel.pipeline.addHandler(LineFrameDecoder(maximumLength: 1024))
/// try channel.pipeline.addHandler(ChatHandler(), name: "chat")
/// try channel.pipeline.removeHandler(name: "chat")
/// ```
// @unchecked Sendable: Every public operation runs on the channel's loop: events and writes hop
// there from other threads, the async overloads hop and await, and the synchronous changes trap off
// the loop.
public final class ChannelPipeline: @unchecked Sendable {
    /// The channel's event loop.
    public let eventLoop: EventLoop
    /// The channel owns the pipeline; this reference back is dropped when the channel closes
    /// (`tearDown`), which breaks the cycle. (A weak reference would give every channel a
    /// refcount side table and slow each retain and release on the hot path.) Read on every
    /// `context.channel`: no dynamic exclusivity check (set once, cleared at teardown).
    @exclusivity(unchecked) private var _channel: (any Channel)?
    @usableFromInline let head: ChannelHandlerContext
    @usableFromInline let tail: ChannelHandlerContext
    private let headHandler: any HeadHandlerAttaching
    private var nameCounter = 0

    /// Where to insert a handler.
    public enum Position {
        case first
        case last
        case before(ChannelHandlerContext)
        case after(ChannelHandlerContext)
    }

    /// A pipeline for a channel under construction, whose transport is a `Core`; `attach`
    /// completes it.
    init<Core: ChannelCore>(eventLoop: EventLoop, transport: Core.Type) {
        self.eventLoop = eventLoop
        let headHandler = HeadHandler<Core>()
        self.headHandler = headHandler
        head = ChannelHandlerContext(name: "head", handler: headHandler, eventLoop: eventLoop)
        tail = ChannelHandlerContext(name: "tail", handler: TailHandler(), eventLoop: eventLoop)
        head._pipeline = self
        tail._pipeline = self
        head.next = tail
        tail.prev = head
        relink()
    }

    /// Connects the pipeline to its channel and the transport its head writes to.
    func attach(channel: any Channel, core: any ChannelCore) {
        _channel = channel
        headHandler.attach(core)
    }

    /// The channel; traps if it no longer exists.
    public var channel: any Channel {
        guard let channel = _channel else { preconditionFailure("the channel of this pipeline no longer exists") }
        return channel
    }

    // MARK: Changing the pipeline

    /// Adds `handler`. Must be called on the channel's loop.
    /// - Throws: `PipelineError.duplicateName`, `.notFound` for a position's context that is
    ///   not in this pipeline, `.closed` once the channel has closed.
    public func addHandler(_ handler: any ChannelHandler, name: String? = nil, position: Position = .last) throws {
        precondition(
            eventLoop.inEventLoop,
            "ChannelPipeline.addHandler must be called on the channel's event loop; from async code, `try await` it"
        )
        guard head.next != nil else { throw PipelineError.closed }
        let name = name ?? makeName(for: handler)
        if contextIfPresent(name: name) != nil { throw PipelineError.duplicateName(name) }
        let context = ChannelHandlerContext(name: name, handler: handler, eventLoop: eventLoop)
        context._pipeline = self
        let after: ChannelHandlerContext
        switch position {
        case .first: after = head
        case .last: after = tail.prev!
        case .after(let anchor):
            guard contains(anchor) else { throw PipelineError.notFound(anchor.name) }
            after = anchor
        case .before(let anchor):
            guard contains(anchor), let before = anchor.prev else { throw PipelineError.notFound(anchor.name) }
            after = before
        }
        let following = after.next!
        context.prev = after
        context.next = following
        after.next = context
        following.prev = context
        relink()
        handler.handlerAdded(context: context)
    }

    /// Adds handlers in order. Must be called on the channel's loop.
    public func addHandlers(_ handlers: [any ChannelHandler]) throws {
        for handler in handlers { try addHandler(handler) }
    }

    /// Removes the handler named `name`. Must be called on the channel's loop.
    public func removeHandler(name: String) throws {
        guard let context = contextIfPresent(name: name) else { throw PipelineError.notFound(name) }
        remove(context)
    }

    /// Removes `handler`. Must be called on the channel's loop.
    public func removeHandler(_ handler: any ChannelHandler) throws {
        guard let context = contextIfPresent(handler: handler) else {
            throw PipelineError.notFound(String(describing: type(of: handler)))
        }
        remove(context)
    }

    /// Removes the handler of `context`. Must be called on the channel's loop.
    public func removeHandler(context: ChannelHandlerContext) throws {
        guard contains(context) else { throw PipelineError.notFound(context.name) }
        remove(context)
    }

    // MARK: Changing the pipeline from async code, on any thread

    /// Adds `handler` from async code: runs on the channel's loop (hopping there if needed).
    ///
    /// ```swift
    /// let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: 9999).get()
    /// try await channel.pipeline.addHandler(LineFrameDecoder(maximumLength: 1024))
    /// ```
    /// - Throws: what the on-loop `addHandler` throws.
    public func addHandler(
        _ handler: sending any ChannelHandler,
        name: String? = nil,
        position: sending Position = .last
    ) async throws {
        // `sending`: the caller gave up the handler and the position, so handing them to the
        // loop cannot race (the compiler does not carry that through the hop's closure).
        let transfer = UncheckedTransfer((handler, position))
        try await onLoopThrowing(eventLoop) {
            try self.addHandler(transfer.value.0, name: name, position: transfer.value.1)
        }
    }

    /// Adds handlers in order from async code, on the channel's loop.
    public func addHandlers(_ handlers: sending [any ChannelHandler]) async throws {
        let transfer = UncheckedTransfer(handlers)  // `sending`, as in addHandler above
        try await onLoopThrowing(eventLoop) { try self.addHandlers(transfer.value) }
    }

    /// Removes the handler named `name` from async code, on the channel's loop.
    public func removeHandler(name: String) async throws {
        try await onLoopThrowing(eventLoop) { try self.removeHandler(name: name) }
    }

    /// The names of the handlers, head to tail, read on the channel's loop from async code.
    public func currentHandlerNames() async -> [String] {
        await onLoop(eventLoop) { self.handlerNames }
    }

    /// The context of the handler named `name`.
    public func context(name: String) throws -> ChannelHandlerContext {
        guard let context = contextIfPresent(name: name) else { throw PipelineError.notFound(name) }
        return context
    }

    /// The context of the first handler of type `type`.
    public func context<H: ChannelHandler>(handlerType type: H.Type) throws -> ChannelHandlerContext {
        var current = head.next
        while let context = current, context !== tail {
            if context.handler is H { return context }
            current = context.next
        }
        throw PipelineError.notFound(String(describing: H.self))
    }

    /// The names of the handlers, head to tail.
    public var handlerNames: [String] {
        precondition(
            eventLoop.inEventLoop,
            "read the pipeline on the channel's event loop; from async code, `await pipeline.currentHandlerNames()`"
        )
        var names: [String] = []
        var current = head.next
        while let context = current, context !== tail {
            names.append(context.name)
            current = context.next
        }
        return names
    }

    private func remove(_ context: ChannelHandlerContext) {
        precondition(
            eventLoop.inEventLoop,
            "ChannelPipeline.removeHandler must be called on the channel's event loop; from async code, `try await` it"
        )
        guard !context.isRemoved, let before = context.prev, let after = context.next else { return }
        // Events reach a context without retaining it (unowned shortcuts), and a handler may
        // remove itself from inside one of its own events: the pipeline's links were its only
        // owners, so it is kept alive until the loop's current work is done.
        retireAfterCurrentWork([context])
        before.next = after
        after.prev = before
        context.isRemoved = true
        context.removedTargets = (context.nextInbound, context.prevOutbound)
        // The removed context keeps its own links, so an event it is still passing on goes on.
        relink()
        context.handler.handlerRemoved(context: context)
    }

    /// Removes every handler (after the channel closed) and breaks the reference cycles.
    func tearDown() {
        var current = head.next
        var removed: [ChannelHandlerContext] = []
        while let context = current, context !== tail {
            removed.append(context)
            current = context.next
        }
        for context in removed {
            context.isRemoved = true
            context.handler.handlerRemoved(context: context)
        }
        // The channel may close from inside a handler's event (a handler closing on a bad
        // read): that handler's context still runs when the links are cut.
        retireAfterCurrentWork(removed)
        for context in removed + [head, tail] {
            context.next = nil
            context.prev = nil
            context.nextInbound = nil
            context.prevOutbound = nil
            context.removedTargets = (nil, nil)
        }
        _channel = nil
    }

    /// Keeps `contexts` alive until the loop has finished what it is running now (a job
    /// queued behind it lets go of them).
    private func retireAfterCurrentWork(_ contexts: [ChannelHandlerContext]) {
        guard !contexts.isEmpty else { return }
        eventLoop.executeOnLoop { withExtendedLifetime(contexts) {} }
    }

    private func contains(_ context: ChannelHandlerContext) -> Bool {
        var current = head.next
        while let candidate = current, candidate !== tail {
            if candidate === context { return true }
            current = candidate.next
        }
        return false
    }

    private func contextIfPresent(name: String) -> ChannelHandlerContext? {
        var current = head.next
        while let context = current, context !== tail {
            if context.name == name { return context }
            current = context.next
        }
        return nil
    }

    private func contextIfPresent(handler: any ChannelHandler) -> ChannelHandlerContext? {
        var current = head.next
        while let context = current, context !== tail {
            if context.handler === handler { return context }
            current = context.next
        }
        return nil
    }

    private func makeName(for handler: any ChannelHandler) -> String {
        nameCounter += 1
        return "\(type(of: handler))-\(nameCounter)"
    }

    /// Recomputes each context's nearest inbound successor and outbound predecessor.
    /// Walks unretained: the pipeline's `next`/`prev` links own every context for the walk's
    /// length, and a strong cursor cost a retain and a release per context per pass (adding
    /// or removing a handler relinks; a one-port connection does it three times).
    private func relink() {
        let tail = Unmanaged.passUnretained(self.tail)
        let head = Unmanaged.passUnretained(self.head)
        var lastOutbound = head
        var cursor = head._withUnsafeGuaranteedRef { $0.next.map(Unmanaged.passUnretained) }
        while let current = cursor {
            cursor = current._withUnsafeGuaranteedRef { context in
                context._prevOutbound = lastOutbound
                if context.outbound != nil && current.toOpaque() != tail.toOpaque() { lastOutbound = current }
                return context.next.map(Unmanaged.passUnretained)
            }
        }
        var nextInbound = tail
        cursor = tail._withUnsafeGuaranteedRef { $0.prev.map(Unmanaged.passUnretained) }
        while let current = cursor {
            cursor = current._withUnsafeGuaranteedRef { context in
                context._nextInbound = nextInbound
                if context.inbound != nil && current.toOpaque() != head.toOpaque() { nextInbound = current }
                return context.prev.map(Unmanaged.passUnretained)
            }
        }
    }

    // MARK: Events from the channel
    //
    // On the channel's loop these run at once; from any other thread they hop to the loop
    // (which is why the values they carry are Sendable). The channel itself fires from the
    // head directly, on its loop, without the check.

    /// Fires channel-active from the head.
    public func fireChannelActive() {
        if eventLoop.inEventLoop { head.fireChannelActive() } else { eventLoop.execute { self.head.fireChannelActive() } }
    }

    /// Fires channel-inactive from the head.
    public func fireChannelInactive() {
        if eventLoop.inEventLoop { head.fireChannelInactive() } else { eventLoop.execute { self.head.fireChannelInactive() } }
    }

    /// Fires a read of `data` from the head.
    @inlinable public func fireChannelRead<T: Sendable>(_ data: T) {
        if eventLoop.inEventLoop { head.fireChannelRead(data) } else { eventLoop.execute { self.head.fireChannelRead(data) } }
    }

    /// Fires read-complete from the head.
    @inlinable public func fireChannelReadComplete() {
        if eventLoop.inEventLoop {
            head.fireChannelReadComplete()
        } else {
            eventLoop.execute { self.head.fireChannelReadComplete() }
        }
    }

    /// Fires writability-changed from the head.
    public func fireChannelWritabilityChanged() {
        if eventLoop.inEventLoop {
            head.fireChannelWritabilityChanged()
        } else {
            eventLoop.execute { self.head.fireChannelWritabilityChanged() }
        }
    }

    /// Fires a user event from the head.
    public func fireUserInboundEventTriggered(_ event: any Sendable) {
        if eventLoop.inEventLoop {
            head.fireUserInboundEventTriggered(event)
        } else {
            eventLoop.execute { self.head.fireUserInboundEventTriggered(event) }
        }
    }

    /// Fires an error from the head.
    public func fireErrorCaught(_ error: any Error) {
        if eventLoop.inEventLoop { head.fireErrorCaught(error) } else { eventLoop.execute { self.head.fireErrorCaught(error) } }
    }

    // MARK: Operations from the application (start at the tail; hop to the loop like the events)

    /// Writes `data` through every outbound handler.
    @inlinable public func write<T: Sendable>(_ data: T, promise: EventLoopPromise<Void>?) {
        if eventLoop.inEventLoop {
            tail.write(data, promise: promise)
        } else {
            eventLoop.execute { self.tail.write(data, promise: promise) }
        }
    }

    /// Flushes through every outbound handler.
    @inlinable public func flush() {
        if eventLoop.inEventLoop { tail.flush() } else { eventLoop.execute { self.tail.flush() } }
    }

    /// Asks for a read.
    public func read() {
        if eventLoop.inEventLoop { tail.read() } else { eventLoop.execute { self.tail.read() } }
    }

    /// Closes the channel or one direction of it.
    public func close(mode: CloseMode = .all, promise: EventLoopPromise<Void>?) {
        if eventLoop.inEventLoop {
            tail.close(mode: mode, promise: promise)
        } else {
            eventLoop.execute { self.tail.close(mode: mode, promise: promise) }
        }
    }
}

/// Errors from changing a pipeline.
public enum PipelineError: Error, Equatable, CustomStringConvertible {
    case duplicateName(String)
    case notFound(String)
    case closed

    public var description: String {
        switch self {
        case .duplicateName(let name): return "PipelineError.duplicateName: a handler named '\(name)' is already in the pipeline"
        case .notFound(let name): return "PipelineError.notFound: no handler '\(name)' in the pipeline"
        case .closed: return "PipelineError.closed: the channel has closed; its pipeline takes no handlers"
        }
    }
}
