import Testing
import Loop
@testable import LoopHTTP2

/// Rules a review of RFC 9113 §4–§8 and RFC 7541 found unenforced or untested, each named
/// after its section.
@Suite struct HTTP2ConformanceGapTests {
    private static func server() -> PeerHarness {
        var server = PeerHarness.server()
        server.handshake()
        return server
    }

    // MARK: HPACK sizes count octets, not the String's bytes

    @Test func rfc7541Section4_1EntrySizesCountTheOctetsOnTheWire() throws {
        // "x: é" in Latin-1 (0xE9): not UTF-8, allowed in a value (RFC 9113 §8.2.1). The
        // entry is 1 + 1 + 32 = 34 octets, as the peer counts it, whatever the String holds.
        var decoder = HPACKDecoder()
        _ = try decoder.decode(hexBuffer("4001 7801 e9"))
        #expect(decoder.dynamicTableSize == 34)
    }

    @Test func rfc7541Section4_1ValuesThatAreNotUTF8KeepTheTablesInStep() {
        // Two entries of 1,000 octets 0xE9 each fill a 4,096-octet table as the peer sees it
        // (2 × 1,033); counted as U+FFFD (3 bytes each) they would evict the first, and the
        // peer's next reference to it would be a COMPRESSION_ERROR on a valid connection.
        var server = Self.server()
        var block: [UInt8] = [0x82, 0x86, 0x84, 0x01, 0x09] + Array("127.0.0.1".utf8)
        for name in ["a", "b"] {
            // Literal with incremental indexing, new name, value of 1,000 octets (7-bit prefix integer 127 + 873).
            let head: [UInt8] = [0x40, UInt8(name.utf8.count)] + Array(name.utf8) + [0x7F, 0xE9, 0x06]
            block += head
            block += [UInt8](repeating: 0xE9, count: 1000)
        }
        server.receive(headersFrame(streamID: 1, block: block, endStream: true))
        #expect(server.events().first.map { if case .headers(1, _, _) = $0 { true } else { false } } == true)
        // The next request refers to both entries: 62 ("b") and 63 ("a").
        server.receive(headersFrame(streamID: 3, block: [0x82, 0x86, 0x84, 0xBE, 0xBF], endStream: true))
        #expect(server.sent().allSatisfy { if case .goAway = $0 { false } else { true } })
        #expect(server.connection.state == .active)
    }

    // MARK: CONNECT and :protocol (RFC 9113 §8.5, RFC 8441 §4)

    @Test func rfc9113Section8_5ConnectWithPathOrSchemeOrWithoutAuthorityIsMalformed() {
        var server = Self.server()
        server.sendRequest(streamID: 1, [HPACKHeader(":method", "CONNECT"), HPACKHeader(":authority", "a:443"), HPACKHeader(":path", "/")], endStream: false)
        server.sendRequest(streamID: 3, [HPACKHeader(":method", "CONNECT")], endStream: false)
        server.sendRequest(streamID: 5, [HPACKHeader(":method", "CONNECT"), HPACKHeader(":authority", "a:443")], endStream: false)
        #expect(server.sent() == [.rst(1, .protocolError), .rst(3, .protocolError)])
        #expect(server.events().contains { if case .headers(5, _, _) = $0 { true } else { false } })
    }

    @Test func rfc8441Section4ProtocolWithoutTheSettingIsMalformed() {
        var server = Self.server()
        server.sendRequest(streamID: 1, requestHead(extra: []) + [HPACKHeader(":protocol", "websocket")], endStream: true)
        #expect(server.sent() == [.rst(1, .protocolError)])
    }

    // MARK: Stream-id rules before other checks (§5.1.1, §6.4)

    @Test func rfc9113Section5_1_1SelfDependentHeadersOnAStreamTheClientMayNotOpenIsAConnectionError() {
        var server = Self.server()
        server.receive(headersFrame(streamID: 2, block: server.block(requestHead()), endStream: true, priority: (dependency: 2, weight: 16)))
        #expect(server.sent() == [.goAway(last: 0, .protocolError)])
    }

