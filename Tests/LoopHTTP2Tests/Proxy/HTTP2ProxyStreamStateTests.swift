import Loop
import Testing
@testable import LoopHTTP2

/// One proxied stream's forwarding logic (HTTP2ProxyStreamState) and its flow-control
/// credit (HTTP2ProxyCredit): events in, actions out.
@Suite struct HTTP2ProxyStreamStateTests {
    private let head = [HPACKHeader(":method", "POST"), HPACKHeader(":path", "/a.B/C"), HPACKHeader("content-type", "application/grpc")]
    private let response = [HPACKHeader(":status", "200"), HPACKHeader("content-type", "application/grpc")]
    private let trailers = [HPACKHeader("grpc-status", "0")]

    private func state(endStream: Bool = false, maxAttempts: Int = 4) -> HTTP2ProxyStreamState {
        HTTP2ProxyStreamState(head: head, endStream: endStream, isGRPC: true, maxAttempts: maxAttempts)
    }

    @Test func aUnaryCallIsForwardedBothWays() {
        var state = state()
        state.opened()
        let body = ByteBuffer(bytes: [0, 0, 0, 0, 1, 7])
        #expect(state.requestData(body, endStream: true) == .forward(body, endStream: true))
        #expect(state.responseHeaders(response, endStream: false) == .respondHeaders(response, endStream: false))
        #expect(state.phase == .responding)
        #expect(state.responseData(body, endStream: false) == .respondData(body, endStream: false))
        #expect(state.responseHeaders(trailers, endStream: true) == .respondHeaders(trailers, endStream: true))
        #expect(state.phase == .finished)
        state.upstreamClosed()
        #expect(!state.upstreamOpen)
    }

    @Test func bodyArrivingWhileConnectingWaitsAndIsSentInOrder() {
        var state = state()
        let first = ByteBuffer(bytes: [1])
        let second = ByteBuffer(bytes: [2])
        #expect(state.requestData(first, endStream: false) == HTTP2ProxyStreamState.Action.none)
        #expect(state.requestData(second, endStream: true) == HTTP2ProxyStreamState.Action.none)
        state.opened()
        let waiting = state.takeWaitingBody()
        #expect(waiting.body == [first, second] && waiting.trailers == nil)
        #expect(!state.replayable)   // two buffers: not held for a retry
    }

    @Test func aRefusedStreamIsRetriedWhileItsBodyIsHeld() {
        var state = state()
        state.opened()
        let body = ByteBuffer(bytes: [0, 0, 0, 0, 0])
        #expect(state.requestData(body, endStream: true) == .forward(body, endStream: true))
        // GOAWAY above its id, or REFUSED_STREAM: never processed, so sent again.
        #expect(state.upstreamReset(.refusedStream, connectionLost: false) == .retry)
        #expect(state.phase == .connecting)
        #expect(state.replay.head == head && state.replay.body == body && state.replay.endStream)
        state.opened()
        #expect(state.attempts == 2)
    }

    @Test func bodyArrivingDuringARetryMakesTheRequestNotReplayableAgain() {
        var state = state()
        state.opened()
        let first = ByteBuffer(bytes: [1])
        _ = state.requestData(first, endStream: false)
        #expect(state.upstreamReset(.refusedStream, connectionLost: false) == .retry)
        _ = state.requestData(ByteBuffer(bytes: [2]), endStream: true)   // waits: still connecting
        state.opened()
        #expect(state.replay.body == first)
        let waiting = state.takeWaitingBody()
        #expect(waiting.body == [ByteBuffer(bytes: [2])])
        #expect(!state.replayable && state.replay.body == nil)
    }

    @Test func aRefusedStreamWithMoreBodyThanHeldIsResetDownstream() {
        var state = state()
        state.opened()
        _ = state.requestData(ByteBuffer(bytes: [1]), endStream: false)
        _ = state.requestData(ByteBuffer(bytes: [2]), endStream: false)
        #expect(state.upstreamReset(.refusedStream, connectionLost: false) == .resetDownstream(.refusedStream))
        #expect(state.phase == .finished)
    }

    @Test func retriesStopAtTheAttemptLimit() {
        var state = state(endStream: true, maxAttempts: 2)
        state.opened()
        #expect(state.upstreamReset(.refusedStream, connectionLost: false) == .retry)
        state.opened()
        #expect(state.upstreamReset(.refusedStream, connectionLost: false) == .resetDownstream(.refusedStream))
    }

    @Test func connectFailuresRetryThenFail() {
        var state = state(endStream: true, maxAttempts: 3)
        #expect(state.connectFailed() == .retry)
        #expect(state.connectFailed() == .retry)
        #expect(state.connectFailed() == .fail(headSent: false))
        #expect(state.phase == .finished)
    }

    @Test func resetCodesPassUnchangedBothWays() {
        var fromUpstream = state()
        fromUpstream.opened()
        _ = fromUpstream.responseHeaders(response, endStream: false)
        #expect(fromUpstream.upstreamReset(.enhanceYourCalm, connectionLost: false) == .resetDownstream(.enhanceYourCalm))

        var fromDownstream = state()
        fromDownstream.opened()
        #expect(fromDownstream.downstreamReset(.cancel) == .resetUpstream(.cancel))
        #expect(fromDownstream.requestData(ByteBuffer(bytes: [1, 2]), endStream: false) == .discard(2))
    }

    @Test func aLostConnectionAnswersBeforeOrAfterTheHeadAndIsNeverRetried() {
        var before = state(endStream: true)
        before.opened()
        #expect(before.upstreamReset(.noError, connectionLost: true) == .fail(headSent: false))

        var after = state(endStream: true)
        after.opened()
        _ = after.responseHeaders(response, endStream: false)
        #expect(after.upstreamReset(.noError, connectionLost: true) == .fail(headSent: true))
    }

    @Test func informationalHeadersKeepWaitingForTheFinalHead() {
        var state = state()
        state.opened()
        let early = [HPACKHeader(":status", "103")]
        #expect(state.responseHeaders(early, endStream: false) == .respondHeaders(early, endStream: false))
        #expect(state.phase == .requested)
    }

    @Test func aDownstreamResetWhileConnectingCancelsNothingUpstream() {
        var state = state()
        #expect(state.downstreamReset(.cancel) == HTTP2ProxyStreamState.Action.none)
        #expect(state.phase == .finished)
        #expect(state.connectFailed() == HTTP2ProxyStreamState.Action.none)
    }

    @Test func creditReturnsOnlyWhatLeftTheOtherSide() {
        var credit = HTTP2ProxyCredit()
        credit.forwarded(16_384)
        #expect(credit.returnable(buffered: 16_384) == 0)
        #expect(credit.returnable(buffered: 10_000) == 6_384)
        credit.forwarded(1_000)
        #expect(credit.returnable(buffered: 11_000) == 0)
        #expect(credit.returnable(buffered: 0) == 11_000)
        #expect(credit.unreturned == 0)
        credit.forwarded(5)
        #expect(credit.returnAll() == 5 && credit.unreturned == 0)
    }
}
