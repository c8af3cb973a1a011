import Testing
import Loop
@testable import LoopHTTP2

/// Limits against abusive peers (HTTP2AbuseLimits): rapid reset (CVE-2023-44487), PING and
/// SETTINGS floods, CONTINUATION floods, oversized header blocks — alone, then through a
/// connection, each set through HTTP2Configuration; and PING itself (RFC 9113 §6.7).
@Suite struct HTTP2AbuseLimitsTests {
    private static let second: UInt64 = 1_000_000_000
    private static let millisecond: UInt64 = 1_000_000

    // MARK: HTTP2AbuseLimits alone

    private static func limits(burst: Int, perSecond: Int) -> HTTP2AbuseLimits {
        var configuration = HTTP2Configuration(role: .server)
        configuration.glitchBudget = .init(burst: burst, perSecond: perSecond)
        return HTTP2AbuseLimits(configuration: configuration)
    }

    @Test func theBudgetIsATokenBucketBurstThenRate() throws {
        var limits = Self.limits(burst: 3, perSecond: 10)
        let start = 50 * Self.second
        for tick in UInt64(0)..<3 { try limits.charge(.peerReset, now: start + tick) }
        #expect(throws: HTTP2ProtocolError.connection(.enhanceYourCalm, "glitch budget of 3 (+10/s) spent: 4 streams reset by the peer while being answered (rapid reset)")) {
            try limits.charge(.peerReset, now: start + 10)
        }
        // One glitch every 100 ms is the rate: it never runs out, however long it goes on.
        var paced = Self.limits(burst: 3, perSecond: 10)
        for step in UInt64(0)..<1000 { try paced.charge(.provokedReset, now: start + step * 100 * Self.millisecond) }
        // Faster than the rate, the burst goes and then the budget is spent, however it is paced.
        var faster = Self.limits(burst: 3, perSecond: 10)
        var charged = 0
        do {
            for step in UInt64(0)..<1000 {
                try faster.charge(.provokedReset, now: start + step * 50 * Self.millisecond)
                charged += 1
            }
        } catch {
            #expect(error.code == .enhanceYourCalm)
        }
        #expect(charged == 5)   // the burst of 3 and the 2 tokens earned in 200 ms; the 6th is refused
    }

    @Test func aFullBucketSavesNothingWhileItWaits() throws {
        var limits = Self.limits(burst: 2, perSecond: 1)
        try limits.charge(.settings, now: 1000 * Self.second)   // an hour of quiet earns no more than the burst
        try limits.charge(.settings, now: 4600 * Self.second)
        try limits.charge(.settings, now: 4600 * Self.second)
        #expect(throws: HTTP2ProtocolError.self) { try limits.charge(.settings, now: 4600 * Self.second) }
    }

    @Test func progressPaysForCheapFramesButNeverForResetsOrSettings() throws {
        var limits = Self.limits(burst: 2, perSecond: 0)
        for _ in 0..<10 {
            limits.progress()   // a request, or DATA in either direction
            try limits.charge(.ping, now: 0)
            try limits.charge(.windowUpdate, now: 0)
        }
        #expect(limits.remaining == 2)
        limits.progress()
        try limits.charge(.provokedReset, now: 0)   // MadeYouReset: a request cannot pay for its own reset
        try limits.charge(.settings, now: 0)
        #expect(limits.remaining == 0)
        try limits.charge(.priority, now: 0)        // the allowance earned above
        try limits.charge(.emptyData, now: 0)
        #expect(throws: HTTP2ProtocolError.connection(.enhanceYourCalm, "glitch budget of 2 (+0/s) spent: 1 stream errors the peer provoked (each answered with RST_STREAM), 1 SETTINGS frames, 1 frames of unknown type")) {
            try limits.charge(.unknownFrame, now: 0)
        }
    }

    @Test func theAllowanceIsCapped() throws {
        var limits = Self.limits(burst: 1, perSecond: 0)
        for _ in 0..<1000 { limits.progress() }
        for _ in 0..<HTTP2AbuseLimits.maximumAllowance { try limits.charge(.ping, now: 0) }
        try limits.charge(.ping, now: 0)  // the burst
        #expect(throws: HTTP2ProtocolError.self) { try limits.charge(.ping, now: 0) }
    }

    @Test func dataWeSendPaysForADownloadingClientsPings() throws {
        // A client that only downloads sends nothing but WINDOW_UPDATE and its BDP PINGs:
        // while its response streams, 100 PINGs and WINDOW_UPDATEs under a budget of 5 are
        // fine; once nothing is sent any more, PINGs are glitches again.
        var server = PeerHarness.server {
            $0.glitchBudget = .init(burst: 5, perSecond: 0)
            $0.initialStreamWindowSize = 1 << 20
        }
        server.handshake()   // its SETTINGS: 1 glitch
        server.now = 100 * Self.second
        server.sendRequest(streamID: 1, endStream: true)
        _ = server.events()
        try server.connection.sendHeaders(streamID: 1, responseHead(), endStream: false)
        for index in 0..<100 {
            try server.connection.sendData(streamID: 1, ByteBuffer(bytes: patternBytes(100)), endStream: false)
            server.receive(pingFrame(UInt64(index)), windowUpdateFrame(streamID: 0, increment: 100))
            server.now += Self.millisecond
        }
        #expect(server.connection.state == .active)
        _ = server.sent()
        // The allowance left over (at most 64) and then the 4 glitches left.
        var pings = 0
        while server.connection.state == .active && pings < 1000 {
            server.receive(pingFrame(UInt64(2000 + pings)))
            pings += 1
        }
        #expect(pings <= HTTP2AbuseLimits.maximumAllowance + 5)
        #expect(server.sent().last == .goAway(last: 1, .enhanceYourCalm))
    }

    @Test func rfc9113Section6_10HeaderBlockLimitsCountContinuationsAndBytes() throws {
        let limits = HTTP2HeaderBlockLimits(maxHeaderListSize: 1000, maxContinuationFrames: 2)
        #expect(limits.maxBlockSize == 32_768)  // twice the larger of the list limit and 16 KiB
        try limits.check(continuations: 2, size: 32_768)
        #expect(throws: HTTP2ProtocolError.connection(.enhanceYourCalm, "more than 2 CONTINUATION frames in one header block")) {
            try limits.check(continuations: 3, size: 10)
        }
        #expect(throws: HTTP2ProtocolError.connection(.enhanceYourCalm, "header block of more than 32768 bytes")) {
            try limits.check(continuations: 0, size: 32_769)
        }
    }

    @Test func continuationAndBlockLimitsAreSetThroughTheConfiguration() {
        var server = PeerHarness.server {
            $0.maxContinuationFrames = 3
            $0.maxHeaderBlockSize = 100
        }
        server.handshake()
        server.receive(headersFrame(streamID: 1, block: [], endHeaders: false))
        for _ in 0..<3 { server.receive(continuationFrame(streamID: 1, block: [], endHeaders: false)) }
        #expect(server.sent() == [])
        server.receive(continuationFrame(streamID: 1, block: [], endHeaders: false))
        #expect(server.sent() == [.goAway(last: 0, .enhanceYourCalm)])

        var other = PeerHarness.server { $0.maxHeaderBlockSize = 100 }
        other.handshake()
        other.receive(headersFrame(streamID: 1, block: [UInt8](repeating: 0x82, count: 101), endHeaders: false))
        #expect(other.sent() == [.goAway(last: 0, .enhanceYourCalm)])
    }

    // MARK: Through a connection

    @Test func rapidResetPastTheBudgetIsEnhanceYourCalm() {
        // A budget of 6: the handshake's SETTINGS takes 1, five resets the rest.
        var server = PeerHarness.server { $0.glitchBudget = .init(burst: 6, perSecond: 0) }
        server.handshake()
        server.now = 100 * Self.second
        for index in 0..<5 {
            let id = UInt32(2 * index + 1)
            server.sendRequest(streamID: id)
            server.receive(rstStreamFrame(streamID: id, code: .cancel))
            server.now += 100 * Self.millisecond
        }
        #expect(server.sent() == [])
        #expect(server.connection.state == .active)
        server.sendRequest(streamID: 11)
        _ = server.events()
        server.receive(rstStreamFrame(streamID: 11, code: .cancel))
        #expect(server.sent() == [.goAway(last: 11, .enhanceYourCalm)])
        #expect(server.events() == [.reset(11, .enhanceYourCalm), .closed(11), .connectionError(.enhanceYourCalm)])
    }

    @Test func resetsAfterTheCompleteResponseAreNotRapidReset() throws {
        // A client that ends its side with RST_STREAM once it has the whole response (the
        // stream-end rule, as Loop's and grpc-go's clients do) cancels no work: 1,000 of them
        // within a second stay under a limit of 5.
        var server = PeerHarness.server {
            $0.glitchBudget = .init(burst: 6, perSecond: 0)
            $0.unfinishedRequestPolicy = .waitForClient
        }
        server.handshake()
        server.now = 100 * Self.second
        for index in 0..<1000 {
            let id = UInt32(2 * index + 1)
            server.sendRequest(streamID: id)
            try server.connection.sendHeaders(streamID: id, responseHead(), endStream: true)
            #expect(server.sent() == [.headers(id, fields(responseHead()), endStream: true)])
            server.receive(rstStreamFrame(streamID: id, code: .noError))
            server.now += Self.millisecond
        }
        #expect(server.connection.state == .active)
        #expect(server.connection.openStreamCount == 0)
        // A reset of a stream still being answered counts as before.
        for index in 1000..<1006 {
            let id = UInt32(2 * index + 1)
            server.sendRequest(streamID: id)
            server.receive(rstStreamFrame(streamID: id, code: .cancel))
        }
        #expect(server.sent() == [.goAway(last: 2011, .enhanceYourCalm)])
    }

    @Test func rapidResetWithTheDefaultBudget() {
        // 1,000 at once and 200 a second: resets every millisecond spend 4 tokens per 5 ms,
        // so the connection is closed after about 1,250.
        var server = PeerHarness.server()
        #expect(server.connection.configuration.glitchBudget == .init(burst: 1000, perSecond: 200))
        server.handshake()
        server.now = 5 * Self.second
        var resets = 0
        while server.connection.state == .active && resets < 10_000 {
            let id = UInt32(2 * resets + 1)
            server.sendRequest(streamID: id)
            server.receive(rstStreamFrame(streamID: id, code: .cancel))
            server.now += Self.millisecond
            resets += 1
        }
        #expect((1240...1260).contains(resets))
        #expect(server.sent() == [.goAway(last: UInt32(2 * resets - 1), .enhanceYourCalm)])
    }

    @Test func resetsSpreadOverTimeAreFine() {
        var server = PeerHarness.server { $0.glitchBudget = .init(burst: 5, perSecond: 5) }
        server.handshake()
        server.now = 100 * Self.second
        for index in 0..<40 {
            let id = UInt32(2 * index + 1)
            server.sendRequest(streamID: id)
            server.receive(rstStreamFrame(streamID: id, code: .cancel))
            server.now += 300 * Self.millisecond  // at most 4 in any one second
        }
        #expect(server.sent() == [])
        #expect(server.connection.state == .active)
        #expect(server.connection.openStreamCount == 0)
    }

    @Test func resetsOfStreamsAlreadyClosedDoNotCount() throws {
        var server = PeerHarness.server { $0.glitchBudget = .init(burst: 2, perSecond: 0) }
        server.handshake()
        for index in 0..<10 {
            let id = UInt32(2 * index + 1)
            server.sendRequest(streamID: id, endStream: true)
            try server.connection.sendHeaders(streamID: id, responseHead(), endStream: true)
            server.receive(rstStreamFrame(streamID: id, code: .cancel))
        }
        #expect(server.connection.state == .active)
    }

    @Test func pingFloodWithoutProgressIsEnhanceYourCalm() {
        var server = PeerHarness.server { $0.glitchBudget = .init(burst: 10, perSecond: 0) }
        server.handshake()  // the SETTINGS frame counts: 1
        for opaque in UInt64(1)...9 { server.receive(pingFrame(opaque)) }
        #expect(server.sent() == (UInt64(1)...9).map { .ping($0, ack: true) })
        server.receive(pingFrame(10))
        #expect(server.sent() == [.goAway(last: 0, .enhanceYourCalm)])  // and no ACK
        #expect(server.events() == [.connectionError(.enhanceYourCalm)])
    }

    @Test func requestsAndDataPayForAFewPings() {
        var server = PeerHarness.server { $0.glitchBudget = .init(burst: 10, perSecond: 0) }
        server.handshake()
        for opaque in UInt64(1)...9 { server.receive(pingFrame(opaque)) }   // the budget is spent
        server.sendRequest(streamID: 1)                 // progress: 2 PINGs free
        server.receive(dataFrame(streamID: 1, [1]))     // progress: 2 more
        for opaque in UInt64(1)...4 { server.receive(pingFrame(opaque)) }
        #expect(server.connection.state == .active)
        server.receive(pingFrame(5))
        #expect(server.sent().last == .goAway(last: 1, .enhanceYourCalm))
    }

    @Test func settingsFloodIsEnhanceYourCalm() {
        var server = PeerHarness.server { $0.glitchBudget = .init(burst: 10, perSecond: 0) }
        server.handshake()
        for _ in 0..<9 { server.receive(settingsFrame()) }
        #expect(server.sent().count == 9)
        server.receive(settingsFrame())
        #expect(server.sent() == [.goAway(last: 0, .enhanceYourCalm)])
    }

    @Test func pingAcksDoNotCount() {
        var server = PeerHarness.server { $0.glitchBudget = .init(burst: 10, perSecond: 0) }
        server.handshake()
        for opaque in UInt64(1)...50 { server.receive(pingFrame(opaque, ack: true)) }
        #expect(server.connection.state == .active)
        #expect(server.events() == (UInt64(1)...50).map { .pingAck($0) })
        #expect(server.sent() == [])
    }

    @Test func rfc9113Section6_10ContinuationFloodOnAConnectionIsEnhanceYourCalm() {
        var server = PeerHarness.server()
        server.handshake()
        server.receive(headersFrame(streamID: 1, block: [], endHeaders: false))
        for _ in 0..<32 { server.receive(continuationFrame(streamID: 1, block: [], endHeaders: false)) }
        #expect(server.sent() == [])
        server.receive(continuationFrame(streamID: 1, block: [], endHeaders: false))
        #expect(server.sent() == [.goAway(last: 0, .enhanceYourCalm)])
    }

    @Test func headerBlockBiggerThanTwiceTheListLimitIsEnhanceYourCalm() {
        // maxHeaderListSize 16,384: blocks may use 32,768 encoded bytes.
        var server = PeerHarness.server()
        server.handshake()
        let filler = [UInt8](repeating: 0x82, count: 16_384)
        server.receive(headersFrame(streamID: 1, block: filler, endHeaders: false),
                       continuationFrame(streamID: 1, block: filler, endHeaders: false))
        #expect(server.sent() == [])
        server.receive(continuationFrame(streamID: 1, block: [0x82], endHeaders: true))
        #expect(server.sent() == [.goAway(last: 0, .enhanceYourCalm)])
    }

    // MARK: PING (RFC 9113 §6.7)

    @Test func rfc9113Section6_7PingIsAnsweredWithAnAckCarryingTheSameData() {
        var server = PeerHarness.server()
        server.handshake()
        server.receive(pingFrame(0x0102_0304_0506_0708))
        let frames = server.frames()
        #expect(frames.map(FrameSummary.init) == [.ping(0x0102_0304_0506_0708, ack: true)])
        #expect(server.events() == [])
    }

    @Test func rfc9113Section6_7OurPingIsReportedWhenAcknowledged() {
        var client = PeerHarness.client()
        client.handshake()
        client.connection.ping(77)
        #expect(client.sent() == [.ping(77, ack: false)])
        client.receive(pingFrame(77, ack: true))
        #expect(client.events() == [.pingAck(77)])
        #expect(client.sent() == [])  // an ACK is never answered
    }
}
