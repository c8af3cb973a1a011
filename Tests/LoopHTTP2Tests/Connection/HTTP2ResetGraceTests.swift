import Loop
import Testing
@testable import LoopHTTP2

/// The stream-end rule's default (docs/architecture.md): a server whose response is complete
/// while the request is still open waits a grace period for the client to end its side
/// before RST_STREAM(NO_ERROR) (RFC 9113 §8.1 makes the reset a MAY), so proxies that rewrite
/// the reset (HAProxy 2.6: NO_ERROR becomes CANCEL) cannot cost the client its status.
@Suite struct HTTP2ResetGraceTests {
    /// A server with one POST on stream `id` answered in full (head and trailers) while the
    /// request stays open.
    private func abort(_ server: inout PeerHarness, streamID id: UInt32) throws {
        server.sendRequest(streamID: id, requestHead(method: "POST"))
        server.receive(dataFrame(streamID: id, [1, 2]))
        _ = server.events()
        try server.connection.sendHeaders(streamID: id, responseHead(), endStream: false)
        try server.connection.sendHeaders(streamID: id, [HPACKHeader("grpc-status", "7")], endStream: true)
    }

    @Test func theDefaultWaitsForTheClientInsteadOfResetting() throws {
        #expect(HTTP2Configuration(role: .server).unfinishedRequestPolicy == .resetAfterGracePeriod(.milliseconds(500)))
        var server = PeerHarness.server()
        server.handshake()
        try abort(&server, streamID: 1)
        #expect(server.sent() == [.headers(1, fields(responseHead()), endStream: false), .headers(1, ["grpc-status: 7"], endStream: true)])
        #expect(server.connection.hasStreamsAwaitingPeerEnd)
        // The client ends its side (grpcio's END_STREAM through HAProxy): the stream closes,
        // and nothing is sent.
        server.receive(dataFrame(streamID: 1, [], endStream: true))
        #expect(server.events() == [.closed(1)])
        #expect(server.sent() == [])
        #expect(server.connection.openStreamCount == 0)
        // The ticks find nothing left to reset.
        server.connection.resetGracePeriodElapsed()
        server.connection.resetGracePeriodElapsed()
        #expect(server.sent() == [])
        #expect(!server.connection.hasStreamsAwaitingPeerEnd)
    }

    @Test func dataDuringTheGraceIsDiscardedAndCredited() throws {
        // Windows of 64 KiB (stream) and 128 KiB (connection); 1 MiB arrives during the
        // grace: none of it is delivered (the response is complete, nothing can use it) and
        // all of it is credited at once, so neither window runs out and other streams never
        // stall behind it.
        var server = PeerHarness.server {
            $0.initialStreamWindowSize = 65_535
            $0.connectionWindowSize = 128 << 10
            $0.maximumStreamWindowSize = nil
        }
        server.handshake()
        try abort(&server, streamID: 1)
        _ = server.sent()
        var credited = (stream: 0, connection: 0)
        for _ in 0..<256 {
            server.receive(dataFrame(streamID: 1, patternBytes(4096)))
            for frame in server.sent() {
                if case .windowUpdate(let id, let increment) = frame {
                    if id == 0 { credited.connection += Int(increment) } else { credited.stream += Int(increment) }
                }
            }
        }
        #expect(server.events() == [])
        #expect(server.connection.state == .active)
        #expect(server.connection.openStreamCount == 1)
        #expect(credited.connection >= (1 << 20) - (128 << 10), "connection credit \(credited.connection)")
        #expect(credited.stream >= (1 << 20) - 65_535, "stream credit \(credited.stream)")
    }

    @Test func aClientThatNeverEndsItsSideIsResetAfterOneToTwoPeriods() throws {
        var server = PeerHarness.server()
        server.handshake()
        try abort(&server, streamID: 1)
        _ = server.sent()
        server.connection.resetGracePeriodElapsed()   // the first tick only ages the stream
        #expect(server.sent() == [])
        #expect(server.connection.openStreamCount == 1)
        server.connection.resetGracePeriodElapsed()
        #expect(server.sent() == [.rst(1, .noError)])
        #expect(server.events() == [.closed(1)])
        #expect(server.connection.openStreamCount == 0)
        #expect(!server.connection.hasStreamsAwaitingPeerEnd)
        // The rest of the upload, already in flight, is dropped without complaint (§5.4.2).
        server.receive(dataFrame(streamID: 1, patternBytes(100)), dataFrame(streamID: 1, [], endStream: true))
        #expect(server.sent().allSatisfy { if case .windowUpdate(0, _) = $0 { true } else { false } })
        #expect(server.events() == [])
    }

