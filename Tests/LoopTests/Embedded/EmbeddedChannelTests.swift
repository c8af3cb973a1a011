import Testing
@testable import Loop

private struct HandlerFailure: Error, Equatable { let step: String }

/// Fails with `HandlerFailure(step: "read")` when it reads "fail", passes the rest on.
private final class FailOnDemandHandler: ChannelInboundHandler {
    typealias InboundIn = String
    func channelRead(context: ChannelHandlerContext, data: String) {
        if data == "fail" {
            context.fireErrorCaught(HandlerFailure(step: "read"))
        } else {
            context.fireChannelRead(data)
        }
    }
}

/// Writes without flushing.
private final class HoldingHandler: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    func flush(context: ChannelHandlerContext) {}  // swallows flushes: writes stay pending
}

/// Fires "timeout" inbound one second after becoming active (on the channel's loop clock).
private final class IdleTimeoutHandler: ChannelInboundHandler {
    typealias InboundIn = String
    var scheduled: Scheduled<Void>?

    func channelActive(context: ChannelHandlerContext) {
        let bound = LoopBound(context, eventLoop: context.eventLoop)
        scheduled = context.eventLoop.scheduleTask(in: .seconds(1)) {
            bound.value.fireChannelRead("timeout")
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        scheduled?.cancel()
        context.fireChannelInactive()
    }
}

/// Records lifecycle calls.
private final class LifecycleRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let log: Locked<[String]>
    init(log: Locked<[String]>) { self.log = log }
    func channelActive(context: ChannelHandlerContext) { log.append("active"); context.fireChannelActive() }
    func channelInactive(context: ChannelHandlerContext) { log.append("inactive"); context.fireChannelInactive() }
    func handlerRemoved(context: ChannelHandlerContext) { log.append("removed") }
}

@Suite struct EmbeddedChannelTests {
    @Test func inboundMessagesComeOutInOrder() throws {
        let channel = EmbeddedChannel()
        try channel.writeInbound(ByteBuffer(string: "one"))
        try channel.writeInbound(ByteBuffer(string: "two"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "one"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "two"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
    }

    @Test func outboundMessagesComeOutInOrder() throws {
        let channel = EmbeddedChannel()
        try channel.writeOutbound(ByteBuffer(string: "one"))
        try channel.writeOutbound("two")
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "one"))
        #expect(try channel.readOutbound(as: String.self) == "two")
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    }

    @Test func readingTheWrongTypeThrowsAndKeepsTheMessage() throws {
        let channel = EmbeddedChannel()
        try channel.writeInbound("text")
        #expect(throws: EmbeddedChannelError.wrongType(expected: "ByteBuffer", actual: "String")) {
            try channel.readInbound(as: ByteBuffer.self)
        }
        #expect(try channel.readInbound(as: String.self) == "text")

