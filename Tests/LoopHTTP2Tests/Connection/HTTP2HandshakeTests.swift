import Testing
import Loop
@testable import LoopHTTP2

/// The connection preface and SETTINGS exchange (RFC 9113 §3.4, §6.5) and the
/// handshake rule (docs/architecture.md): our SETTINGS go out in start(), before anything is received.
@Suite struct HTTP2HandshakeTests {
    private let defaultServerSettings: [HTTP2Setting] = [
        HTTP2Setting(HTTP2Setting.enablePush, 0),
        HTTP2Setting(HTTP2Setting.maxConcurrentStreams, 1000),
        HTTP2Setting(HTTP2Setting.initialWindowSize, 1 << 20),
        HTTP2Setting(HTTP2Setting.maxHeaderListSize, 16_384),
    ]

    @Test func designHandshakeRuleServerSendsSettingsInStartBeforeReceivingAnything() {
        var server = PeerHarness.server()
        // Nothing received yet, and the SETTINGS frame (plus the connection window) is out.
        #expect(server.sent() == [.settings(defaultServerSettings), .windowUpdate(0, increment: (16 << 20) - 65_535)])
        #expect(server.connection.state == .handshaking)
        #expect(!server.connection.isReady)
        #expect(server.events() == [])
    }

    @Test func serverOutputStartsWithItsSettingsFrame() {
        var server = HTTP2Connection(configuration: HTTP2Configuration(role: .server))
        server.start()
        let bytes = takeOutput(&server)
        #expect(bytes.getInteger(at: 3, as: UInt8.self) == HTTP2FrameType.settings)
        #expect(bytes.getInteger(at: 4, as: UInt8.self) == 0)
        #expect(bytes.getInteger(at: 5, as: UInt32.self) == 0)
    }

