import Testing
@testable import Loop

// Handlers that record what they see in a shared log and tag messages with their name, so the
// order in which a message crossed the pipeline is visible in the message itself.

// @unchecked Sendable: written by handlers of an EmbeddedChannel and read by the same test, all on
// the test's thread.
private final class Log: @unchecked Sendable {
    var entries: [String] = []
    func add(_ entry: String) { entries.append(entry) }
}

/// Appends its tag to every String read, and logs events.
private final class InboundTagger: ChannelInboundHandler {
    typealias InboundIn = String
    let tag: String
    let log: Log

    init(_ tag: String, log: Log) {
        self.tag = tag
        self.log = log
    }

    func handlerAdded(context: ChannelHandlerContext) { log.add("\(tag) added as \(context.name)") }
    func handlerRemoved(context: ChannelHandlerContext) { log.add("\(tag) removed as \(context.name)") }

    func channelRead(context: ChannelHandlerContext, data: String) {
        context.fireChannelRead(data + tag)
    }
    func channelActive(context: ChannelHandlerContext) {
        log.add("\(tag) active")
        context.fireChannelActive()
    }
    func channelInactive(context: ChannelHandlerContext) {
        log.add("\(tag) inactive")
        context.fireChannelInactive()
    }
    func channelReadComplete(context: ChannelHandlerContext) {
        log.add("\(tag) readComplete")
        context.fireChannelReadComplete()
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        log.add("\(tag) event \(event)")
        context.fireUserInboundEventTriggered(event)
    }
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        log.add("\(tag) error \(error)")
        context.fireErrorCaught(error)
    }
}

/// Appends its tag to every String written, and logs operations.
private final class OutboundTagger: ChannelOutboundHandler {
    typealias OutboundIn = String
    let tag: String
    let log: Log

    init(_ tag: String, log: Log) {
        self.tag = tag
        self.log = log
    }

    func write(context: ChannelHandlerContext, data: String, promise: EventLoopPromise<Void>?) {
        context.write(data + tag, promise: promise)
    }
    func flush(context: ChannelHandlerContext) {
        log.add("\(tag) flush")
        context.flush()
    }
    func read(context: ChannelHandlerContext) {
        log.add("\(tag) read")
        context.read()
    }
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        log.add("\(tag) close \(mode)")
        context.close(mode: mode, promise: promise)
    }
}

/// Tags both directions.
private final class DuplexTagger: ChannelDuplexHandler {
    typealias InboundIn = String
    typealias OutboundIn = String
    let tag: String
    init(_ tag: String) { self.tag = tag }

    func channelRead(context: ChannelHandlerContext, data: String) { context.fireChannelRead(data + tag) }
    func write(context: ChannelHandlerContext, data: String, promise: EventLoopPromise<Void>?) {
        context.write(data + tag, promise: promise)
    }
}

/// Converts String to its length, to check typed hand-over between handlers.
private final class LengthDecoder: ChannelInboundHandler {
    typealias InboundIn = String
    typealias InboundOut = Int
    func channelRead(context: ChannelHandlerContext, data: String) { context.fireChannelRead(data.count) }
}

/// Removes itself from inside channelRead, after (or before) passing the message on.
private final class SelfRemovingHandler: ChannelInboundHandler {
    typealias InboundIn = String
    let removeBeforeForwarding: Bool
    let log: Log
    var reads = 0
    /// The context, without keeping it alive: events reach it unretained, so once removed
    /// the pipeline must keep it alive until its current event is done.
    weak var removedContext: ChannelHandlerContext?
    var contextAliveAfterRemoval = false

    init(removeBeforeForwarding: Bool, log: Log) {
        self.removeBeforeForwarding = removeBeforeForwarding
        self.log = log
    }

    func handlerRemoved(context: ChannelHandlerContext) { log.add("self-removing removed") }

    func channelRead(context: ChannelHandlerContext, data: String) {
        reads += 1
        removedContext = context
        if removeBeforeForwarding {
            try! context.pipeline.removeHandler(context: context)
            contextAliveAfterRemoval = removedContext != nil
            context.fireChannelRead(data + "!")
        } else {
            context.fireChannelRead(data + "!")
            try! context.pipeline.removeHandler(context: context)
            contextAliveAfterRemoval = removedContext != nil
        }
    }
}

/// On its first read, adds `handler` at `position` (relative to itself) and passes the read on.
private final class AddingHandler: ChannelInboundHandler {
    typealias InboundIn = String
    enum Where { case afterMe, first }
    let makeHandler: () -> any ChannelHandler
    let place: Where
    var added = false

    init(place: Where, _ makeHandler: @escaping () -> any ChannelHandler) {
        self.place = place
        self.makeHandler = makeHandler
    }