        try channel.writeOutbound(ByteBuffer(string: "bytes"))
        #expect(throws: EmbeddedChannelError.wrongType(expected: "Int", actual: "ByteBuffer")) {
            try channel.readOutbound(as: Int.self)
        }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "bytes"))
        #expect(EmbeddedChannelError.wrongType(expected: "Int", actual: "ByteBuffer").description
            == "EmbeddedChannelError.wrongType: expected Int, the next message is ByteBuffer")
    }

    @Test func finishReportsWhatWasLeftAtEitherEnd() throws {
        let nothing = EmbeddedChannel()
        #expect(try nothing.finish() == (inboundLeft: false, outboundLeft: false))

        let inbound = EmbeddedChannel()
        try inbound.writeInbound(ByteBuffer(string: "left"))
        #expect(try inbound.finish() == (inboundLeft: true, outboundLeft: false))

        let outbound = EmbeddedChannel()
        try outbound.writeOutbound(ByteBuffer(string: "left"))
        #expect(try outbound.finish() == (inboundLeft: false, outboundLeft: true))

        let both = EmbeddedChannel()
        try both.writeInbound(1)
        try both.writeOutbound(2)
        #expect(try both.finish() == (inboundLeft: true, outboundLeft: true))

        let drained = EmbeddedChannel()
        try drained.writeInbound(1)
        try drained.writeOutbound(2)
        _ = try drained.readInbound(as: Int.self)
        _ = try drained.readOutbound(as: Int.self)
        #expect(try drained.finish() == (inboundLeft: false, outboundLeft: false))
    }

    @Test func unflushedWritesAreLeftoversAndFailOnFinish() throws {
        let channel = EmbeddedChannel(handlers: [HoldingHandler()])
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let outcome = Locked<Result<Void, any Error>?>(nil)
        promise.futureResult.whenComplete { result in outcome.mutate { $0 = result } }
        channel.write(ByteBuffer(string: "pending"), promise: promise)
        channel.flush()
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(outcome.value == nil)
        #expect(try channel.finish() == (inboundLeft: false, outboundLeft: true))
        #expect(throws: ChannelError.ioOnClosedChannel) { try outcome.value?.get() }
        #expect(outcome.value != nil)
    }

    @Test func flushedWritesSucceedTheirPromises() throws {
        let channel = EmbeddedChannel()
        let future = channel.writeAndFlush(ByteBuffer(string: "x"))
        let outcome = Locked<Bool>(false)
        future.whenSuccess { outcome.mutate { $0 = true } }
        #expect(outcome.value)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "x"))
    }

    @Test func errorsReachingTheTailAreRethrownOnce() throws {
        let channel = EmbeddedChannel(handlers: [FailOnDemandHandler()])
        try channel.writeInbound("ok")
        #expect(throws: HandlerFailure(step: "read")) { try channel.writeInbound("fail") }
        try channel.throwIfErrorCaught()  // already reported: nothing more to throw
        try channel.writeInbound("after")
        #expect(try channel.readInbound(as: String.self) == "ok")
        #expect(try channel.readInbound(as: String.self) == "after")
    }

    @Test func onlyTheFirstOfSeveralErrorsIsKept() throws {
        let channel = EmbeddedChannel()
        channel.pipeline.fireErrorCaught(HandlerFailure(step: "first"))
        channel.pipeline.fireErrorCaught(HandlerFailure(step: "second"))
        #expect(throws: HandlerFailure(step: "first")) { try channel.finish() }
    }

    @Test func errorFromATimerIsRethrownByFinish() throws {
        let channel = EmbeddedChannel()
        let pipeline = LoopBound(channel.pipeline, eventLoop: channel.eventLoop)
        channel.eventLoop.scheduleTask(in: .milliseconds(100)) {
            pipeline.value.fireErrorCaught(HandlerFailure(step: "timer"))
        }
        channel.eventLoop.advanceTime(by: .milliseconds(100))
        #expect(throws: HandlerFailure(step: "timer")) { try channel.finish() }
    }

    @Test func manualClockDrivesHandlerTimers() throws {
        let channel = EmbeddedChannel(handlers: [IdleTimeoutHandler()])
        channel.eventLoop.advanceTime(by: .milliseconds(999))
        #expect(try channel.readInbound(as: String.self) == nil)
        channel.eventLoop.advanceTime(by: .milliseconds(1))
        #expect(try channel.readInbound(as: String.self) == "timeout")
        #expect(channel.eventLoop.embeddedTime == .seconds(1))
        #expect(try channel.finish() == (inboundLeft: false, outboundLeft: false))
    }

    @Test func closingCancelsHandlerTimers() throws {
        let channel = EmbeddedChannel(handlers: [IdleTimeoutHandler()])
        try channel.finish()
        channel.eventLoop.advanceTime(by: .seconds(5))
        #expect(try channel.readInbound(as: String.self) == nil)
    }

    @Test func finishClosesTheChannel() throws {
        let log = Locked<[String]>([])
        let channel = EmbeddedChannel(handlers: [LifecycleRecorder(log: log)])
        #expect(channel.isActive)
        #expect(channel.isWritable)
        let closed = Locked(false)
        channel.closeFuture.whenComplete { _ in closed.mutate { $0 = true } }
        try channel.finish()
        #expect(log.value == ["active", "inactive", "removed"])
        #expect(closed.value)
        #expect(!channel.isActive)
        #expect(!channel.isWritable)
        #expect(throws: ChannelError.ioOnClosedChannel) { try channel.writeInbound(ByteBuffer()) }
        #expect(throws: ChannelError.ioOnClosedChannel) { try channel.writeOutbound(ByteBuffer()) }
        // finish() again is harmless.
        #expect(try channel.finish() == (inboundLeft: false, outboundLeft: false))
    }

    @Test func inactiveChannelActivatesOnDemand() throws {
        let log = Locked<[String]>([])
        let channel = EmbeddedChannel(handlers: [LifecycleRecorder(log: log)], active: false)
        #expect(!channel.isActive)
        #expect(log.value == [])
        channel.activate()
        channel.activate()
        #expect(log.value == ["active"])
        #expect(channel.isActive)
    }

    @Test func neverActivatedChannelDoesNotFireInactive() throws {
        let log = Locked<[String]>([])
        let channel = EmbeddedChannel(handlers: [LifecycleRecorder(log: log)], active: false)
        try channel.finish()
        #expect(log.value == ["removed"])
    }

    @Test func closeTwiceFailsWithAlreadyClosed() throws {
        let channel = EmbeddedChannel()
        let first = Locked<Result<Void, any Error>?>(nil)
        let second = Locked<Result<Void, any Error>?>(nil)
        channel.close().whenComplete { result in first.mutate { $0 = result } }
        channel.close().whenComplete { result in second.mutate { $0 = result } }
        #expect(throws: Never.self) { try first.value?.get() }
        #expect(first.value != nil)
        #expect(throws: ChannelError.alreadyClosed) { try second.value?.get() }
        #expect(second.value != nil)
        #expect(channel.closeRequests == [.all])  // the second close finds no pipeline to travel
    }

    @Test func setOptionSucceeds() throws {
        let channel = EmbeddedChannel()
        let done = Locked(false)
        channel.setOption(.autoRead(false)).whenSuccess { done.mutate { $0 = true } }
        #expect(done.value)
        #expect(channel.localAddress == nil)
        #expect(channel.remoteAddress == nil)
    }
}
