import Testing
import Loop
@testable import LoopHTTP2

/// GOAWAY (RFC 9113 §6.8): the graceful two-phase shutdown, GOAWAY received by either side,
/// and the stream-end rule (docs/architecture.md). HTTP2Shutdown is tested alone first.
@Suite struct HTTP2ShutdownTests {
    private static let shutdownPing = HTTP2Shutdown.pingData

    // MARK: HTTP2Shutdown alone (frames out, no connection)

    private func frames(_ control: ByteBuffer) -> [FrameSummary] {
        var decoder = HTTP2FrameDecoder(role: .client)
        return decodeAll(control, with: &decoder).map(FrameSummary.init)
    }

    @Test func rfc9113Section6_8ServerAnnouncesWithTheLargestIDAndAPingThenNamesTheLastStream() {
        var shutdown = HTTP2Shutdown()
        var control = ByteBuffer()
        shutdown.beginGraceful(role: .server, lastPeerStreamID: 7, into: &control)
        #expect(frames(control) == [.goAway(last: 0x7FFF_FFFF, .noError), .ping(HTTP2Shutdown.pingData, ack: false)])
        #expect(shutdown.isPingOutstanding)
        #expect(!shutdown.isDrained(openStreams: 0))  // not before the PING's ACK
        #expect(!shutdown.isAboveSentGoAway(9))        // still accepted in phase 1
        var pong = shutdown.pingAcknowledged(42)
        #expect(!pong)                                 // someone else's PING
        pong = shutdown.pingAcknowledged(HTTP2Shutdown.pingData)
        #expect(pong)
        control.clear()
        shutdown.sendGoAway(lastStreamID: 9, code: .noError, reason: "", into: &control)
        #expect(frames(control) == [.goAway(last: 9, .noError)])
        #expect(shutdown.isAboveSentGoAway(11))
        #expect(shutdown.isDrained(openStreams: 0) && !shutdown.isDrained(openStreams: 1))
    }

    @Test func rfc9113Section6_8ClientSendsItsFinalGoAwayAtOnce() {
        var shutdown = HTTP2Shutdown()
        var control = ByteBuffer()
        shutdown.beginGraceful(role: .client, lastPeerStreamID: 0, into: &control)
        #expect(frames(control) == [.goAway(last: 0, .noError)])
        #expect(shutdown.isDrained(openStreams: 0))
    }

    @Test func rfc9113Section6_8TheLastStreamIDNeverRises() {
        var shutdown = HTTP2Shutdown()
        var control = ByteBuffer()
        shutdown.sendGoAway(lastStreamID: 5, code: .noError, reason: "", into: &control)
        shutdown.sendGoAway(lastStreamID: 9, code: .internalError, reason: "late", into: &control)
        #expect(frames(control) == [.goAway(last: 5, .noError), .goAway(last: 5, .internalError)])
        shutdown.received(lastStreamID: 11)
        #expect(shutdown.receivedLastStreamID == 11)
        shutdown.received(lastStreamID: 13)
        #expect(shutdown.receivedLastStreamID == 11)
        #expect(!shutdown.allowsNewLocalStreams)
    }

    // MARK: Graceful shutdown of a server