    func channelRead(context: ChannelHandlerContext, data: String) {
        if !added {
            added = true
            switch place {
            case .afterMe: try! context.pipeline.addHandler(makeHandler(), name: "added", position: .after(context))
            case .first: try! context.pipeline.addHandler(makeHandler(), name: "added", position: .first)
            }
        }
        context.fireChannelRead(data)
    }
}

private struct PipelineTestError: Error, Equatable, CustomStringConvertible {
    var description: String { "PipelineTestError" }
}

@Suite struct ChannelPipelineTests {
    // MARK: Ordering

    @Test func inboundEventsTravelHeadToTail() throws {
        let log = Log()
        let channel = EmbeddedChannel(handlers: [InboundTagger("A", log: log), InboundTagger("B", log: log),
                                                 InboundTagger("C", log: log)])
        try channel.writeInbound("x")
        #expect(try channel.readInbound(as: String.self) == "xABC")
        #expect(log.entries.filter { $0.hasSuffix("readComplete") } == ["A readComplete", "B readComplete", "C readComplete"])
    }

    @Test func outboundOperationsTravelTailToHead() throws {
        let log = Log()
        let channel = EmbeddedChannel(handlers: [OutboundTagger("A", log: log), OutboundTagger("B", log: log),
                                                 OutboundTagger("C", log: log)])
        try channel.writeOutbound("x")
        #expect(try channel.readOutbound(as: String.self) == "xCBA")
        #expect(log.entries == ["C flush", "B flush", "A flush"])
    }

    @Test func mixedHandlersOnlySeeTheirDirection() throws {
        let log = Log()
        let channel = EmbeddedChannel(handlers: [
            InboundTagger("i1", log: log), OutboundTagger("o1", log: log), DuplexTagger("d"),
            InboundTagger("i2", log: log), OutboundTagger("o2", log: log),
        ])
        try channel.writeInbound("in:")
        try channel.writeOutbound("out:")
        #expect(try channel.readInbound(as: String.self) == "in:i1di2")
        #expect(try channel.readOutbound(as: String.self) == "out:o2do1")
    }

