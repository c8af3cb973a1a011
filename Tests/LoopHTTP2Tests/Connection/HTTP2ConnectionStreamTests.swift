import Testing
import Loop
@testable import LoopHTTP2

/// Streams through the connection: the state machine (RFC 9113 §5.1, unit-tested in
/// HTTP2StreamStateTests), stream identifiers (§5.1.1) and concurrency
/// (§5.1.2), seen from a server and a client.
@Suite struct HTTP2ConnectionStreamTests {
    private func activeServer(_ configure: (inout HTTP2Configuration) -> Void = { _ in }) -> PeerHarness {
        var server = PeerHarness.server(configure)
        server.handshake()
        return server
    }

    private func activeClient(_ configure: (inout HTTP2Configuration) -> Void = { _ in }) -> PeerHarness {
        var client = PeerHarness.client(configure)
        client.handshake()
        return client
    }

    // MARK: Opening streams

    @Test func requestOpensAStreamAndTheResponseClosesIt() throws {
        var server = activeServer()
        server.sendRequest(streamID: 1, requestHead(path: "/a"), endStream: true)
        #expect(server.events() == [.headers(1, fields(requestHead(path: "/a")), endStream: true)])
        #expect(server.connection.openStreamCount == 1)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: true)
        #expect(server.sent() == [.headers(1, fields(responseHead()), endStream: true)])
        #expect(server.events() == [.closed(1)])
        #expect(server.connection.openStreamCount == 0)
    }