    @Test func aClientResetDuringTheGraceClosesTheStreamAndIsNotRapidReset() throws {
        var server = PeerHarness.server { $0.glitchBudget = .init(burst: 6, perSecond: 0) }
        server.handshake()
        for index in 0..<1000 {
            let id = UInt32(2 * index + 1)
            try abort(&server, streamID: id)
            _ = server.sent()
            // Loop's and grpc-go's clients end their side with their own reset.
            server.receive(rstStreamFrame(streamID: id, code: .noError))
            #expect(server.events() == [.reset(id, .noError), .closed(id)])
            #expect(server.sent() == [])   // no reset answers a reset (RFC 9113 §5.4.2)
        }
        #expect(server.connection.state == .active)
        #expect(server.connection.openStreamCount == 0)
    }

    @Test func waitingStreamsKeepTheirSlotUnderMaxConcurrentStreams() throws {
        var server = PeerHarness.server { $0.maxConcurrentStreams = 2 }
        server.handshake()
        try abort(&server, streamID: 1)
        try abort(&server, streamID: 3)
        _ = server.sent()
        server.sendRequest(streamID: 5, requestHead(method: "POST"))
        #expect(server.sent() == [.rst(5, .refusedStream)])
        // Once one ends its side, a new request fits again.
        server.receive(dataFrame(streamID: 1, [], endStream: true))
        _ = server.events()
        server.sendRequest(streamID: 7, requestHead(method: "POST"))
        #expect(server.events() == [.headers(7, fields(requestHead(method: "POST")), endStream: false)])
    }

    @Test func theWaitListStaysBoundedWhateverTheClientDoes() throws {
        // 20,000 aborted calls, each ended by the client right away, on one connection with
        // 100 concurrent streams: the ids held for the timer stay within 2 × 2 × 100.
        var server = PeerHarness.server { $0.maxConcurrentStreams = 100 }
        server.handshake()
        var mostHeld = 0
        for index in 0..<20_000 {
            let id = UInt32(2 * index + 1)
            server.sendRequest(streamID: id, requestHead(method: "POST"))
            try server.connection.sendHeaders(streamID: id, [HPACKHeader(":status", "200"), HPACKHeader("grpc-status", "7")], endStream: true)
            server.receive(rstStreamFrame(streamID: id, code: .cancel))
            mostHeld = max(mostHeld, server.connection.resetGrace.heldIDs)
            if index % 1000 == 0 { _ = server.sent(); _ = server.events() }
        }
        #expect(mostHeld <= 400, "held \(mostHeld) ids")
        #expect(server.connection.openStreamCount == 0)
    }

    @Test func resetImmediatelyResetsRightBehindTheResponse() throws {
        var server = PeerHarness.server { $0.unfinishedRequestPolicy = .resetImmediately }
        server.handshake()
        try abort(&server, streamID: 1)
        #expect(server.sent() == [.headers(1, fields(responseHead()), endStream: false), .headers(1, ["grpc-status: 7"], endStream: true),
                                  .rst(1, .noError)])
        #expect(server.events() == [.closed(1)])
        #expect(!server.connection.hasStreamsAwaitingPeerEnd)
    }

    @Test func waitForClientDeliversTheRestOfTheRequestAndNeverResets() throws {
        var server = PeerHarness.server { $0.unfinishedRequestPolicy = .waitForClient }
        server.handshake()
        try abort(&server, streamID: 1)
        _ = server.sent()
        #expect(!server.connection.hasStreamsAwaitingPeerEnd)
        server.receive(dataFrame(streamID: 1, [3, 4], endStream: true))
        #expect(server.events() == [.data(1, [3, 4], endStream: true), .closed(1)])
        #expect(server.sent().allSatisfy { if case .rst = $0 { false } else { true } })
    }
}