    @Test func lifecycleAndUserEventsReachEveryInboundHandlerInOrder() throws {
        let log = Log()
        let channel = EmbeddedChannel(handlers: [InboundTagger("A", log: log), InboundTagger("B", log: log)], active: false)
        #expect(log.entries == ["A added as InboundTagger-1", "B added as InboundTagger-2"])
        log.entries = []
        channel.activate()
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        channel.pipeline.fireErrorCaught(PipelineTestError())
        #expect(log.entries == ["A active", "B active", "A event inputClosed", "B event inputClosed",
                                "A error PipelineTestError", "B error PipelineTestError"])
        #expect(channel.readUserEvents().compactMap { $0 as? ChannelEvent } == [.inputClosed])
        #expect(throws: PipelineTestError()) { try channel.throwIfErrorCaught() }
        log.entries = []
        try channel.finish()
        #expect(log.entries == ["A inactive", "B inactive", "A removed as InboundTagger-1", "B removed as InboundTagger-2"])
    }

    @Test func outboundReadAndCloseReachTheChannel() throws {
        let log = Log()
        let channel = EmbeddedChannel(handlers: [OutboundTagger("A", log: log)])
        channel.read()
        channel.read()
        #expect(channel.readRequests == 2)
        channel.close(mode: .output)
        #expect(channel.closeRequests == [.output])
        #expect(channel.isActive)
        #expect(log.entries == ["A read", "A read", "A close output"])
    }

    @Test func typedMessagesAreHandedOn() throws {
        let channel = EmbeddedChannel(handlers: [LengthDecoder()])
        try channel.writeInbound("four")
        #expect(try channel.readInbound(as: Int.self) == 4)
    }

    // MARK: Positions and names

    @Test func positionsPlaceHandlersExactly() throws {
        let log = Log()
        let channel = EmbeddedChannel()
        let pipeline = channel.pipeline
        try pipeline.addHandler(InboundTagger("B", log: log), name: "b")
        try pipeline.addHandler(InboundTagger("D", log: log), name: "d", position: .last)
        try pipeline.addHandler(InboundTagger("A", log: log), name: "a", position: .first)
        try pipeline.addHandler(InboundTagger("C", log: log), name: "c", position: .before(pipeline.context(name: "d")))
        try pipeline.addHandler(InboundTagger("E", log: log), name: "e", position: .after(pipeline.context(name: "d")))
        try pipeline.addHandler(InboundTagger("B2", log: log), name: "b2", position: .after(pipeline.context(name: "b")))
        try pipeline.addHandler(InboundTagger("A0", log: log), name: "a0", position: .before(pipeline.context(name: "a")))
        #expect(pipeline.handlerNames == ["a0", "a", "b", "b2", "c", "d", "e"])
        try channel.writeInbound("")
        #expect(try channel.readInbound(as: String.self) == "A0ABB2CDE")
    }

    @Test func duplicateNameIsRejectedAndThePipelineIsUnchanged() throws {
        let log = Log()
        let channel = EmbeddedChannel()
        try channel.pipeline.addHandler(InboundTagger("1", log: log), name: "codec")
        #expect(throws: PipelineError.duplicateName("codec")) {
            try channel.pipeline.addHandler(InboundTagger("2", log: log), name: "codec")
        }
        #expect(channel.pipeline.handlerNames == ["codec"])
        #expect(log.entries == ["1 added as codec"])
        #expect(PipelineError.duplicateName("codec").description
            == "PipelineError.duplicateName: a handler named 'codec' is already in the pipeline")
    }

    @Test func generatedNamesAreUniquePerPipeline() throws {
        let log = Log()
        let channel = EmbeddedChannel(handlers: [InboundTagger("a", log: log), LengthDecoder(), InboundTagger("b", log: log)])
        #expect(channel.pipeline.handlerNames == ["InboundTagger-1", "LengthDecoder-2", "InboundTagger-3"])
    }

    @Test func unknownNamesAndForeignContextsAreNotFound() throws {
        let log = Log()
        let channel = EmbeddedChannel(handlers: [InboundTagger("a", log: log)])
        let other = EmbeddedChannel(handlers: [InboundTagger("b", log: log)])
        let foreign = try other.pipeline.context(handlerType: InboundTagger.self)
        #expect(throws: PipelineError.notFound("missing")) { try channel.pipeline.removeHandler(name: "missing") }
        #expect(throws: PipelineError.notFound("missing")) { try channel.pipeline.context(name: "missing") }
        #expect(throws: PipelineError.notFound("LengthDecoder")) { try channel.pipeline.removeHandler(LengthDecoder()) }
        #expect(throws: PipelineError.notFound("LengthDecoder")) {
            try channel.pipeline.context(handlerType: LengthDecoder.self)
        }
        #expect(throws: PipelineError.notFound(foreign.name)) {
            try channel.pipeline.addHandler(LengthDecoder(), position: .after(foreign))
        }
        #expect(throws: PipelineError.notFound(foreign.name)) {
            try channel.pipeline.addHandler(LengthDecoder(), position: .before(foreign))
        }
        #expect(throws: PipelineError.notFound(foreign.name)) { try channel.pipeline.removeHandler(context: foreign) }
        #expect(channel.pipeline.handlerNames == ["InboundTagger-1"])
    }

    @Test func contextLookups() throws {
        let log = Log()
        let handler = InboundTagger("a", log: log)
        let channel = EmbeddedChannel()
        try channel.pipeline.addHandler(LengthDecoder(), name: "len")
        try channel.pipeline.addHandler(handler, name: "tagger")
        let byName = try channel.pipeline.context(name: "tagger")
        let byType = try channel.pipeline.context(handlerType: InboundTagger.self)
        #expect(byName === byType)
        #expect(byName.handler === handler)
        #expect(byName.name == "tagger")
        #expect(byName.pipeline === channel.pipeline)
        #expect(byName.channel === channel)
        #expect(byName.eventLoop === channel.eventLoop)
    }

    // MARK: Changing the pipeline at runtime

    @Test func removingHandlersBetweenMessages() throws {
        let log = Log()
        let b = InboundTagger("B", log: log)
        let channel = EmbeddedChannel()
        try channel.pipeline.addHandler(InboundTagger("A", log: log), name: "a")
        try channel.pipeline.addHandler(b, name: "b")
        try channel.pipeline.addHandler(InboundTagger("C", log: log), name: "c")
        try channel.writeInbound("1")
        try channel.pipeline.removeHandler(name: "a")
        try channel.writeInbound("2")
        try channel.pipeline.removeHandler(b)
        try channel.writeInbound("3")
        try channel.pipeline.removeHandler(context: channel.pipeline.context(name: "c"))
        try channel.writeInbound("4")
        #expect(try channel.readInbound(as: String.self) == "1ABC")
        #expect(try channel.readInbound(as: String.self) == "2BC")
        #expect(try channel.readInbound(as: String.self) == "3C")
        #expect(try channel.readInbound(as: String.self) == "4")
        #expect(channel.pipeline.handlerNames == [])
        #expect(log.entries.filter { $0.contains("removed") } == ["A removed as a", "B removed as b", "C removed as c"])
        // Removing twice: the second time it is not there.
        #expect(throws: PipelineError.notFound("b")) { try channel.pipeline.removeHandler(name: "b") }
    }

    @Test(arguments: [false, true])
    func handlerRemovesItselfInsideChannelRead(removeBeforeForwarding: Bool) throws {
        let log = Log()
        let remover = SelfRemovingHandler(removeBeforeForwarding: removeBeforeForwarding, log: log)
        let channel = EmbeddedChannel()
        try channel.pipeline.addHandler(InboundTagger("A", log: log), name: "a")
        try channel.pipeline.addHandler(remover, name: "remover")
        try channel.pipeline.addHandler(InboundTagger("C", log: log), name: "c")
        try channel.writeInbound("1")
        try channel.writeInbound("2")
        // The message that was being handled still reaches the rest of the pipeline; later
        // ones skip the removed handler.
        #expect(try channel.readInbound(as: String.self) == "1A!C")
        #expect(try channel.readInbound(as: String.self) == "2AC")
        #expect(remover.reads == 1)
        #expect(channel.pipeline.handlerNames == ["a", "c"])
        #expect(log.entries.filter { $0 == "self-removing removed" }.count == 1)
        // Alive while its event was still running (it was freed under the handler before),
        // and let go of once the loop's work is done: no leak.
        #expect(remover.contextAliveAfterRemoval)
        channel.eventLoop.run()
        #expect(remover.removedContext == nil)
    }

    @Test func handlerAddedAfterTheCurrentOneSeesTheCurrentMessage() throws {
        let log = Log()
        let channel = EmbeddedChannel()
        try channel.pipeline.addHandler(AddingHandler(place: .afterMe) { InboundTagger("N", log: log) }, name: "adder")
        try channel.pipeline.addHandler(InboundTagger("Z", log: log), name: "z")
        try channel.writeInbound("1")
        try channel.writeInbound("2")
        #expect(try channel.readInbound(as: String.self) == "1NZ")
        #expect(try channel.readInbound(as: String.self) == "2NZ")
        #expect(channel.pipeline.handlerNames == ["adder", "added", "z"])
        #expect(log.entries.filter { $0.contains("added") } == ["Z added as z", "N added as added"])
    }

    @Test func handlerAddedBeforeTheCurrentOneSeesOnlyLaterMessages() throws {
        let log = Log()
        let channel = EmbeddedChannel()
        try channel.pipeline.addHandler(AddingHandler(place: .first) { InboundTagger("F", log: log) }, name: "adder")
        try channel.writeInbound("1")
        try channel.writeInbound("2")
        #expect(try channel.readInbound(as: String.self) == "1")
        #expect(try channel.readInbound(as: String.self) == "2F")
        #expect(channel.pipeline.handlerNames == ["added", "adder"])
    }

    @Test func addingAndRemovingOutboundHandlersAtRuntime() throws {
        let log = Log()
        let channel = EmbeddedChannel(handlers: [OutboundTagger("A", log: log)])
        try channel.writeOutbound("1")
        try channel.pipeline.addHandler(OutboundTagger("B", log: log), name: "b", position: .first)
        try channel.writeOutbound("2")
        try channel.pipeline.removeHandler(name: "b")
        try channel.writeOutbound("3")
        #expect(try channel.readOutbound(as: String.self) == "1A")
        #expect(try channel.readOutbound(as: String.self) == "2AB")
        #expect(try channel.readOutbound(as: String.self) == "3A")
    }

    @Test func closedPipelineTakesNoHandlers() throws {
        let log = Log()
        let channel = EmbeddedChannel(handlers: [InboundTagger("A", log: log)])
        try channel.finish()
        #expect(throws: PipelineError.closed) { try channel.pipeline.addHandler(LengthDecoder()) }
        #expect(throws: PipelineError.notFound("InboundTagger-1")) {
            try channel.pipeline.removeHandler(name: "InboundTagger-1")
        }
        #expect(log.entries.last == "A removed as InboundTagger-1")
    }

    @Test func userOutboundEventReachingTheHeadFails() throws {
        let channel = EmbeddedChannel(handlers: [LengthDecoder()])
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let outcome = Locked<Result<Void, any Error>?>(nil)
        promise.futureResult.whenComplete { result in outcome.mutate { $0 = result } }
        try channel.pipeline.context(handlerType: LengthDecoder.self).triggerUserOutboundEvent("custom", promise: promise)
        #expect(throws: ChannelError.operationUnsupported("user outbound event String reached the head of the pipeline")) {
            try outcome.value?.get()
        }
        #expect(outcome.value != nil)
    }
}