    @Test func behindTheHTTP1BridgeStreamsAnswerInFramesInOrderWithTheOtherBytes() throws {
        // The bridge reads this connection's output in the same process: HEADERS and DATA stay
        // frames (no HPACK or framing round trip), the rest stays bytes, all in order.
        var server = activeServer()
        server.connection.handOverFrames()
        server.sendRequest(streamID: 1, requestHead(path: "/a"), endStream: true)
        _ = server.events()
        server.connection.ping(7)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        try server.connection.sendData(streamID: 1, ByteBuffer(string: "hi"), endStream: false)
        try server.connection.sendHeaders(streamID: 1, [HPACKHeader("x-sum", "1")], endStream: true)
        var output: [HTTP2Output.HandedOver] = []
        server.connection.moveOutput(into: &output)
        var seen: [String] = []
        var decoder = HTTP2FrameDecoder(role: .client)
        for item in output {
            switch item {
            case .bytes(let bytes):
                for frame in decodeAll(bytes, with: &decoder) { seen.append("bytes \(FrameSummary(frame))") }
            case .frame(let frame):
                switch frame.payload {
                case .headers(let list, let end): seen.append("HEADERS \(frame.streamID) \(fields(list)) \(end)")
                case .data(let data, let end, let length):
                    seen.append("DATA \(frame.streamID) \(String(decoding: data.readableBytesView, as: UTF8.self)) \(end) \(length)")
                default: seen.append("frame \(frame)")
                }
            }
        }
        #expect(seen == ["bytes \(FrameSummary.ping(7, ack: false))",
                         "HEADERS 1 \(fields(responseHead())) false",
                         "DATA 1 hi false 2",
                         "HEADERS 1 [\"x-sum: 1\"] true"], "\(seen)")
        #expect(server.connection.output.isEmpty)
        #expect(server.events() == [.closed(1)])
    }

    @Test func rfc9113Section6_10RequestHeadSplitOverContinuationFramesOpensTheStream() {
        var server = activeServer()
        let head = requestHead(path: "/continued", extra: [("x-long", String(repeating: "l", count: 300))])
        let block = server.block(head)
        server.receive(headersFrame(streamID: 1, block: Array(block[..<10]), endStream: true, endHeaders: false),
                       continuationFrame(streamID: 1, block: Array(block[10..<100]), endHeaders: false))
        #expect(server.events() == [])  // nothing until END_HEADERS
        server.receive(continuationFrame(streamID: 1, block: Array(block[100...]), endHeaders: true))
        #expect(server.events() == [.headers(1, fields(head), endStream: true)])
        #expect(server.sent() == [])
    }

    @Test func rfc9113Section5_1_1ClientStreamOnAnEvenIdIsProtocolError() {
        var server = activeServer()
        server.sendRequest(streamID: 2)
        #expect(server.sent() == [.goAway(last: 0, .protocolError)])
        #expect(server.events() == [.connectionError(.protocolError)])
    }

    @Test func rfc9113Section5_1_1DecreasingStreamIdIsProtocolError() {
        var server = activeServer()
        server.sendRequest(streamID: 3)
        _ = server.events()
        server.sendRequest(streamID: 1)
        #expect(server.sent() == [.goAway(last: 3, .protocolError)])
        #expect(server.events() == [.reset(3, .protocolError), .closed(3), .connectionError(.protocolError)])
    }

    @Test func rfc9113Section5_1_1ReusingTheSameStreamIdForANewRequestIsAnError() throws {
        // Stream 1 completed normally: a second request on it is HEADERS on a closed stream.
        var server = activeServer()
        server.sendRequest(streamID: 1, endStream: true)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: true)
        _ = server.sent()
        _ = server.events()
        server.sendRequest(streamID: 1, endStream: true)
        #expect(server.sent() == [.goAway(last: 1, .streamClosed)])  // RFC 9113 §5.1 "closed"
        #expect(server.events() == [.connectionError(.streamClosed)])
    }

    @Test func rfc9113Section5_1_1SkippedStreamIdsAreClosed() {
        // Opening 7 implicitly closes 3 and 5 (never used): HEADERS on 5 is PROTOCOL_ERROR.
        var server = activeServer()
        server.sendRequest(streamID: 1)
        server.sendRequest(streamID: 7)
        #expect(server.events() == [.headers(1, fields(requestHead()), endStream: false), .headers(7, fields(requestHead()), endStream: false)])
        server.sendRequest(streamID: 5)
        #expect(server.sent() == [.goAway(last: 7, .protocolError)])
    }

    @Test func rfc9113Section5_1HeadersOnAHalfClosedRemoteStreamIsStreamClosed() {
        var server = activeServer()
        server.sendRequest(streamID: 1, endStream: true)
        _ = server.events()
        let again = server.headers(streamID: 1, [HPACKHeader("x-late", "1")], endStream: true)
        server.receive(again)
        #expect(server.sent() == [.rst(1, .streamClosed)])
        #expect(server.events() == [.closed(1), .streamError(1, .streamClosed)])
        // The connection goes on.
        server.sendRequest(streamID: 3, endStream: true)
        #expect(server.events() == [.headers(3, fields(requestHead()), endStream: true)])
        #expect(server.connection.state == .active)
    }

    // MARK: DATA and stream state

    @Test func rfc9113Section5_1DataOnAnIdleStreamIsProtocolError() {
        var server = activeServer()
        server.receive(dataFrame(streamID: 1, [1, 2, 3]))
        #expect(server.sent() == [.goAway(last: 0, .protocolError)])
        #expect(server.events() == [.connectionError(.protocolError)])
    }

    @Test func rfc9113Section5_1DataOnAHalfClosedRemoteStreamIsStreamClosed() {
        var server = activeServer()
        server.sendRequest(streamID: 1, endStream: true)
        _ = server.events()
        server.receive(dataFrame(streamID: 1, [1, 2, 3]))
        #expect(server.sent() == [.rst(1, .streamClosed)])
        #expect(server.events() == [.closed(1), .streamError(1, .streamClosed)])
        #expect(server.connection.openStreamCount == 0)
    }

    @Test func rfc9113Section5_1DataOnAClosedStreamIsStreamClosed() throws {
        var server = activeServer()
        server.sendRequest(streamID: 1, endStream: true)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: true)
        _ = server.sent()
        _ = server.events()
        server.receive(dataFrame(streamID: 1, [1, 2, 3]))
        #expect(server.sent() == [.rst(1, .streamClosed)])
        #expect(server.events() == [.streamError(1, .streamClosed)])
        #expect(server.connection.state == .active)
    }

    @Test func rfc9113Section5_1FramesOnAStreamWeResetAreIgnored() {
        // The peer may have sent them before it saw our RST_STREAM.
        var server = activeServer()
        server.sendRequest(streamID: 1)
        _ = server.events()
        server.connection.resetStream(1, code: .cancel)
        #expect(server.sent() == [.rst(1, .cancel)])
        #expect(server.events() == [.closed(1)])
        let trailers = server.headers(streamID: 1, [HPACKHeader("x-trailer", "1")], endStream: true)
        server.receive(dataFrame(streamID: 1, patternBytes(100)), windowUpdateFrame(streamID: 1, increment: 10),
                       rstStreamFrame(streamID: 1, code: .cancel), trailers, priorityFrame(streamID: 1))
        #expect(server.sent() == [])
        #expect(server.events() == [])
        #expect(server.connection.state == .active)
    }

    @Test func dataBeforeARequestHeadCannotHappenButDataAfterItIsDelivered() {
        var server = activeServer()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        server.receive(dataFrame(streamID: 1, [1, 2, 3]), dataFrame(streamID: 1, [4], endStream: true))
        #expect(server.events() == [
            .headers(1, fields(requestHead(method: "POST")), endStream: false),
            .data(1, [1, 2, 3], endStream: false),
            .data(1, [4], endStream: true),
        ])
        #expect(server.sent() == [])
    }

    // MARK: RST_STREAM

    @Test func rfc9113Section6_4RstStreamOnAnIdleStreamIsProtocolError() {
        var server = activeServer()
        server.sendRequest(streamID: 1)
        _ = server.events()
        server.receive(rstStreamFrame(streamID: 3, code: .cancel))
        #expect(server.sent() == [.goAway(last: 1, .protocolError)])
    }

    @Test func rfc9113Section6_4RstStreamClosesTheStream() {
        var server = activeServer()
        server.sendRequest(streamID: 1)
        _ = server.events()
        server.receive(rstStreamFrame(streamID: 1, code: .cancel))
        #expect(server.events() == [.reset(1, .cancel), .closed(1)])
        #expect(server.sent() == [])  // never answered with RST_STREAM (§5.4.2)
        #expect(throws: HTTP2StreamError.streamClosed(1)) {
            try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: true)
        }
        // RST_STREAM on the closed stream is ignored.
        server.receive(rstStreamFrame(streamID: 1, code: .internalError))
        #expect(server.sent() == [])
        #expect(server.events() == [])
    }

    @Test func rfc9113Section5_4_2ApplicationResetOfAStreamThePeerResetSendsNothing() {
        // No RST_STREAM in answer to RST_STREAM, nor any frame on a closed stream (§5.1).
        var server = activeServer()
        server.sendRequest(streamID: 1, endStream: true)
        server.receive(rstStreamFrame(streamID: 1, code: .cancel))
        _ = server.events()
        server.connection.resetStream(1, code: .internalError)  // e.g. the handler failed
        #expect(server.sent() == [])
        #expect(server.events() == [])
        // A completed stream, likewise.
        server.sendRequest(streamID: 3, endStream: true)
        #expect((try? server.connection.sendHeaders(streamID: 3, responseHead(), endStream: true)) == 3)
        _ = server.sent()
        _ = server.events()
        server.connection.resetStream(3, code: .cancel)
        #expect(server.sent() == [])
        #expect(server.events() == [])
    }

    @Test func applicationResetOfAnOpenStream() {
        var server = activeServer()
        server.sendRequest(streamID: 1)
        _ = server.events()
        server.connection.resetStream(1, code: .internalError, reason: "handler failed")
        #expect(server.sent() == [.rst(1, .internalError)])
        #expect(server.events() == [.closed(1), .streamError(1, .internalError)])
        #expect(server.connection.openStreamCount == 0)
    }

    // MARK: WINDOW_UPDATE and PRIORITY on streams in various states

    @Test func rfc9113Section5_1WindowUpdateOnAClosedStreamIsIgnored() throws {
        var server = activeServer()
        server.sendRequest(streamID: 1, endStream: true)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: true)
        _ = server.sent()
        _ = server.events()
        server.receive(windowUpdateFrame(streamID: 1, increment: 100))
        #expect(server.sent() == [])
        #expect(server.connection.state == .active)
    }

    @Test func rfc9113Section5_3_2PriorityIsIgnoredInAnyStateAndOpensNothing() {
        var server = activeServer()
        // On an idle stream: no error, and the id is not used up.
        server.receive(priorityFrame(streamID: 9, dependsOn: 1, weight: 200))
        server.sendRequest(streamID: 1)
        server.receive(priorityFrame(streamID: 1, dependsOn: 0, weight: 1))
        #expect(server.sent() == [])
        #expect(server.events() == [.headers(1, fields(requestHead()), endStream: false)])
        #expect(server.connection.state == .active)
    }

    @Test func rfc9113Section5_3_1HeadersThatDependOnTheirOwnStreamAreAStreamError() {
        var server = activeServer()
        server.receive(headersFrame(streamID: 1, block: server.block(requestHead()), endStream: true, priority: (dependency: 1, weight: 16)))
        #expect(server.sent() == [.rst(1, .protocolError)])
        let events = server.connection.takeEvents()
        guard case .streamError(1, let error)? = events.first else {
            Issue.record("expected a stream error, got \(events)")
            return
        }
        #expect(error.reason.contains("§5.3.1"), "\(error.reason)")
        // The header block was decoded (the HPACK context stays in step), and the connection
        // goes on; also when the block is split over CONTINUATION, and with the exclusive bit set.
        server.sendRequest(streamID: 3, requestHead(path: "/next"), endStream: true)
        #expect(server.events() == [.headers(3, fields(requestHead(path: "/next")), endStream: true)])
        let split = server.block(requestHead(path: "/split"))
        server.receive(headersFrame(streamID: 5, block: Array(split[..<3]), endStream: true, endHeaders: false,
                                    priority: (dependency: 0x8000_0005, weight: 16)),
                       continuationFrame(streamID: 5, block: Array(split[3...])))
        #expect(server.sent() == [.rst(5, .protocolError)])
        _ = server.events()
        server.sendRequest(streamID: 7, requestHead(path: "/last"), endStream: true)
        #expect(server.events() == [.headers(7, fields(requestHead(path: "/last")), endStream: true)])
        #expect(server.connection.state == .active)
        // A dependency on another stream is still fine (§5.3.2: ignored).
        server.receive(headersFrame(streamID: 9, block: server.block(requestHead()), endStream: true, priority: (dependency: 7, weight: 16)))
        #expect(server.events() == [.headers(9, fields(requestHead()), endStream: true)])
    }

    @Test func rfc9113Section5_3_1PriorityThatDependsOnItsOwnStreamIsAnError() {
        // On an open stream: RST_STREAM(PROTOCOL_ERROR), and the connection goes on.
        var server = activeServer()
        server.sendRequest(streamID: 1)
        _ = server.events()
        server.receive(priorityFrame(streamID: 1, dependsOn: 1, weight: 16))
        #expect(server.sent() == [.rst(1, .protocolError)])
        #expect(server.connection.state == .active)
        // On an idle stream no RST_STREAM may be sent (§6.4): a connection error instead.
        server.receive(priorityFrame(streamID: 11, dependsOn: 11, weight: 16))
        #expect(server.sent() == [.goAway(last: 1, .protocolError)])
    }

    @Test func rfc9113Section6_3PriorityOfTheWrongLengthIsAStreamError() {
        var server = activeServer()
        server.sendRequest(streamID: 1)
        _ = server.events()
        server.receive(rawFrame(type: HTTP2FrameType.priority, streamID: 1, payload: [0, 0, 0, 0, 0, 0]), pingFrame(5))
        // RST_STREAM(FRAME_SIZE_ERROR) on that stream; the connection goes on.
        #expect(server.sent() == [.rst(1, .frameSizeError), .ping(5, ack: true)])
        #expect(server.events() == [.closed(1), .streamError(1, .frameSizeError)])
        #expect(server.connection.state == .active)
    }

    @Test func rfc9113Section6_4StreamErrorsOnIdleStreamsAreConnectionErrors() {
        // RST_STREAM may not be sent on an idle stream: a PRIORITY of the wrong size or a
        // WINDOW_UPDATE of 0 there closes the connection instead.
        var server = activeServer()
        server.receive(rawFrame(type: HTTP2FrameType.priority, streamID: 5, payload: [0, 0, 0, 0]))
        #expect(server.sent() == [.goAway(last: 0, .frameSizeError)])
        var other = activeServer()
        other.receive(windowUpdateFrame(streamID: 5, increment: 0))
        #expect(other.sent() == [.goAway(last: 0, .protocolError)])
    }

    @Test func rfc9113Section6_3PriorityOfTheWrongLengthOnAClosedStreamIsReset() throws {
        var server = activeServer()
        server.sendRequest(streamID: 1, endStream: true)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: true)
        _ = server.sent()
        _ = server.events()
        server.receive(rawFrame(type: HTTP2FrameType.priority, streamID: 1, payload: [0, 0, 0, 0]))
        #expect(server.sent() == [.rst(1, .frameSizeError)])
        #expect(server.events() == [.streamError(1, .frameSizeError)])
    }

    @Test func rfc9113Section5_3_2HeadersWithPriorityFieldsOpenTheStream() {
        var server = activeServer()
        let block = server.block(requestHead())
        server.receive(headersFrame(streamID: 1, block: block, endStream: true, priority: (dependency: 0x8000_0000, weight: 42)))
        #expect(server.events() == [.headers(1, fields(requestHead()), endStream: true)])
        #expect(server.sent() == [])
    }

    // MARK: Concurrency (RFC 9113 §5.1.2)

    @Test func rfc9113Section5_1_2StreamsBeyondMaxConcurrentStreamsAreRefused() throws {
        var server = activeServer { $0.maxConcurrentStreams = 2 }
        server.sendRequest(streamID: 1)
        server.sendRequest(streamID: 3)
        _ = server.events()
        server.sendRequest(streamID: 5)
        #expect(server.sent() == [.rst(5, .refusedStream)])
        #expect(server.events() == [.streamError(5, .refusedStream)])
        // The refused stream's DATA is ignored; the connection keeps serving.
        server.receive(dataFrame(streamID: 5, [1, 2], endStream: true))
        #expect(server.sent() == [])
        #expect(server.connection.state == .active)
        // Once stream 1 is done, a new stream fits.
        server.receive(dataFrame(streamID: 1, [], endStream: true))
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: true)
        _ = server.sent()
        #expect(server.events() == [.data(1, [], endStream: true), .closed(1)])
        server.sendRequest(streamID: 7, endStream: true)
        #expect(server.events() == [.headers(7, fields(requestHead()), endStream: true)])
        #expect(server.sent() == [])
        #expect(server.connection.openStreamCount == 2)
    }

    @Test func rfc9113Section5_1_2ZeroMaxConcurrentStreamsRefusesEverything() {
        var server = activeServer { $0.maxConcurrentStreams = 0 }
        server.sendRequest(streamID: 1, endStream: true)
        server.sendRequest(streamID: 3, endStream: true)
        #expect(server.sent() == [.rst(1, .refusedStream), .rst(3, .refusedStream)])
        #expect(server.connection.state == .active)
    }

    @Test func rfc9113Section5_1_2ClientHonoursTheServersLimit() throws {
        var client = PeerHarness.client()
        client.handshake([HTTP2Setting(HTTP2Setting.maxConcurrentStreams, 1)])
        #expect(try client.connection.sendHeaders(requestHead(), endStream: true) == 1)
        #expect(throws: HTTP2StreamError.streamLimitReached(1)) {
            try client.connection.sendHeaders(requestHead(), endStream: true)
        }
        client.deliverHeaders(streamID: 1, responseHead(), endStream: true)
        #expect(try client.connection.sendHeaders(requestHead(), endStream: true) == 3)
    }

    // MARK: The client side

    @Test func clientStreamIdsAreOddAndIncreasing() throws {
        var client = activeClient()
        #expect(try client.connection.sendHeaders(requestHead(), endStream: true) == 1)
        #expect(try client.connection.sendHeaders(requestHead(), endStream: false) == 3)
        #expect(try client.connection.sendHeaders(requestHead(), endStream: true) == 5)
        #expect(client.sent().map { if case .headers(let id, _, let end) = $0 { return "\(id) \(end)" } else { return "\($0)" } }
                == ["1 true", "3 false", "5 true"])
    }

    @Test func serverCannotSendHeadersOnANewStream() {
        var server = activeServer()
        #expect(throws: HTTP2StreamError.streamClosed(0)) { try server.connection.sendHeaders(responseHead(), endStream: true) }
    }

    @Test func rfc9113Section5_1_1ResponseOnAStreamTheClientNeverOpenedIsProtocolError() {
        var client = activeClient()
        client.deliverHeaders(streamID: 1, responseHead(), endStream: true)
        #expect(client.sent() == [.goAway(last: 0, .protocolError)])
    }

    @Test func rfc9113Section8_4HeadersOnAnEvenStreamToAClientIsProtocolError() {
        // A server stream without PUSH_PROMISE.
        var client = activeClient()
        client.deliverHeaders(streamID: 2, responseHead(), endStream: true)
        #expect(client.sent() == [.goAway(last: 0, .protocolError)])
    }

    @Test func clientSeesResetRefusedStream() throws {
        var client = activeClient()
        try client.connection.sendHeaders(requestHead(), endStream: false)
        _ = client.sent()
        client.receive(rstStreamFrame(streamID: 1, code: .refusedStream))
        #expect(client.events() == [.reset(1, .refusedStream), .closed(1)])
        #expect(throws: HTTP2StreamError.streamClosed(1)) {
            try client.connection.sendData(streamID: 1, ByteBuffer(bytes: [1]), endStream: true)
        }
        // The client may not answer with RST_STREAM; nothing goes out.
        #expect(client.sent() == [])
    }

    @Test func rfc9113Section5_1ClientDataOnAClosedStreamIsStreamClosed() throws {
        var client = activeClient()
        try client.connection.sendHeaders(requestHead(), endStream: true)
        _ = client.sent()
        client.deliverHeaders(streamID: 1, responseHead(), endStream: true)
        #expect(client.events() == [.headers(1, fields(responseHead()), endStream: true), .closed(1)])
        client.receive(dataFrame(streamID: 1, [1]))
        #expect(client.sent() == [.rst(1, .streamClosed)])
    }

    @Test func sendingOnAStreamThatIsDoneFails() throws {
        var server = activeServer()
        server.sendRequest(streamID: 1, endStream: true)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        try server.connection.sendData(streamID: 1, ByteBuffer(bytes: [1]), endStream: true)
        #expect(throws: HTTP2StreamError.streamClosed(1)) {
            try server.connection.sendData(streamID: 1, ByteBuffer(bytes: [2]), endStream: false)
        }
        #expect(throws: HTTP2StreamError.streamClosed(9)) {
            try server.connection.sendData(streamID: 9, ByteBuffer(bytes: [2]), endStream: false)
        }
        #expect(server.sent() == [.headers(1, fields(responseHead()), endStream: false), .data(1, length: 1, endStream: true)])
    }

    @Test func dataBeforeResponseHeadersIsRefusedLocally() {
        var server = activeServer()
        server.sendRequest(streamID: 1, endStream: true)
        #expect(throws: HTTP2StreamError.streamClosed(1)) {
            try server.connection.sendData(streamID: 1, ByteBuffer(bytes: [1]), endStream: true)
        }
    }
}
