import InteropTestSupport
import Testing
import Loop
@testable import LoopHTTP2

/// Flow control in both directions (RFC 9113 §5.2, §6.9): what we accept, the credit we
/// return (as the application consumes, docs/architecture.md, backpressure), and what we send.
@Suite struct HTTP2FlowControlTests {
    private static let initialWindowSize = HTTP2Setting.initialWindowSize

    // MARK: Receiving

    @Test func rfc9113Section6_9DataBeyondTheStreamWindowIsRstFlowControlError() {
        var server = PeerHarness.server { $0.initialStreamWindowSize = 100 }
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        server.receive(dataFrame(streamID: 1, patternBytes(60)), dataFrame(streamID: 1, patternBytes(40, seed: 60)))
        #expect(server.sent() == [])
        #expect(server.events() == [
            .headers(1, fields(requestHead(method: "POST")), endStream: false),
            .data(1, patternBytes(60), endStream: false),
            .data(1, patternBytes(40, seed: 60), endStream: false),
        ])
        server.receive(dataFrame(streamID: 1, [1]))
        #expect(server.sent() == [.rst(1, .flowControlError)])
        #expect(server.events() == [.closed(1), .streamError(1, .flowControlError)])
        #expect(server.connection.state == .active)
    }

    @Test func rfc9113Section6_1PaddingCountsAgainstTheStreamWindow() {
        var server = PeerHarness.server { $0.initialStreamWindowSize = 100 }
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        _ = server.events()
        // 1 + 60 + 39 = 100 flow-controlled bytes: exactly the window. (The 40 bytes of
        // padding are credited at once, but only once half the window is due: not yet.)
        server.receive(dataFrame(streamID: 1, patternBytes(60), padLength: 39))
        #expect(server.events() == [.data(1, patternBytes(60), endStream: false)])
        server.receive(dataFrame(streamID: 1, []))  // an empty frame costs nothing
        #expect(server.sent() == [])
        server.receive(dataFrame(streamID: 1, [], padLength: 0))  // a pad length octet costs one
        #expect(server.sent() == [.rst(1, .flowControlError)])
    }

    @Test func rfc9113Section6_9DataBeyondTheConnectionWindowIsGoAwayFlowControlError() {
        var server = PeerHarness.server { $0.connectionWindowSize = 65_535 }
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        server.sendRequest(streamID: 3, requestHead(method: "POST"))
        server.receive(dataFrame(streamID: 1, patternBytes(16_384)), dataFrame(streamID: 1, patternBytes(16_384)),
                       dataFrame(streamID: 1, patternBytes(16_384)), dataFrame(streamID: 3, patternBytes(16_383)))
        #expect(server.sent() == [])  // 65,535 bytes: the whole connection window, nothing consumed
        _ = server.events()
        server.receive(dataFrame(streamID: 3, [1]))
        #expect(server.sent() == [.goAway(last: 3, .flowControlError)])
        #expect(server.events().last == .connectionError(.flowControlError))
    }

    @Test func designPrinciple5NoWindowUpdateOnReceiptOnlyAsTheApplicationConsumes() {
        var server = PeerHarness.server { $0.initialStreamWindowSize = 1000; $0.connectionWindowSize = 65_535 }
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        server.receive(dataFrame(streamID: 1, patternBytes(600)))
        #expect(server.sent() == [])
        server.connection.consumed(streamID: 1, bytes: 300)
        #expect(server.sent() == [])  // below half the window: held back
        server.connection.consumed(streamID: 1, bytes: 300)
        #expect(server.sent() == [.windowUpdate(1, increment: 600)])
        // The peer may now send 1000 more (400 left + 600 returned), and not one byte beyond.
        server.receive(dataFrame(streamID: 1, patternBytes(1000)))
        #expect(server.sent() == [])
        server.receive(dataFrame(streamID: 1, [1]))
        #expect(server.sent() == [.rst(1, .flowControlError)])
    }

    @Test func designPrinciple5ConnectionCreditIsReturnedAsConsumed() {
        var server = PeerHarness.server { $0.connectionWindowSize = 65_535 }
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        server.receive(dataFrame(streamID: 1, patternBytes(16_384)), dataFrame(streamID: 1, patternBytes(16_384)))
        #expect(server.sent() == [])
        server.connection.consumed(streamID: 1, bytes: 32_766)
        #expect(server.sent() == [])
        server.connection.consumed(streamID: 1, bytes: 1)
        #expect(server.sent() == [.windowUpdate(0, increment: 32_767)])  // half of 65,535
        server.connection.consumed(streamID: 1, bytes: 1)
        #expect(server.sent() == [])
    }

    @Test func rfc9113Section6_1PaddingCreditIsReturnedAtOnce() {
        // Padding is never delivered, so it is credited without waiting for the application.
        var server = PeerHarness.server { $0.initialStreamWindowSize = 400; $0.connectionWindowSize = 65_535 }
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        _ = server.events()
        server.receive(dataFrame(streamID: 1, patternBytes(10), padLength: 255))
        #expect(server.sent() == [.windowUpdate(1, increment: 256)])  // pad length octet + 255
        #expect(server.events() == [.data(1, patternBytes(10), endStream: false)])
        server.connection.consumed(streamID: 1, bytes: 10)
        #expect(server.sent() == [])
    }

    @Test func rfc9113Section6_1PaddingCreditReachesTheConnectionWindowToo() {
        var server = PeerHarness.server { $0.initialStreamWindowSize = 400; $0.connectionWindowSize = 65_535 }
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        // 128 frames of pure padding: 128 × 256 = 32,768 bytes, past half the connection window.
        for _ in 0..<128 { server.receive(dataFrame(streamID: 1, [], padLength: 255)) }
        let sent = server.sent()
        #expect(sent.filter { $0 == .windowUpdate(1, increment: 256) }.count == 128)
        #expect(sent.filter { if case .windowUpdate(0, _) = $0 { return true } else { return false } } == [.windowUpdate(0, increment: 32_768)])
        #expect(sent.count == 129)
    }

    @Test func rfc9113Section6_9DataOnAStreamWeResetStillCountsForTheConnection() {
        var server = PeerHarness.server { $0.connectionWindowSize = 65_535 }
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        server.connection.resetStream(1, code: .cancel)
        #expect(server.sent() == [.rst(1, .cancel)])
        // In flight before the peer saw our RST_STREAM: ignored, but its credit comes back.
        server.receive(dataFrame(streamID: 1, patternBytes(16_384)), dataFrame(streamID: 1, patternBytes(16_384)))
        #expect(server.sent() == [.windowUpdate(0, increment: 32_768)])
    }

    @Test func designPrinciple5ConnectionCreditIsReturnedOncePerByte() throws {
        // Requests whose bodies the application consumes only after the stream closed (it
        // answered first): each byte is credited once, by the close or by consumed(), never
        // by both; a peer would otherwise see its connection window grow without bound
        // (and finally overflow 2^31-1, RFC 9113 §6.9.1).
        var server = PeerHarness.server { $0.connectionWindowSize = 65_535 }
        server.handshake()
        var increments: [UInt32] = []
        for id: UInt32 in [1, 3] {
            server.sendRequest(streamID: id, requestHead(method: "POST"))
            server.receive(dataFrame(streamID: id, patternBytes(16_384)), dataFrame(streamID: id, patternBytes(3616), endStream: true))
            _ = server.events()
            try server.connection.sendHeaders(streamID: id, responseHead(), endStream: true)
            server.connection.consumed(streamID: id, bytes: 20_000)
            for frame in server.sent() { if case .windowUpdate(0, let increment) = frame { increments.append(increment) } }
        }
        #expect(increments == [40_000])
    }

    @Test func designPrinciple5NeverMoreCreditThanWasDelivered() {
        var server = PeerHarness.server { $0.initialStreamWindowSize = 1000; $0.connectionWindowSize = 65_535 }
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        server.receive(dataFrame(streamID: 1, patternBytes(600)))
        server.connection.consumed(streamID: 1, bytes: 5000)  // an application miscounting
        #expect(server.sent() == [.windowUpdate(1, increment: 600)])
        server.connection.consumed(streamID: 9, bytes: 100_000)  // a stream that never was
        #expect(server.sent() == [])
    }

    @Test func designPrinciple5NoStreamWindowUpdateAfterThePeerEndedTheStream() {
        var server = PeerHarness.server { $0.initialStreamWindowSize = 1000 }
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        server.receive(dataFrame(streamID: 1, patternBytes(900), endStream: true))
        server.connection.consumed(streamID: 1, bytes: 900)
        #expect(server.sent() == [])
    }

    // MARK: WINDOW_UPDATE rules (RFC 9113 §6.9, §6.9.1)

    @Test func rfc9113Section6_9WindowUpdateOfZeroOnAStreamIsRstProtocolError() {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1)
        _ = server.events()
        server.receive(windowUpdateFrame(streamID: 1, increment: 0), pingFrame(3))
        #expect(server.sent() == [.rst(1, .protocolError), .ping(3, ack: true)])
        #expect(server.events() == [.closed(1), .streamError(1, .protocolError)])
        #expect(server.connection.state == .active)
    }

    @Test func rfc9113Section6_9WindowUpdateOfZeroOnTheConnectionIsGoAwayProtocolError() {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1)
        _ = server.events()
        server.receive(windowUpdateFrame(streamID: 0, increment: 0))
        #expect(server.sent() == [.goAway(last: 1, .protocolError)])
        #expect(server.events() == [.reset(1, .protocolError), .closed(1), .connectionError(.protocolError)])
    }

    @Test func rfc9113Section6_9_1StreamWindowOverflowIsRstFlowControlError() {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1)
        _ = server.events()
        server.receive(windowUpdateFrame(streamID: 1, increment: 0x7FFF_FFFF - 65_535))  // exactly 2^31-1
        #expect(server.sent() == [])
        server.receive(windowUpdateFrame(streamID: 1, increment: 1))
        #expect(server.sent() == [.rst(1, .flowControlError)])
        #expect(server.events() == [.closed(1), .streamError(1, .flowControlError)])
        #expect(server.connection.state == .active)
    }

    @Test func rfc9113Section6_9_1ConnectionWindowOverflowIsGoAwayFlowControlError() {
        var server = PeerHarness.server()
        server.handshake()
        server.receive(windowUpdateFrame(streamID: 0, increment: 0x7FFF_FFFF - 65_535))
        #expect(server.sent() == [])
        server.receive(windowUpdateFrame(streamID: 0, increment: 1))
        #expect(server.sent() == [.goAway(last: 0, .flowControlError)])
        #expect(server.events() == [.connectionError(.flowControlError)])
    }

    @Test func rfc9113Section6_9_2InitialWindowSizeChangeThatOverflowsAStreamWindowIsGoAwayFlowControlError() {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1)
        _ = server.events()
        server.receive(windowUpdateFrame(streamID: 1, increment: 0x7FFF_FFFF - 65_535))
        server.receive(settingsFrame([HTTP2Setting(Self.initialWindowSize, 65_536)]))
        #expect(server.sent() == [.goAway(last: 1, .flowControlError)])
        #expect(server.events() == [.reset(1, .flowControlError), .closed(1), .connectionError(.flowControlError)])
    }

    // MARK: Sending

    @Test func rfc9113Section6_9_2InitialWindowSizeChangesApplyToOpenStreamsIncludingNegativeWindows() throws {
        var server = PeerHarness.server()
        server.handshake([HTTP2Setting(Self.initialWindowSize, 1000)])
        server.sendRequest(streamID: 1, endStream: true)
        _ = server.events()
        let body = patternBytes(5000)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        try server.connection.sendData(streamID: 1, ByteBuffer(bytes: body), endStream: true)
        var frames = server.frames()
        #expect(frames.map(FrameSummary.init) == [.headers(1, fields(responseHead()), endStream: false), .data(1, length: 1000, endStream: false)])
        var received = dataBytes(frames, streamID: 1)

        // 1000 → 500: the window is 0 - 500 = -500.
        server.receive(settingsFrame([HTTP2Setting(Self.initialWindowSize, 500)]))
        #expect(server.sent() == [.settingsAck])
        // -500 + 400 = -100: still nothing may be sent.
        server.receive(windowUpdateFrame(streamID: 1, increment: 400))
        #expect(server.sent() == [])
        // -100 + 200 = 100.
        server.receive(windowUpdateFrame(streamID: 1, increment: 200))
        frames = server.frames()
        #expect(frames.map(FrameSummary.init) == [.data(1, length: 100, endStream: false)])
        received += dataBytes(frames, streamID: 1)
        // 500 → 3000 adds 2500 to the open stream.
        server.receive(settingsFrame([HTTP2Setting(Self.initialWindowSize, 3000)]))
        frames = server.frames()
        #expect(frames.map(FrameSummary.init) == [.settingsAck, .data(1, length: 2500, endStream: false)])
        received += dataBytes(frames, streamID: 1)
        server.receive(windowUpdateFrame(streamID: 1, increment: 5000))
        frames = server.frames()
        #expect(frames.map(FrameSummary.init) == [.data(1, length: 1400, endStream: true)])
        received += dataBytes(frames, streamID: 1)
        #expect(received == body)
        #expect(server.events() == [.closed(1)])
    }

    @Test func rfc9113Section6_9_2NewStreamsUseTheCurrentInitialWindowSize() throws {
        var server = PeerHarness.server()
        server.handshake([HTTP2Setting(Self.initialWindowSize, 10)])
        server.receive(settingsFrame([HTTP2Setting(Self.initialWindowSize, 20)]))
        _ = server.sent()
        server.sendRequest(streamID: 1, endStream: true)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        try server.connection.sendData(streamID: 1, ByteBuffer(bytes: patternBytes(100)), endStream: true)
        #expect(server.sent() == [.headers(1, fields(responseHead()), endStream: false), .data(1, length: 20, endStream: false)])
    }

    @Test func rfc9113Section6_9ZeroWindowSendsNothingUntilAWindowUpdate() throws {
        var server = PeerHarness.server()
        server.handshake([HTTP2Setting(Self.initialWindowSize, 0)])
        server.sendRequest(streamID: 1, endStream: true)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        try server.connection.sendData(streamID: 1, ByteBuffer(bytes: patternBytes(10)), endStream: true)
        #expect(server.sent() == [.headers(1, fields(responseHead()), endStream: false)])
        #expect(server.connection.bufferedBytes(streamID: 1) == 10)
        server.receive(windowUpdateFrame(streamID: 0, increment: 1000))  // the connection alone is not enough
        #expect(server.sent() == [])
        server.receive(windowUpdateFrame(streamID: 1, increment: 4))
        #expect(server.sent() == [.data(1, length: 4, endStream: false)])
        server.receive(windowUpdateFrame(streamID: 1, increment: 6))
        #expect(server.sent() == [.data(1, length: 6, endStream: true)])
        #expect(server.connection.bufferedBytes(streamID: 1) == 0)
    }

    @Test func rfc9113Section6_9EndStreamAndTrailersAreNotFlowControlled() throws {
        var server = PeerHarness.server()
        server.handshake([HTTP2Setting(Self.initialWindowSize, 0)])
        server.sendRequest(streamID: 1, endStream: true)
        server.sendRequest(streamID: 3, endStream: true)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        try server.connection.sendData(streamID: 1, ByteBuffer(), endStream: true)
        try server.connection.sendHeaders(streamID: 3, responseHead(), endStream: false)
        try server.connection.sendHeaders(streamID: 3, [HPACKHeader("grpc-status", "0")], endStream: true)
        #expect(server.sent() == [
            .headers(1, fields(responseHead()), endStream: false), .data(1, length: 0, endStream: true),
            .headers(3, fields(responseHead()), endStream: false), .headers(3, ["grpc-status: 0"], endStream: true),
        ])
    }

    @Test func trailersWaitForTheDataQueuedBeforeThem() throws {
        var server = PeerHarness.server()
        server.handshake([HTTP2Setting(Self.initialWindowSize, 100)])
        server.sendRequest(streamID: 1, endStream: true)
        _ = server.events()
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        try server.connection.sendData(streamID: 1, ByteBuffer(bytes: patternBytes(300)), endStream: false)
        try server.connection.sendHeaders(streamID: 1, [HPACKHeader("grpc-status", "0")], endStream: true)
        #expect(server.sent() == [.headers(1, fields(responseHead()), endStream: false), .data(1, length: 100, endStream: false)])
        server.receive(windowUpdateFrame(streamID: 1, increment: 200))
        #expect(server.sent() == [.data(1, length: 200, endStream: false), .headers(1, ["grpc-status: 0"], endStream: true)])
        #expect(server.events() == [.closed(1)])
    }

    @Test func rfc9113Section4_2DataFramesFollowThePeersMaxFrameSize() throws {
        var server = PeerHarness.server()
        server.handshake([HTTP2Setting(HTTP2Setting.maxFrameSize, 20_000), HTTP2Setting(Self.initialWindowSize, 1 << 20)])
        server.outputDecoder.maxFrameSize = 20_000
        server.sendRequest(streamID: 1, endStream: true)
        let body = patternBytes(50_000)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        try server.connection.sendData(streamID: 1, ByteBuffer(bytes: body), endStream: true)
        let frames = server.frames()
        #expect(frames.map(FrameSummary.init) == [
            .headers(1, fields(responseHead()), endStream: false),
            .data(1, length: 20_000, endStream: false), .data(1, length: 20_000, endStream: false), .data(1, length: 10_000, endStream: true),
        ])
        #expect(dataBytes(frames, streamID: 1) == body)
    }

    @Test func rfc9113Section4_2LargeHeaderBlocksAreSplitIntoContinuations() throws {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1, endStream: true)
        let big = responseHead(extra: (0..<3).map { ("x-\($0)", String(repeating: "\($0)", count: 10_000)) })
        try server.connection.sendHeaders(streamID: 1, big, endStream: true)
        let bytes = takeOutput(&server.connection)
        // HEADERS of 16,384 bytes without END_HEADERS, then CONTINUATION.
        #expect(bytes.getInteger(at: 0, as: UInt16.self) == 0x0040 && bytes.getInteger(at: 2, as: UInt8.self) == 0x00)
        #expect(bytes.getInteger(at: 4, as: UInt8.self) == HTTP2FrameFlags.endStream)
        #expect(bytes.getInteger(at: 9 + 16_384 + 3, as: UInt8.self) == HTTP2FrameType.continuation)
        #expect(decodeAll(bytes, with: &server.outputDecoder).map(FrameSummary.init) == [.headers(1, fields(big), endStream: true)])
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func rfc9113Section6_9TheSenderNeverExceedsAWindowAndUsesAllItGets(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        var server = PeerHarness.server()
        server.handshake([HTTP2Setting(Self.initialWindowSize, 100)])
        let ids: [UInt32] = [1, 3, 5]
        let size = 40_000
        var granted: [UInt32: Int] = [:], sent: [UInt32: Int] = [:], received: [UInt32: [UInt8]] = [:]
        var connectionGranted = 65_535, connectionSent = 0
        for (index, id) in ids.enumerated() {
            server.sendRequest(streamID: id, endStream: true)
            try server.connection.sendHeaders(streamID: id, responseHead(), endStream: false)
            try server.connection.sendData(streamID: id, ByteBuffer(bytes: patternBytes(size, seed: index)), endStream: true)
            granted[id] = 100
            sent[id] = 0
        }
        var ended = Set<UInt32>()
        var steps = 0
        while ended.count < ids.count {
            steps += 1
            guard steps < 5000 else {
                Issue.record("seed \(seed): transfer did not finish")
                break
            }
            for frame in server.frames() {
                guard case .data(let data, let endStream, let length) = frame.payload else { continue }
                let id = frame.streamID
                #expect(length <= 16_384)
                sent[id]! += length
                connectionSent += length
                received[id, default: []] += data.readableBytesView
                #expect(sent[id]! <= granted[id]!, "seed \(seed): stream \(id) sent \(sent[id]!) of \(granted[id]!)")
                #expect(connectionSent <= connectionGranted, "seed \(seed): connection sent \(connectionSent) of \(connectionGranted)")
                if endStream { ended.insert(id) }
            }
            // Whatever is still queued is blocked by a window, never idle with credit.
            for id in ids where !ended.contains(id) && sent[id]! < size {
                #expect(sent[id]! == granted[id]! || connectionSent == connectionGranted,
                        "seed \(seed): stream \(id) idle with credit (\(sent[id]!)/\(granted[id]!), connection \(connectionSent)/\(connectionGranted))")
            }
            if Bool.random(using: &random) {
                let id = ids.randomElement(using: &random)!
                let increment = Int.random(in: 1...6000, using: &random)
                if !ended.contains(id) { granted[id]! += increment }
                server.receive(windowUpdateFrame(streamID: id, increment: UInt32(increment)))
            } else {
                let increment = Int.random(in: 1...12_000, using: &random)
                connectionGranted += increment
                server.receive(windowUpdateFrame(streamID: 0, increment: UInt32(increment)))
            }
        }
        for (index, id) in ids.enumerated() { #expect(received[id] == patternBytes(size, seed: index), "seed \(seed) stream \(id)") }
        #expect(server.connection.state == .active)
    }

    @Test func roundRobinInterleavesStreamsThatHaveDataAtTheSameTime() throws {
        var server = PeerHarness.server()
        server.handshake([HTTP2Setting(Self.initialWindowSize, 1 << 20)])
        for id: UInt32 in [1, 3, 5] { server.sendRequest(streamID: id, endStream: true) }
        _ = server.events()
        server.connection.pauseOutput()
        for id: UInt32 in [1, 3, 5] {
            try server.connection.sendHeaders(streamID: id, responseHead(), endStream: false)
            try server.connection.sendData(streamID: id, ByteBuffer(bytes: patternBytes(40_000)), endStream: true)
        }
        #expect(server.sent().count == 3)  // headers only while paused
        server.connection.resumeOutput()
        // One frame per stream per turn, until the connection window (65,535) is spent.
        #expect(server.sent() == [
            .data(1, length: 16_384, endStream: false), .data(3, length: 16_384, endStream: false),
            .data(5, length: 16_384, endStream: false), .data(1, length: 16_383, endStream: false),
        ])
        // Stream 3 was next in line; it keeps its place.
        server.receive(windowUpdateFrame(streamID: 0, increment: 1 << 20))
        #expect(server.sent() == [
            .data(3, length: 16_384, endStream: false), .data(5, length: 16_384, endStream: false),
            .data(1, length: 7233, endStream: true), .data(3, length: 7232, endStream: true),
            .data(5, length: 7232, endStream: true),
        ])
        #expect(server.events() == [.closed(1), .closed(3), .closed(5)])
    }

    @Test func pausedOutputHoldsDataButNotControlFrames() throws {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1, endStream: true)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        _ = server.sent()
        server.connection.pauseOutput()
        try server.connection.sendData(streamID: 1, ByteBuffer(bytes: [1, 2, 3]), endStream: true)
        server.receive(pingFrame(8))
        #expect(server.sent() == [.ping(8, ack: true)])
        server.connection.resumeOutput()
        #expect(server.sent() == [.data(1, length: 3, endStream: true)])
    }

    @Test func writableEventWhenQueuedBytesFallToTheThreshold() throws {
        var server = PeerHarness.server()
        server.handshake([HTTP2Setting(Self.initialWindowSize, 1000)])
        server.sendRequest(streamID: 1, endStream: true)
        _ = server.events()
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        try server.connection.sendData(streamID: 1, ByteBuffer(bytes: patternBytes(5000)), endStream: false)
        #expect(server.connection.bufferedBytes(streamID: 1) == 4000)
        server.connection.notifyWhenBuffered(streamID: 1, atMost: 2000)
        server.receive(windowUpdateFrame(streamID: 1, increment: 1000))
        #expect(server.events() == [])
        server.receive(windowUpdateFrame(streamID: 1, increment: 1000))
        #expect(server.events() == [.writable(1)])
        #expect(server.connection.bufferedBytes(streamID: 1) == 2000)
        server.receive(windowUpdateFrame(streamID: 1, increment: 1000))
        #expect(server.events() == [])  // one event per request
    }
}