    @Test func rfc9113Section5_1_1OversizedHeadersOnAnIdleEvenStreamIsAConnectionError() {
        var server = PeerHarness.server { $0.maxHeaderListSize = 100 }
        server.handshake()
        server.receive(headersFrame(streamID: 2, block: server.block(requestHead(extra: [("x-big", String(repeating: "v", count: 200))])), endStream: true))
        #expect(server.sent() == [.goAway(last: 0, .protocolError)])
    }

    // MARK: Enforced, now with tests naming them

    @Test func rfc9113Section6_2PaddedHeadersWithoutPadLengthIsAFrameSizeError() {
        var server = Self.server()
        server.receive(rawFrame(type: HTTP2FrameType.headers, flags: HTTP2FrameFlags.padded | HTTP2FrameFlags.endHeaders, streamID: 1))
        #expect(server.sent() == [.goAway(last: 0, .frameSizeError)])
    }

    @Test func rfc9113Section6_10ContinuationOnStream0IsAProtocolError() {
        var server = Self.server()
        server.receive(headersFrame(streamID: 1, block: server.block(requestHead()), endStream: true, endHeaders: false),
                       continuationFrame(streamID: 0, block: []))
        #expect(server.sent() == [.goAway(last: 0, .protocolError)])
    }

    @Test func rfc7541Section4_4AnEntryLargerThanTheTableEmptiesItWithoutError() throws {
        var decoder = HPACKDecoder(maximumTableSize: 100)
        _ = try decoder.decode(hexBuffer("4001 6101 62"))   // a: b, 34 octets
        #expect(decoder.dynamicTableCount == 1)
        var block = [UInt8]([0x40, 0x01, 0x63, 0x7F, 0x00 + 73])  // c: 200 octets (127 + 73)
        block += [UInt8](repeating: 0x78, count: 200)
        _ = try decoder.decode(ByteBuffer(bytes: block))
        #expect(decoder.dynamicTableCount == 0 && decoder.dynamicTableSize == 0)
    }

    // MARK: Cookies (§8.2.3)

    @Test func rfc9113Section8_2_3SplitCookiesAreJoinedForTheApplication() {
        let head = HTTP2RequestHead(decoding: requestHead() + [HPACKHeader("cookie", "a=1"), HPACKHeader("x", "y"), HPACKHeader("cookie", "b=2")])
        #expect(head.header("cookie") == "a=1; b=2")
        #expect(HTTP2RequestHead(decoding: requestHead()).header("cookie") == nil)
    }

    // MARK: What we send (§8.2, §8.3, §6.9.1)

    @Test func rfc9113Section8_2WeNeverSendAMalformedHeaderList() throws {
        var server = Self.server()
        server.sendRequest(streamID: 1, endStream: true)
        _ = server.events()
        let bad: [([HPACKHeader], String)] = [
            ([HPACKHeader(":status", "200"), HPACKHeader("X-Upper", "1")], "upper-case header name X-Upper (RFC 9113 §8.2.1)"),
            ([HPACKHeader(":status", "200"), HPACKHeader("x-split", "a\r\nset-cookie: b")], "CR, LF or NUL in the value of x-split (RFC 9113 §8.2.1)"),
            ([HPACKHeader(":status", "200"), HPACKHeader("connection", "close")], "connection-specific header connection (RFC 9113 §8.2.2)"),
            ([HPACKHeader("a", "b"), HPACKHeader(":status", "200")], "pseudo-header :status after a regular header (RFC 9113 §8.3)"),
        ]
        for (headers, problem) in bad {
            #expect(throws: HTTP2StreamError.invalidHeaders(problem)) {
                try server.connection.sendHeaders(streamID: 1, headers, endStream: true)
            }
        }
        #expect(server.sent() == [])
        try server.connection.sendHeaders(streamID: 1, [HPACKHeader(":status", "200"), HPACKHeader("x-ok", "1")], endStream: true)
        #expect(server.sent().count == 1)
    }


    @Test func rfc9113Section6_9_1WindowGrowthNeverPassesTwoToThe31() {
        let estimator = BandwidthDelayEstimator(initialWindow: 1 << 20, maximumWindow: Int(UInt32.max))
        #expect(estimator.maximumWindow == 0x7FFF_FFFF)
    }
}
