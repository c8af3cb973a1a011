import Testing
@testable import LoopHTTP2

/// RFC 9113 §5.1's stream states, one transition at a time: state in, state or the exact
/// error out.
@Suite struct HTTP2StreamStateTests {
    private typealias State = HTTP2StreamState

    private func streamError(_ body: () throws(HTTP2ProtocolError) -> State) -> HTTP2ProtocolError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error
        }
    }

    // MARK: idle → open / half-closed

    @Test func rfc9113Section5_1ReceivingHeadersOpensOrHalfClosesRemote() {
        #expect(State.idle.openedByReceiving(endStream: false) == .open(local: .pending, remote: .final))
        #expect(State.idle.openedByReceiving(endStream: true) == .halfClosedRemote(local: .pending))
    }

    @Test func rfc9113Section5_1SendingHeadersOpensOrHalfClosesLocal() {
        #expect(State.idle.openedBySending(endStream: false) == .open(local: .sent, remote: .pending))
        #expect(State.idle.openedBySending(endStream: true) == .halfClosedLocal(remote: .pending))
    }

    // MARK: Receiving

    @Test func rfc9113Section8_1InformationalThenFinalHeadThenTrailers() throws {
        var state = State.idle.openedBySending(endStream: true)
        state = try state.receivingHeaders(streamID: 1, informational: true, endStream: false)
        #expect(state == .halfClosedLocal(remote: .informational))
        state = try state.receivingHeaders(streamID: 1, informational: false, endStream: false)
        #expect(state == .halfClosedLocal(remote: .final))
        state = try state.receivingData(streamID: 1, endStream: false)
        #expect(state == .halfClosedLocal(remote: .final))
        state = try state.receivingHeaders(streamID: 1, informational: false, endStream: true)
        #expect(state == .closed)
    }

    @Test func rfc9113Section5_1EndStreamOnTheFinalHeadOrOnDataClosesTheRemoteSide() throws {
        let open = State.open(local: .sent, remote: .pending)
        #expect(try open.receivingHeaders(streamID: 1, informational: false, endStream: true) == .halfClosedRemote(local: .sent))
        let receiving = State.open(local: .pending, remote: .final)
        #expect(try receiving.receivingData(streamID: 1, endStream: true) == .halfClosedRemote(local: .pending))
        #expect(try State.halfClosedLocal(remote: .final).receivingData(streamID: 1, endStream: true) == .closed)
    }

    @Test func rfc9113Section5_1FramesAfterTheRemoteEndAreStreamClosed() {
        for state in [State.halfClosedRemote(local: .sent), .closed] {
            let headers = streamError { () throws(HTTP2ProtocolError) in try state.receivingHeaders(streamID: 3, informational: false, endStream: true) }
            #expect(headers == .stream(3, .streamClosed, "HEADERS after END_STREAM (RFC 9113 §5.1)"))
            let data = streamError { () throws(HTTP2ProtocolError) in try state.receivingData(streamID: 3, endStream: false) }
            #expect(data == .stream(3, .streamClosed, "DATA after END_STREAM (RFC 9113 §5.1)"))
        }
    }

    @Test func rfc9113Section8_1TrailersMustEndTheStream() {
        let error = streamError { () throws(HTTP2ProtocolError) in
            try State.open(local: .pending, remote: .final).receivingHeaders(streamID: 1, informational: false, endStream: false)
        }
        #expect(error == .stream(1, .protocolError, "trailers without END_STREAM (RFC 9113 §8.1)"))
    }

    @Test func rfc9113Section8_1InformationalHeadMayNotEndTheStream() {
        let error = streamError { () throws(HTTP2ProtocolError) in
            try State.halfClosedLocal(remote: .pending).receivingHeaders(streamID: 1, informational: true, endStream: true)
        }
        #expect(error == .stream(1, .protocolError, "informational response with END_STREAM (RFC 9113 §8.1)"))
    }

    @Test func rfc9113Section8_1DataBeforeTheFinalHeadIsAProtocolError() {
        for state in [State.halfClosedLocal(remote: .pending), .halfClosedLocal(remote: .informational)] {
            let error = streamError { () throws(HTTP2ProtocolError) in try state.receivingData(streamID: 1, endStream: false) }
            #expect(error == .stream(1, .protocolError, "DATA before the final HEADERS (RFC 9113 §8.1)"))
        }
    }

    // MARK: Sending

    @Test func rfc9113Section5_1SendingTheHeadAndEndStream() throws {
        #expect(try State.open(local: .pending, remote: .final).sendingHeaders(streamID: 1, endStream: false) == .open(local: .sent, remote: .final))
        #expect(try State.open(local: .pending, remote: .final).sendingHeaders(streamID: 1, endStream: true) == .halfClosedLocal(remote: .final))
        #expect(try State.halfClosedRemote(local: .pending).sendingHeaders(streamID: 1, endStream: true) == .closed)
        #expect(try State.halfClosedRemote(local: .pending).sendingHeaders(streamID: 1, endStream: false) == .halfClosedRemote(local: .sent))
        #expect(State.open(local: .sent, remote: .final).sendingEndStream() == .halfClosedLocal(remote: .final))
        #expect(State.halfClosedRemote(local: .sent).sendingEndStream() == .closed)
    }

    @Test func rfc9113Section5_1NoSecondHeadAndNothingAfterTheLocalEnd() {
        for state in [State.open(local: .sent, remote: .final), .halfClosedLocal(remote: .final), .closed, .idle] {
            #expect(throws: HTTP2StreamError.streamClosed(5)) { try state.sendingHeaders(streamID: 5, endStream: false) }
        }
    }

    @Test func whatEachSideMayStillDo() {
        #expect(State.open(local: .pending, remote: .final).isLocalOpen && State.open(local: .pending, remote: .final).isRemoteOpen)
        #expect(!State.halfClosedLocal(remote: .final).isLocalOpen && State.halfClosedLocal(remote: .final).isRemoteOpen)
        #expect(State.halfClosedRemote(local: .sent).isLocalOpen && !State.halfClosedRemote(local: .sent).isRemoteOpen)
        for state in [State.idle, .reservedLocal, .reservedRemote, .closed] {
            #expect(!state.isLocalOpen && !state.isRemoteOpen)
        }
        #expect(State.halfClosedLocal(remote: .pending).localHeadSent)
        #expect(!State.open(local: .pending, remote: .final).localHeadSent)
        #expect(State.halfClosedRemote(local: .pending).remoteHead == .final)
    }
}
