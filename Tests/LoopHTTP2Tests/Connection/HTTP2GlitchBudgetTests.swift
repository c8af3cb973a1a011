import Testing
import Loop
@testable import LoopHTTP2

/// The glitch budget through a connection (HTTP2AbuseLimits): each class of work a peer can
/// cause without serving a request is charged, and spending the budget ends the connection
/// with GOAWAY(ENHANCE_YOUR_CALM) whose debug data names the cause (RFC 9113 §10.5). Each
/// test uses a budget of 10 with no refill: the client's SETTINGS takes one glitch.
@Suite struct HTTP2GlitchBudgetTests {
    private static func server() -> PeerHarness {
        var server = PeerHarness.server { $0.glitchBudget = .init(burst: 10, perSecond: 0) }
        server.handshake()
        return server
    }

    /// Feeds `attack(index)` until the connection closes (at most 100 times); returns how
    /// many were taken and the GOAWAY's code and debug text.
    private static func flood(_ server: inout PeerHarness, _ attack: (inout PeerHarness, Int) -> Void)
        -> (count: Int, code: HTTP2ErrorCode?, debug: String)
    {
        var count = 0
        var goAway: (HTTP2ErrorCode, String)?
        while goAway == nil && count < 100 {
            attack(&server, count)
            count += 1
            for frame in server.frames() {
                if case .goAway(_, let code, let debug) = frame.payload {
                    goAway = (code, String(decoding: debug.readableBytesView, as: UTF8.self))
                }
            }
        }
        return (count, goAway?.0, goAway?.1 ?? "")
    }

    // MARK: MadeYouReset (CVE-2025-8671): resets the peer provokes

    @Test func madeYouResetWithZeroWindowUpdatesOnStreams() {
        // RFC 9113 §6.9: WINDOW_UPDATE of 0 on a stream is a stream error; each reset answering
        // one is a glitch even though every request that provoked it paid with progress.
        var server = Self.server()
        let result = Self.flood(&server) { server, index in
            let id = UInt32(2 * index + 1)
            server.sendRequest(streamID: id)
            server.receive(rawFrame(type: 0x8, streamID: id, payload: [0, 0, 0, 0]))
        }
        #expect(result.count == 10)
        #expect(result.code == .enhanceYourCalm)
        #expect(result.debug == "glitch budget of 10 (+0/s) spent: 10 stream errors the peer provoked (each answered with RST_STREAM), 1 SETTINGS frames")
    }

    @Test func madeYouResetWithInvalidHeaders() {
        // RFC 9113 §8.2.1: an uppercase field name makes the request malformed (a stream error).
        var server = Self.server()
        let result = Self.flood(&server) { server, index in
            server.sendRequest(streamID: UInt32(2 * index + 1), requestHead(extra: [("X-Upper", "1")]), endStream: true)
        }
        #expect(result.count == 10)
        #expect(result.code == .enhanceYourCalm)
        #expect(result.debug.contains("10 stream errors the peer provoked"))
    }

    @Test func madeYouResetWithDataOnHalfClosedStreams() {
        // RFC 9113 §5.1: DATA after END_STREAM is STREAM_CLOSED, a stream error.
        var server = Self.server { $0.unfinishedRequestPolicy = .waitForClient }
        let result = Self.flood(&server) { server, index in
            let id = UInt32(2 * index + 1)
            server.sendRequest(streamID: id, endStream: true)
            server.receive(dataFrame(streamID: id, [1]))
        }
        #expect(result.count == 10)
        #expect(result.code == .enhanceYourCalm)
    }

    @Test func madeYouResetWithStreamsOverTheLimit() {
        // RFC 9113 §5.1.2: streams beyond SETTINGS_MAX_CONCURRENT_STREAMS are refused, and
        // each REFUSED_STREAM is a glitch (the 5 M HEADERS of the issue).
        var server = Self.server {
            $0.maxConcurrentStreams = 1
        }
        server.sendRequest(streamID: 1)
        let result = Self.flood(&server) { server, index in
            server.sendRequest(streamID: UInt32(2 * index + 3))
        }
        #expect(result.count == 10)
        #expect(result.code == .enhanceYourCalm)
    }

    @Test func resetsTheApplicationSendsAreNotGlitches() {
        var server = Self.server()
        for index in 0..<100 {
            let id = UInt32(2 * index + 1)
            server.sendRequest(streamID: id, endStream: true)
            server.connection.resetStream(id, code: .cancel)
        }
        #expect(server.connection.state == .active)
    }

    // MARK: Cheap frames