    @Test func rfc9113Section6_8GracefulShutdownInTwoPhases() throws {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))  // in flight, body still coming
        _ = server.events()

        // Phase 1: GOAWAY with 2^31-1 and a PING.
        server.connection.beginGracefulShutdown()
        #expect(server.sent() == [.goAway(last: 0x7FFF_FFFF, .noError), .ping(Self.shutdownPing, ack: false)])
        #expect(server.connection.state == .draining)

        // A request the client sent before it saw the GOAWAY is still served.
        server.sendRequest(streamID: 3, endStream: true)
        #expect(server.events() == [.headers(3, fields(requestHead()), endStream: true)])

        // Phase 2: the PING's ACK proves the client saw the first GOAWAY; the second one
        // names the last stream actually accepted.
        server.receive(pingFrame(Self.shutdownPing, ack: true))
        #expect(server.sent() == [.goAway(last: 3, .noError)])
        #expect(server.events() == [])  // our own PING's ACK is not reported

        // Streams above it are ignored (RFC 9113 §6.8), including their later frames.
        server.sendRequest(streamID: 5, requestHead(method: "POST"))
        server.receive(dataFrame(streamID: 5, patternBytes(10)))
        server.deliverHeaders(streamID: 5, [HPACKHeader("x-trailer", "1")], endStream: true)
        #expect(server.sent() == [])
        #expect(server.events() == [])
        #expect(server.connection.state == .draining)

        // The streams in flight finish; then the connection is drained.
        server.receive(dataFrame(streamID: 1, [1, 2, 3], endStream: true))
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: true)
        #expect(server.events() == [.data(1, [1, 2, 3], endStream: true), .closed(1)])
        #expect(server.connection.state == .draining)
        try server.connection.sendHeaders(streamID: 3, responseHead(), endStream: true)
        #expect(server.sent() == [.headers(1, fields(responseHead()), endStream: true), .headers(3, fields(responseHead()), endStream: true)])
        #expect(server.events() == [.closed(3), .drained])
        #expect(server.connection.state == .closed)
    }

    @Test func rfc9113Section6_8GracefulShutdownOfAnIdleConnection() {
        var server = PeerHarness.server()
        server.handshake()
        server.connection.beginGracefulShutdown()
        #expect(server.sent() == [.goAway(last: 0x7FFF_FFFF, .noError), .ping(Self.shutdownPing, ack: false)])
        #expect(server.events() == [])  // not drained before the PING's ACK
        server.receive(pingFrame(Self.shutdownPing, ack: true))
        #expect(server.sent() == [.goAway(last: 0, .noError)])
        #expect(server.events() == [.drained])
        #expect(server.connection.state == .closed)
    }

    @Test func rfc9113Section6_8NoNewStreamsFromAServerThatIsShuttingDown() {
        var server = PeerHarness.server()
        server.handshake()
        server.connection.beginGracefulShutdown()
        server.connection.beginGracefulShutdown()  // a second call changes nothing
        #expect(server.sent() == [.goAway(last: 0x7FFF_FFFF, .noError), .ping(Self.shutdownPing, ack: false)])
    }

    @Test func otherPingAcksAreStillReportedWhileShuttingDown() {
        var server = PeerHarness.server()
        server.handshake()
        server.connection.beginGracefulShutdown()
        _ = server.sent()
        server.receive(pingFrame(42, ack: true))
        #expect(server.events() == [.pingAck(42)])
        #expect(server.sent() == [])
    }

    // MARK: GOAWAY received

    @Test func rfc9113Section6_8ClientRefusesItsStreamsAboveTheLastStreamID() throws {
        var client = PeerHarness.client()
        client.handshake()
        for _ in 0..<3 { try client.connection.sendHeaders(requestHead(), endStream: true) }  // 1, 3, 5
        _ = client.sent()
        client.receive(goAwayFrame(lastStreamID: 1, code: .noError, debugData: "maintenance"))
        let raw = client.connection.takeEvents()
        let events = raw.map(EventSummary.init)
        // 3 and 5 were never processed: REFUSED_STREAM, safe to retry elsewhere.
        #expect(Set(events.prefix(4).map(\.description)) == Set([EventSummary.reset(3, .refusedStream), .closed(3), .reset(5, .refusedStream), .closed(5)].map(\.description)))
        #expect(events.count == 5)
        #expect(events.last == .goAway(last: 1, .noError))
        if case .goAway(_, _, let debug)? = raw.last { #expect(debug == "maintenance") }
        #expect(client.connection.state == .draining)
        #expect(client.connection.openStreamCount == 1)
        #expect(throws: HTTP2StreamError.goingAway) { try client.connection.sendHeaders(requestHead(), endStream: true) }
        #expect(client.sent() == [])

        // Stream 1 completes; then the client is drained and says GOAWAY itself.
        client.deliverHeaders(streamID: 1, responseHead(), endStream: true)
        #expect(client.events() == [.headers(1, fields(responseHead()), endStream: true), .closed(1), .drained])
        #expect(client.sent() == [.goAway(last: 0, .noError)])
        #expect(client.connection.state == .closed)
    }

    @Test func rfc9113Section6_8GoAwayWithAnErrorCodeIsReported() throws {
        var client = PeerHarness.client()
        client.handshake()
        try client.connection.sendHeaders(requestHead(), endStream: true)
        _ = client.sent()
        client.receive(goAwayFrame(lastStreamID: 0, code: .enhanceYourCalm))
        #expect(client.events() == [.reset(1, .refusedStream), .closed(1), .goAway(last: 0, .enhanceYourCalm), .drained])
        #expect(client.connection.state == .closed)
    }

    @Test func rfc9113Section6_8LaterGoAwayCanOnlyLowerTheLastStreamID() throws {
        var client = PeerHarness.client()
        client.handshake()
        for _ in 0..<3 { try client.connection.sendHeaders(requestHead(), endStream: true) }  // 1, 3, 5
        _ = client.sent()
        client.receive(goAwayFrame(lastStreamID: 0x7FFF_FFFF, code: .noError))
        #expect(client.events() == [.goAway(last: 0x7FFF_FFFF, .noError)])
        client.receive(goAwayFrame(lastStreamID: 3, code: .noError))
        #expect(client.events() == [.reset(5, .refusedStream), .closed(5), .goAway(last: 3, .noError)])
        #expect(client.connection.openStreamCount == 2)
    }

    @Test func rfc9113Section6_8ServerReceivingGoAwayFinishesItsStreams() throws {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1, endStream: true)
        _ = server.events()
        server.receive(goAwayFrame(lastStreamID: 0, code: .noError))
        #expect(server.events() == [.goAway(last: 0, .noError)])  // a server's own streams: none to refuse
        #expect(server.connection.state == .draining)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: true)
        #expect(server.events() == [.closed(1), .drained])
        #expect(server.sent() == [.headers(1, fields(responseHead()), endStream: true), .goAway(last: 1, .noError)])
    }

    @Test func clientGracefulShutdownWaitsForItsStreams() throws {
        var client = PeerHarness.client()
        client.handshake()
        try client.connection.sendHeaders(requestHead(), endStream: true)
        _ = client.sent()
        client.connection.beginGracefulShutdown()
        #expect(client.sent() == [.goAway(last: 0, .noError)])
        #expect(client.connection.state == .draining)
        #expect(throws: HTTP2StreamError.goingAway) { try client.connection.sendHeaders(requestHead(), endStream: true) }
        client.deliverHeaders(streamID: 1, responseHead(), endStream: true)
        #expect(client.events() == [.headers(1, fields(responseHead()), endStream: true), .closed(1), .drained])
        #expect(client.sent() == [])
    }

    // MARK: the peer half-closes the socket

    @Test func peerHalfCloseAnswersCompleteRequestsThenDrains() throws {
        // Stream 1 is a complete request, stream 3 still uploading, stream 5 answered while
        // its request was open (waiting out the grace). Then the client shuts down its
        // writing side: 3 can never finish (reset, CANCEL), 5 is done, 1 is still answered,
        // and the connection closes after the last response.
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1, endStream: true)
        server.sendRequest(streamID: 3, requestHead(method: "POST"))
        server.sendRequest(streamID: 5, requestHead(method: "POST"))
        _ = server.events()
        try server.connection.sendHeaders(streamID: 5, responseHead(status: "403"), endStream: true)
        _ = server.sent()
        server.connection.peerClosedInput()
        #expect(server.sent() == [.rst(3, .cancel), .rst(5, .noError), .goAway(last: 5, .noError)])
        #expect(server.events() == [.reset(3, .cancel), .closed(3), .closed(5)])
        #expect(server.connection.state == .draining)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        try server.connection.sendData(streamID: 1, ByteBuffer(string: "hi"), endStream: true)
        #expect(server.sent() == [.headers(1, fields(responseHead()), endStream: false), .data(1, length: 2, endStream: true)])
        #expect(server.events() == [.closed(1), .drained])
        #expect(server.connection.state == .closed)
    }

    @Test func peerHalfCloseDuringAGracefulShutdownDoesNotWaitForThePingAck() throws {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1, endStream: true)
        _ = server.events()
        server.connection.beginGracefulShutdown()
        _ = server.sent()
        server.connection.peerClosedInput()
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: true)
        #expect(server.events() == [.closed(1), .drained])
    }

    @Test func peerHalfCloseWithDataWaitingForCreditEndsTheConnection() throws {
        // The client's windows are shut (SETTINGS_INITIAL_WINDOW_SIZE 0) and the response's
        // DATA waits: after the half-close no WINDOW_UPDATE can come, so it never would leave.
        var server = PeerHarness.server()
        server.handshake([HTTP2Setting(HTTP2Setting.initialWindowSize, 0)])
        server.sendRequest(streamID: 1, endStream: true)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        try server.connection.sendData(streamID: 1, ByteBuffer(bytes: patternBytes(100)), endStream: true)
        _ = server.sent()
        _ = server.events()
        server.connection.peerClosedInput()
        #expect(server.sent() == [.goAway(last: 1, .noError), .goAway(last: 1, .cancel)])
        #expect(server.connection.state == .closed)
        #expect(server.events() == [.reset(1, .cancel), .closed(1), .connectionError(.cancel)])
        // With output paused (the socket is full) the scheduler has not tried: nothing ends yet.
        var paused = PeerHarness.server()
        paused.handshake([HTTP2Setting(HTTP2Setting.initialWindowSize, 0)])
        paused.sendRequest(streamID: 1, endStream: true)
        try paused.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        try paused.connection.sendData(streamID: 1, ByteBuffer(bytes: patternBytes(100)), endStream: true)
        paused.connection.pauseOutput()
        paused.connection.peerClosedInput()
        #expect(paused.connection.state == .draining)
    }

    @Test func peerHalfCloseBeforeItsSettingsEndsTheConnection() {
        var server = PeerHarness.server()
        server.receive(prefaceBytes())
        _ = server.sent()
        server.connection.peerClosedInput()
        #expect(server.sent() == [.goAway(last: 0, .noError)])
        #expect(server.connection.state == .closed)
    }

    // MARK: the stream-end rule (docs/architecture.md)

    @Test func designStreamEndRuleTrailersBeforeTheRequestEndedSendRstNoError() throws {
        var server = PeerHarness.server { $0.unfinishedRequestPolicy = .resetImmediately }
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        server.receive(dataFrame(streamID: 1, [1, 2]))
        _ = server.events()
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        try server.connection.sendHeaders(streamID: 1, [HPACKHeader("grpc-status", "0")], endStream: true)
        // RST_STREAM(NO_ERROR) comes after the END_STREAM frame (RFC 9113 §8.1).
        #expect(server.sent() == [.headers(1, fields(responseHead()), endStream: false), .headers(1, ["grpc-status: 0"], endStream: true),
                                  .rst(1, .noError)])
        #expect(server.events() == [.closed(1)])
        // The rest of the upload, already in flight, is dropped without complaint.
        server.receive(dataFrame(streamID: 1, patternBytes(100)), dataFrame(streamID: 1, [], endStream: true))
        #expect(server.sent() == [])
        #expect(server.events() == [])
    }

    @Test func designStreamEndRuleDataWithEndStreamBeforeTheRequestEnded() throws {
        var server = PeerHarness.server { $0.unfinishedRequestPolicy = .resetImmediately }
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        try server.connection.sendData(streamID: 1, ByteBuffer(bytes: [9, 9]), endStream: true)
        #expect(server.sent() == [.headers(1, fields(responseHead()), endStream: false), .data(1, length: 2, endStream: true), .rst(1, .noError)])
    }

    @Test func designStreamEndRuleNoResetWhenTheRequestHadEnded() throws {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        server.receive(dataFrame(streamID: 1, [1], endStream: true))
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: true)
        #expect(server.sent() == [.headers(1, fields(responseHead()), endStream: true)])
    }

    @Test func designStreamEndRuleClientKeepsTheCompleteResponseWhenACancelFollows() throws {
        // Still uploading when the whole response arrives, then RST_STREAM(CANCEL) (as some
        // proxies send instead of NO_ERROR): the trailers come first in the events, so the
        // call's outcome is theirs. The client ends its side itself at the trailers, so the
        // CANCEL finds a closed stream and is neither reported nor answered.
        var client = PeerHarness.client()
        client.handshake()
        let id = try client.connection.sendHeaders(requestHead(method: "POST"), endStream: false)
        try client.connection.sendData(streamID: id, ByteBuffer(bytes: [1, 2, 3]), endStream: false)
        _ = client.sent()
        let response = client.headers(streamID: id, responseHead(), endStream: false)
        let trailers = client.headers(streamID: id, [HPACKHeader("grpc-status", "0")], endStream: true)
        client.receive(response, trailers, rstStreamFrame(streamID: id, code: .cancel))
        #expect(client.events() == [
            .headers(1, fields(responseHead()), endStream: false),
            .headers(1, ["grpc-status: 0"], endStream: true),
            .closed(1),
        ])
        // Our own end of the exchange, not an answer to the CANCEL (RFC 9113 §5.4.2).
        #expect(client.sent() == [.rst(1, .noError)])
        #expect(throws: HTTP2StreamError.streamClosed(1)) {
            try client.connection.sendData(streamID: 1, ByteBuffer(bytes: [4]), endStream: true)
        }
    }

    @Test func designStreamEndRuleClientEndsItsSideWhenTheServerSendsNoReset() throws {
        // A server may end its response with trailers and no RST_STREAM while the request is
        // still open (RFC 9113 §8.1 only says it MAY reset). The client then ends its side
        // with RST_STREAM(NO_ERROR) and releases the stream: 1,000 such exchanges leave no
        // stream open and send nothing else.
        var client = PeerHarness.client()
        client.handshake()
        for _ in 0..<1000 {
            let id = try client.connection.sendHeaders(requestHead(method: "POST"), endStream: false)
            try client.connection.sendData(streamID: id, ByteBuffer(bytes: [1, 2, 3]), endStream: false)
            _ = client.sent()
            client.deliverHeaders(streamID: id, responseHead(), endStream: false)
            client.deliverHeaders(streamID: id, [HPACKHeader("grpc-status", "7")], endStream: true)
            #expect(client.sent() == [.rst(id, .noError)])
            #expect(client.events().last == .closed(id))
            #expect(client.connection.openStreamCount == 0)
        }
    }
    @Test func designStreamEndRuleResetAfterACompleteExchangeIsIgnored() throws {
        var client = PeerHarness.client()
        client.handshake()
        try client.connection.sendHeaders(requestHead(), endStream: true)
        _ = client.sent()
        let response = client.headers(streamID: 1, responseHead(), endStream: true)
        client.receive(response, rstStreamFrame(streamID: 1, code: .cancel))
        #expect(client.events() == [.headers(1, fields(responseHead()), endStream: true), .closed(1)])
        #expect(client.sent() == [])
        #expect(client.connection.state == .active)
    }
}
