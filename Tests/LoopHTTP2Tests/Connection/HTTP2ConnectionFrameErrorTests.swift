import Testing
import Loop
@testable import LoopHTTP2

/// Frame-level violations reaching a live server: each ends the connection with GOAWAY
/// carrying the exact error code and the last stream the server accepted (RFC 9113 §5.4.1),
/// and the streams still open are reported reset.
@Suite struct HTTP2ConnectionFrameErrorTests {
    struct BadInput: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: ByteBuffer
        let code: HTTP2ErrorCode
        /// What the GOAWAY reason must name (an RFC section), if anything.
        let section: String?
        var testDescription: String { "\(name) → \(code)" }
        init(_ name: String, _ bytes: ByteBuffer, _ code: HTTP2ErrorCode, _ section: String?) {
            self.name = name
            self.bytes = bytes
            self.code = code
            self.section = section
        }
    }

    static let cases: [BadInput] = {
        let zeros = { (count: Int) in [UInt8](repeating: 0, count: count) }
        var continuationFlood = [headersFrame(streamID: 3, block: [], endHeaders: false)]
        for _ in 0...32 { continuationFlood.append(continuationFrame(streamID: 3, block: [], endHeaders: false)) }
        return [
            BadInput("DATA on stream 0", dataFrame(streamID: 0, [1]), .protocolError, "§6.1"),
            BadInput("HEADERS on stream 0", headersFrame(streamID: 0, block: encodeBlock(requestHead())), .protocolError, "§6.2"),
            BadInput("PRIORITY on stream 0", priorityFrame(streamID: 0), .protocolError, "§6.3"),
            BadInput("RST_STREAM on stream 0", rstStreamFrame(streamID: 0, code: .cancel), .protocolError, "§6.4"),
            BadInput("SETTINGS on stream 1", rawFrame(type: HTTP2FrameType.settings, streamID: 1), .protocolError, "§6.5"),
            BadInput("PING on stream 1", pingFrame(1, streamID: 1), .protocolError, "§6.7"),
            BadInput("GOAWAY on stream 1", rawFrame(type: HTTP2FrameType.goAway, streamID: 1, payload: zeros(8)), .protocolError, "§6.8"),
            BadInput("frame over SETTINGS_MAX_FRAME_SIZE", rawFrameHeader(length: 16_385, type: HTTP2FrameType.data, streamID: 1), .frameSizeError, "§4.2"),
            BadInput("SETTINGS of 5 bytes", rawFrame(type: HTTP2FrameType.settings, streamID: 0, payload: zeros(5)), .frameSizeError, "§6.5"),
            BadInput("SETTINGS ACK with payload", rawFrame(type: HTTP2FrameType.settings, flags: 1, streamID: 0, payload: zeros(6)), .frameSizeError, "§6.5"),
            BadInput("PING of 7 bytes", rawFrame(type: HTTP2FrameType.ping, streamID: 0, payload: zeros(7)), .frameSizeError, "§6.7"),
            BadInput("RST_STREAM of 3 bytes", rawFrame(type: HTTP2FrameType.rstStream, streamID: 1, payload: zeros(3)), .frameSizeError, "§6.4"),
            BadInput("WINDOW_UPDATE of 3 bytes on the connection", rawFrame(type: HTTP2FrameType.windowUpdate, streamID: 0, payload: zeros(3)), .frameSizeError, "§6.9"),
            BadInput("WINDOW_UPDATE of 5 bytes on a stream", rawFrame(type: HTTP2FrameType.windowUpdate, streamID: 1, payload: zeros(5)), .frameSizeError, "§6.9"),
            BadInput("GOAWAY of 4 bytes", rawFrame(type: HTTP2FrameType.goAway, streamID: 0, payload: zeros(4)), .frameSizeError, "§6.8"),
            BadInput("SETTINGS_ENABLE_PUSH 2", settingsFrame([HTTP2Setting(HTTP2Setting.enablePush, 2)]), .protocolError, "§6.5.2"),
            BadInput("SETTINGS_INITIAL_WINDOW_SIZE 2^31", settingsFrame([HTTP2Setting(HTTP2Setting.initialWindowSize, 1 << 31)]), .flowControlError, "§6.5.2"),
            BadInput("SETTINGS_MAX_FRAME_SIZE 16383", settingsFrame([HTTP2Setting(HTTP2Setting.maxFrameSize, 16_383)]), .protocolError, "§6.5.2"),
            BadInput("SETTINGS_MAX_FRAME_SIZE 2^24", settingsFrame([HTTP2Setting(HTTP2Setting.maxFrameSize, 1 << 24)]), .protocolError, "§6.5.2"),
            BadInput("DATA padding as long as the payload", rawFrame(type: HTTP2FrameType.data, flags: HTTP2FrameFlags.padded, streamID: 1, payload: [3, 0, 0]), .protocolError, "§6.1"),
            BadInput("HEADERS padding longer than the block",
                     rawFrame(type: HTTP2FrameType.headers, flags: HTTP2FrameFlags.padded | HTTP2FrameFlags.endHeaders, streamID: 3, payload: [9, 0x82, 0x86]),
                     .protocolError, "§6.2"),
            BadInput("CONTINUATION without HEADERS", continuationFrame(streamID: 1, block: [0x82]), .protocolError, "§6.10"),
            BadInput("PING inside a header block",
                     joined([headersFrame(streamID: 3, block: [0x82], endHeaders: false), pingFrame(1)]), .protocolError, "§6.10"),
            BadInput("CONTINUATION for another stream",
                     joined([headersFrame(streamID: 3, block: [0x82], endHeaders: false), continuationFrame(streamID: 5, block: [0x86])]), .protocolError, "§6.10"),
            BadInput("33 CONTINUATION frames", joined(continuationFlood), .enhanceYourCalm, nil),
            BadInput("PUSH_PROMISE from a client",
                     rawFrame(type: HTTP2FrameType.pushPromise, flags: HTTP2FrameFlags.endHeaders, streamID: 1, payload: bigEndianBytes(UInt32(2)) + [0x82]),
                     .protocolError, "§8.4"),
            BadInput("HPACK index 0", headersFrame(streamID: 3, block: [0x80]), .compressionError, nil),
            BadInput("HPACK truncated block", headersFrame(streamID: 3, block: [0x41, 0x05, 0x61]), .compressionError, nil),
            BadInput("HPACK table size update above SETTINGS_HEADER_TABLE_SIZE", headersFrame(streamID: 3, block: [0x3F, 0xE2, 0x1F] + [0x82]), .compressionError, nil),
            BadInput("WINDOW_UPDATE of 0 on the connection", windowUpdateFrame(streamID: 0, increment: 0), .protocolError, "§6.9"),
            BadInput("connection window over 2^31-1", windowUpdateFrame(streamID: 0, increment: 0x7FFF_FFFF), .flowControlError, "§6.9.1"),
            BadInput("HEADERS on an even stream", headersFrame(streamID: 2, block: encodeBlock(requestHead())), .protocolError, "§5.1.1"),
            BadInput("DATA on an idle stream", dataFrame(streamID: 5, [1]), .protocolError, "§5.1"),
            BadInput("RST_STREAM on an idle stream", rstStreamFrame(streamID: 5, code: .cancel), .protocolError, "§6.4"),
            BadInput("WINDOW_UPDATE on an idle stream", windowUpdateFrame(streamID: 5, increment: 1), .protocolError, "§5.1"),
            BadInput("RST_STREAM on an idle even stream", rstStreamFrame(streamID: 2, code: .cancel), .protocolError, "§6.4"),
        ]
    }()

    @Test(arguments: cases)
    func connectionErrorIsGoAwayWithExactCodeAndLastStreamID(input: BadInput) {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1)  // open, not ended: last stream id 1
        #expect(server.events() == [.headers(1, fields(requestHead()), endStream: false)])

        server.receive(input.bytes)
        #expect(server.sent() == [.goAway(last: 1, input.code)])
        let events = server.connection.takeEvents()
        #expect(events.map(EventSummary.init) == [.reset(1, input.code), .closed(1), .connectionError(input.code)])
        if let section = input.section, case .connectionError(let error)? = events.last {
            #expect(error.reason.contains(section), "reason \"\(error.reason)\" names \(section)")
        }
        #expect(server.connection.state == .closed)
        #expect(server.connection.openStreamCount == 0)

        // Closed: nothing more is read, and sending fails.
        server.receive(pingFrame(9))
        #expect(server.sent() == [])
        #expect(throws: HTTP2StreamError.connectionClosed) {
            try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: true)
        }
    }

    @Test func goAwayDebugDataCarriesTheReason() {
        var server = PeerHarness.server()
        server.handshake()
        server.receive(pingFrame(1, streamID: 3))
        let frames = server.frames()
        guard case .goAway(_, _, let debug)? = frames.first?.payload else {
            Issue.record("expected GOAWAY, got \(frames)")
            return
        }
        #expect(String(decoding: debug.readableBytesView, as: UTF8.self) == "PING on stream 3 (RFC 9113 §6.7)")
    }

    @Test func rfc9113Section5_5UnknownFrameTypesAreIgnoredByTheConnection() {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1)
        _ = server.events()
        server.receive(rawFrame(type: 0xFA, flags: 0xFF, streamID: 1, payload: patternBytes(50)),
                       rawFrame(type: 0x0B, streamID: 0), rawFrame(type: 0x20, streamID: 99, payload: [1]), pingFrame(77))
        #expect(server.sent() == [.ping(77, ack: true)])
        #expect(server.events() == [])
        #expect(server.connection.state == .active)
    }

    @Test func rfc9113Section5_5UnknownFrameBeforeTheFirstSettingsIsIgnored() {
        var server = PeerHarness.server()
        _ = server.sent()
        server.receive(prefaceBytes(), rawFrame(type: 0xCC, streamID: 0, payload: [1, 2]), settingsFrame())
        #expect(server.sent() == [.settingsAck])
        #expect(server.events() == [.ready])
    }

    @Test func rfc9113Section8_4PushPromiseToAClientIsProtocolError() throws {
        var client = PeerHarness.client()
        client.handshake()
        try client.connection.sendHeaders(requestHead(), endStream: true)
        _ = client.sent()
        client.receive(rawFrame(type: HTTP2FrameType.pushPromise, flags: HTTP2FrameFlags.endHeaders, streamID: 1,
                                payload: bigEndianBytes(UInt32(2)) + encodeBlock(requestHead())))
        // A client's GOAWAY names the last stream the server opened: none.
        #expect(client.sent() == [.goAway(last: 0, .protocolError)])
        #expect(client.events() == [.reset(1, .protocolError), .closed(1), .connectionError(.protocolError)])
    }

    @Test func rfc9113Section4_3CompressionErrorOnAClient() throws {
        var client = PeerHarness.client()
        client.handshake()
        try client.connection.sendHeaders(requestHead(), endStream: true)
        _ = client.sent()
        client.receive(headersFrame(streamID: 1, block: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]))
        #expect(client.sent() == [.goAway(last: 0, .compressionError)])
        #expect(client.events() == [.reset(1, .compressionError), .closed(1), .connectionError(.compressionError)])
    }

    @Test func errorsInTheMiddleOfABatchStopProcessing() {
        // Frames after the bad one in the same read are not processed.
        var server = PeerHarness.server()
        server.handshake()
        server.receive(pingFrame(1), pingFrame(2, streamID: 1), pingFrame(3))
        #expect(server.sent() == [.ping(1, ack: true), .goAway(last: 0, .protocolError)])
    }

    @Test func applicationCloseSendsGoAwayWithItsCode() {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1)
        server.sendRequest(streamID: 3, endStream: true)
        _ = server.events()
        server.connection.close(code: .internalError, reason: "out of memory")
        #expect(server.sent() == [.goAway(last: 3, .internalError)])
        let events = server.events()
        #expect(Set(events.dropLast().map(\.description)) == Set([EventSummary.reset(1, .internalError), .closed(1), .reset(3, .internalError), .closed(3)].map(\.description)))
        #expect(events.last == .connectionError(.internalError))
        #expect(events.count == 5)
    }
}