    @Test func rfc9113Section3_4ClientSendsPrefaceThenSettings() {
        var client = HTTP2Connection(configuration: HTTP2Configuration(role: .client))
        client.start()
        let bytes = takeOutput(&client)
        #expect(Array(bytes.readableBytesView.prefix(24)) == http2ClientPreface)
        #expect(bytes.getInteger(at: 24 + 3, as: UInt8.self) == HTTP2FrameType.settings)
        // The rest decodes (a server-role decoder checks the preface).
        var decoder = HTTP2FrameDecoder(role: .server)
        #expect(decodeAll(bytes, with: &decoder).map(FrameSummary.init) == [
            .settings(defaultServerSettings), .windowUpdate(0, increment: (16 << 20) - 65_535),
        ])
    }

    @Test func configuredSettingsAreAnnounced() {
        var server = PeerHarness.server {
            $0.maxConcurrentStreams = nil
            $0.initialStreamWindowSize = 65_535
            $0.connectionWindowSize = 65_535
            $0.maxFrameSize = 1 << 20
            $0.maxHeaderListSize = 8192
            $0.headerTableSize = 0
        }
        // Only what differs from the RFC defaults; no connection WINDOW_UPDATE when the
        // configured window is the initial 65,535.
        #expect(server.sent() == [.settings([HTTP2Setting(HTTP2Setting.headerTableSize, 0), HTTP2Setting(HTTP2Setting.enablePush, 0),
                                             HTTP2Setting(HTTP2Setting.maxFrameSize, 1 << 20), HTTP2Setting(HTTP2Setting.maxHeaderListSize, 8192)])])
    }

    @Test func rfc9113Section3_4PrefaceAndSettingsMakeTheConnectionReady() {
        var server = PeerHarness.server()
        _ = server.sent()
        server.receive(prefaceBytes(), settingsFrame([HTTP2Setting(HTTP2Setting.maxFrameSize, 20_000)]))
        #expect(server.sent() == [.settingsAck])  // RFC 9113 §6.5.3
        #expect(server.events() == [.ready])
        #expect(server.connection.state == .active)
        #expect(server.connection.isReady)
        #expect(server.connection.peerSettings.maxFrameSize == 20_000)
        // Our SETTINGS acknowledged: nothing to answer.
        server.receive(settingsAckFrame())
        #expect(server.sent() == [])
        #expect(server.events() == [])
    }

    @Test func rfc9113Section3_4PrefaceSplitAcrossReads() {
        var server = PeerHarness.server()
        _ = server.sent()
        let all = joined([prefaceBytes(), settingsFrame()])
        for byte in all.readableBytesView { server.receive(ByteBuffer(bytes: [byte])) }
        #expect(server.sent() == [.settingsAck])
        #expect(server.events() == [.ready])
    }

    @Test func clientBecomesReadyOnTheServersSettings() {
        var client = PeerHarness.client()
        _ = client.sent()
        client.receive(settingsFrame([HTTP2Setting(HTTP2Setting.maxConcurrentStreams, 7)]))
        #expect(client.sent() == [.settingsAck])
        #expect(client.events() == [.ready])
        #expect(client.connection.peerSettings.maxConcurrentStreams == 7)
    }

    @Test func clientMaySendRequestsBeforeTheServersSettings() throws {
        var client = PeerHarness.client()
        _ = client.sent()
        let id = try client.connection.sendHeaders(requestHead(), endStream: true)
        #expect(id == 1)
        #expect(client.sent() == [.headers(1, fields(requestHead()), endStream: true)])
    }

    @Test func rfc9113Section3_4InvalidPrefaceIsGoAwayProtocolError() {
        var server = PeerHarness.server()
        _ = server.sent()
        server.receive(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        #expect(server.sent() == [.goAway(last: 0, .protocolError)])
        #expect(server.events() == [.connectionError(.protocolError)])
        #expect(server.connection.state == .closed)
        // Nothing more is processed or sent.
        server.receive(prefaceBytes(), settingsFrame())
        #expect(server.sent() == [])
        #expect(server.events() == [])
    }

    @Test func rfc9113Section3_4FirstFrameNotSettingsIsGoAwayProtocolError() {
        var server = PeerHarness.server()
        _ = server.sent()
        server.receive(prefaceBytes(), pingFrame(1))
        #expect(server.sent() == [.goAway(last: 0, .protocolError)])  // and no PING ACK
        #expect(server.events() == [.connectionError(.protocolError)])
    }

    @Test func rfc9113Section3_4FirstFrameHeadersIsGoAwayProtocolError() {
        var server = PeerHarness.server()
        _ = server.sent()
        let headers = server.headers(streamID: 1, requestHead(), endStream: true)
        server.receive(prefaceBytes(), headers)
        #expect(server.sent() == [.goAway(last: 0, .protocolError)])
        #expect(server.events() == [.connectionError(.protocolError)])
    }

    @Test func rfc9113Section3_4FirstFrameAStreamErrorIsStillAHandshakeError() {
        // A WINDOW_UPDATE of 0 on a stream would be a stream error; as the first frame it is
        // not SETTINGS.
        var server = PeerHarness.server()
        _ = server.sent()
        server.receive(prefaceBytes(), windowUpdateFrame(streamID: 1, increment: 0))
        #expect(server.sent() == [.goAway(last: 0, .protocolError)])
        #expect(server.events() == [.connectionError(.protocolError)])
    }

    @Test func rfc9113Section3_4FirstFrameSettingsAckIsGoAwayProtocolError() {
        var server = PeerHarness.server()
        _ = server.sent()
        server.receive(prefaceBytes(), settingsAckFrame())
        #expect(server.sent() == [.goAway(last: 0, .protocolError)])
    }

    @Test func rfc9113Section3_4ServersFirstFrameNotSettingsIsProtocolErrorForTheClient() {
        var client = PeerHarness.client()
        _ = client.sent()
        client.receive(windowUpdateFrame(streamID: 0, increment: 100))
        #expect(client.sent() == [.goAway(last: 0, .protocolError)])
        #expect(client.events() == [.connectionError(.protocolError)])
    }

    @Test func rfc9113Section6_5_3EverySettingsFrameIsAcknowledged() {
        var server = PeerHarness.server()
        server.handshake()
        server.receive(settingsFrame([HTTP2Setting(HTTP2Setting.headerTableSize, 100)]), settingsFrame())
        #expect(server.sent() == [.settingsAck, .settingsAck])
        #expect(server.events() == [])
    }

    @Test(arguments: [
        (HTTP2Setting(HTTP2Setting.enablePush, 2), HTTP2ErrorCode.protocolError),
        (HTTP2Setting(HTTP2Setting.initialWindowSize, 0x8000_0000), .flowControlError),
        (HTTP2Setting(HTTP2Setting.maxFrameSize, 16_383), .protocolError),
        (HTTP2Setting(HTTP2Setting.maxFrameSize, 16_777_216), .protocolError),
    ])
    func rfc9113Section6_5_2InvalidSettingsValuesAreConnectionErrors(setting: HTTP2Setting, code: HTTP2ErrorCode) {
        // In the first SETTINGS frame…
        var server = PeerHarness.server()
        _ = server.sent()
        server.receive(prefaceBytes(), settingsFrame([setting]))
        #expect(server.sent() == [.goAway(last: 0, code)])  // no SETTINGS ACK
        #expect(server.events() == [.connectionError(code)])
        // …and in a later one.
        var later = PeerHarness.server()
        later.handshake()
        later.sendRequest(streamID: 1)
        _ = later.events()
        later.receive(settingsFrame([HTTP2Setting(HTTP2Setting.maxConcurrentStreams, 5), setting]))
        #expect(later.sent() == [.goAway(last: 1, code)])
        #expect(later.events() == [.reset(1, code), .closed(1), .connectionError(code)])
    }

    @Test func rfc9113Section6_5_2ClientTreatsEnablePushOneFromTheServerAsProtocolError() {
        var client = PeerHarness.client()
        _ = client.sent()
        client.receive(settingsFrame([HTTP2Setting(HTTP2Setting.enablePush, 1)]))
        #expect(client.sent() == [.goAway(last: 0, .protocolError)])
        #expect(client.events() == [.connectionError(.protocolError)])
    }

    @Test func rfc9113Section6_5_2ServerAcceptsEnablePushFromTheClient() {
        var server = PeerHarness.server()
        _ = server.sent()
        server.receive(prefaceBytes(), settingsFrame([HTTP2Setting(HTTP2Setting.enablePush, 1)]))
        #expect(server.sent() == [.settingsAck])
        #expect(server.events() == [.ready])
    }

    @Test func rfc9113Section6_5_2UnknownSettingsAreIgnored() {
        var server = PeerHarness.server()
        _ = server.sent()
        server.receive(prefaceBytes(), settingsFrame([HTTP2Setting(0x00F0, 1), HTTP2Setting(0xFFFF, 0xFFFF_FFFF)]))
        #expect(server.sent() == [.settingsAck])
        #expect(server.events() == [.ready])
        #expect(server.connection.peerSettings == HTTP2Settings())
    }

    @Test func rfc7541Section4_2PeersHeaderTableSizeIsAnnouncedWithASizeUpdate() throws {
        // SETTINGS_HEADER_TABLE_SIZE 0: the server's next block starts with a size update to 0.
        var server = PeerHarness.server()
        server.handshake([HTTP2Setting(HTTP2Setting.headerTableSize, 0)])
        server.sendRequest(streamID: 1, endStream: true)
        _ = server.events()
        try server.connection.sendHeaders(streamID: 1, responseHead(extra: [("x-custom", "value")]), endStream: true)
        let bytes = takeOutput(&server.connection)
        #expect(bytes.getInteger(at: 9, as: UInt8.self) == 0x20)  // dynamic table size update: 0
        #expect(decodeAll(bytes, with: &server.outputDecoder).map(FrameSummary.init) == [
            .headers(1, fields(responseHead(extra: [("x-custom", "value")])), endStream: true),
        ])
        #expect(server.outputDecoder.hpack.dynamicTableSize == 0)
    }
}