    @Test func emptyDataFloodOnAStream() {
        var server = Self.server()
        server.sendRequest(streamID: 1)  // earns 2 cheap frames
        let result = Self.flood(&server) { server, _ in server.receive(dataFrame(streamID: 1, [])) }
        #expect(result.count == 12)   // 2 paid by the request, 9 glitches, and the 10th is refused
        #expect(result.debug.contains("10 empty DATA frames"))
        // An empty DATA with END_STREAM ends a request: not a glitch.
        var other = Self.server()
        for index in 0..<50 {
            let id = UInt32(2 * index + 1)
            other.sendRequest(streamID: id)
            other.receive(dataFrame(streamID: id, [], endStream: true))
        }
        #expect(other.connection.state == .active)
    }

    @Test func priorityFlood() {
        // RFC 9113 §5.3.2: PRIORITY is ignored, but each one still costs a frame's work.
        var server = Self.server()
        let result = Self.flood(&server) { server, index in server.receive(priorityFrame(streamID: UInt32(2 * index + 1))) }
        #expect(result.count == 10)
        #expect(result.debug.contains("10 PRIORITY frames"))
    }

    @Test func unknownFrameTypeFlood() {
        // RFC 9113 §5.5: unknown types are ignored, and charged.
        var server = Self.server()
        let result = Self.flood(&server) { server, _ in server.receive(rawFrame(type: 0xFA, streamID: 0, payload: [1, 2, 3])) }
        #expect(result.count == 10)
        #expect(result.debug.contains("10 frames of unknown type"))
    }

    @Test func windowUpdatesWithNothingSentToCredit() {
        var server = Self.server()
        server.sendRequest(streamID: 1)
        let result = Self.flood(&server) { server, index in
            server.receive(windowUpdateFrame(streamID: index % 2 == 0 ? 0 : 1, increment: 1))
        }
        #expect(result.count == 12)
        #expect(result.debug.contains("10 WINDOW_UPDATE frames"))
    }

    @Test func windowUpdatesAnsweringOurDataAreFree() throws {
        // Receivers credit in pieces (HAProxy: about four WINDOW_UPDATEs per 16 KiB frame):
        // 8 per DATA frame sent are free.
        var server = Self.server()
        server.sendRequest(streamID: 1, endStream: true)
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        for _ in 0..<200 {
            try server.connection.sendData(streamID: 1, ByteBuffer(bytes: patternBytes(1000)), endStream: false)
            _ = server.frames()
            for _ in 0..<4 {
                server.receive(windowUpdateFrame(streamID: 0, increment: 250), windowUpdateFrame(streamID: 1, increment: 250))
            }
        }
        #expect(server.connection.state == .active)
    }

    @Test func framesForResetStreamsAreChargedBeyondTheAllowance() {
        // RFC 9113 §5.1: frames for a stream we reset are ignored, not answered — and charged.
        var server = Self.server()
        server.sendRequest(streamID: 1)
        server.connection.resetStream(1, code: .cancel)
        _ = server.frames()
        let result = Self.flood(&server) { server, _ in server.receive(dataFrame(streamID: 1, [1])) }
        #expect(result.code == .enhanceYourCalm)
        #expect(result.debug.contains("frames for closed or ignored streams"))
    }

    @Test func settingsAreAlwaysCharged() {
        // Each SETTINGS is answered, and a window change walks every open stream: never free,
        // not even behind real progress (a byte of DATA before each).
        var server = Self.server()
        for index in 0..<100 { server.sendRequest(streamID: UInt32(2 * index + 1)) }
        let result = Self.flood(&server) { server, index in
            server.receive(dataFrame(streamID: UInt32(2 * (index % 100) + 1), [1]),
                           settingsFrame([HTTP2Setting(HTTP2Setting.initialWindowSize, UInt32(65_535 + index % 2))]))
        }
        #expect(result.count == 10)
        #expect(result.debug.contains("11 SETTINGS frames"))   // the handshake's and 10
    }

    @Test func theBudgetRefills() {
        var server = PeerHarness.server { $0.glitchBudget = .init(burst: 10, perSecond: 100) }
        server.handshake()
        server.now = 1_000_000_000
        for index in 0..<2000 {   // one PRIORITY every 10 ms for 20 s: the rate, never more
            server.receive(priorityFrame(streamID: 1))
            server.now += 10_000_000
            if server.connection.state != .active {
                Issue.record("closed after \(index + 1) PRIORITY frames at the refill rate")
                break
            }
        }
    }
}

private extension HTTP2GlitchBudgetTests {
    static func server(_ configure: (inout HTTP2Configuration) -> Void) -> PeerHarness {
        var server = PeerHarness.server {
            $0.glitchBudget = .init(burst: 10, perSecond: 0)
            configure(&$0)
        }
        server.handshake()
        return server
    }
}
