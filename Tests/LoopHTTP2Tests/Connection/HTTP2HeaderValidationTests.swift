import Testing
import Loop
@testable import LoopHTTP2

/// Malformed requests and responses (RFC 9113 §8.1.1, §8.2, §8.3) are stream errors of
/// type PROTOCOL_ERROR: RST_STREAM on that stream, and the connection goes on.
@Suite struct HTTP2HeaderValidationTests {
    struct MalformedHead: Sendable, CustomTestStringConvertible {
        let name: String
        let headers: [HPACKHeader]
        let section: String
        var testDescription: String { name }
        init(_ name: String, _ headers: [HPACKHeader], _ section: String) {
            self.name = name
            self.headers = headers
            self.section = section
        }
    }

    private static let method = HPACKHeader(":method", "GET")
    private static let scheme = HPACKHeader(":scheme", "https")
    private static let path = HPACKHeader(":path", "/")
    private static let authority = HPACKHeader(":authority", "example.com")

    static let malformedRequests: [MalformedHead] = [
        MalformedHead("upper-case field name", requestHead(extra: [("X-Upper", "1")]), "§8.2.1"),
        MalformedHead("upper-case in the middle of a name", requestHead(extra: [("content-Type", "text/plain")]), "§8.2.1"),
        MalformedHead("space in a field name", requestHead(extra: [("x name", "1")]), "§8.2.1"),
        MalformedHead("colon inside a field name", requestHead(extra: [("x:name", "1")]), "§8.2.1"),
        MalformedHead("non-ASCII byte in a field name", requestHead(extra: [("x-caf\u{E9}", "1")]), "§8.2.1"),
        MalformedHead("DEL in a field name", requestHead(extra: [("x\u{7F}", "1")]), "§8.2.1"),
        MalformedHead("CR in a field value", requestHead(extra: [("x-a", "one\rtwo")]), "§8.2.1"),
        MalformedHead("LF in a field value", requestHead(extra: [("x-a", "one\ntransfer-encoding: chunked")]), "§8.2.1"),
        MalformedHead("NUL in a field value", requestHead(extra: [("x-a", "one\u{0}two")]), "§8.2.1"),
        MalformedHead("leading space in a field value", requestHead(extra: [("x-a", " one")]), "§8.2.1"),
        MalformedHead("trailing tab in a field value", requestHead(extra: [("x-a", "one\t")]), "§8.2.1"),
        MalformedHead("CR LF in a pseudo-header value", [method, scheme, HPACKHeader(":path", "/a\r\nHost: evil"), authority], "§8.2.1"),
        MalformedHead("connection header", requestHead(extra: [("connection", "keep-alive")]), "§8.2.2"),
        MalformedHead("keep-alive header", requestHead(extra: [("keep-alive", "timeout=5")]), "§8.2.2"),
        MalformedHead("proxy-connection header", requestHead(extra: [("proxy-connection", "close")]), "§8.2.2"),
        MalformedHead("transfer-encoding header", requestHead(extra: [("transfer-encoding", "chunked")]), "§8.2.2"),
        MalformedHead("upgrade header", requestHead(extra: [("upgrade", "h2c")]), "§8.2.2"),
        MalformedHead("te other than trailers", requestHead(extra: [("te", "gzip")]), "§8.2.2"),
        MalformedHead("te with trailers and more", requestHead(extra: [("te", "trailers, deflate")]), "§8.2.2"),
        MalformedHead("missing :method", [scheme, path, authority], "§8.3.1"),
        MalformedHead("missing :scheme", [method, path, authority], "§8.3.1"),
        MalformedHead("missing :path", [method, scheme, authority], "§8.3.1"),
        MalformedHead("empty :path", [method, scheme, HPACKHeader(":path", ""), authority], "§8.3.1"),
        MalformedHead("pseudo-header after a regular one", [method, scheme, HPACKHeader("accept", "*/*"), path], "§8.3"),
        MalformedHead("duplicate :path", [method, scheme, path, HPACKHeader(":path", "/other")], "§8.3.1"),
        MalformedHead("duplicate :method", [method, HPACKHeader(":method", "POST"), scheme, path], "§8.3.1"),
        MalformedHead("unknown pseudo-header", [method, scheme, HPACKHeader(":foo", "bar"), path], "§8.3"),
        MalformedHead("response pseudo-header in a request", [HPACKHeader(":status", "200"), method, scheme, path], "§8.3"),
        MalformedHead("empty header list", [], "§8.3.1"),
    ]

    @Test(arguments: malformedRequests)
    func malformedRequestIsRstStreamProtocolError(head: MalformedHead) {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1, head.headers, endStream: true)
        #expect(server.sent() == [.rst(1, .protocolError)])
        let events = server.connection.takeEvents()
        #expect(events.map(EventSummary.init) == [.streamError(1, .protocolError)])
        if case .streamError(_, let error)? = events.first {
            #expect(error.reason.contains(head.section), "\"\(error.reason)\" names RFC 9113 \(head.section)")
        }
        // The connection goes on, and its HPACK context too.
        server.sendRequest(streamID: 3, requestHead(path: "/next"), endStream: true)
        #expect(server.events() == [.headers(3, fields(requestHead(path: "/next")), endStream: true)])
        #expect(server.sent() == [])
        #expect(server.connection.state == .active)
    }

    @Test func malformedRequestWithoutEndStreamIgnoresTheRestOfTheStream() {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(extra: [("connection", "close")]))
        #expect(server.sent() == [.rst(1, .protocolError)])
        _ = server.events()
        // The body the client sent before it saw the RST_STREAM is dropped quietly.
        server.receive(dataFrame(streamID: 1, patternBytes(1000), endStream: true))
        #expect(server.sent() == [])
        #expect(server.events() == [])
    }

    @Test(arguments: [
        [HPACKHeader("te", "trailers")],
        [HPACKHeader("content-type", "application/grpc"), HPACKHeader("x-empty", "")],
        // §8.2.1 allows inner spaces and tabs, other control characters than CR/LF/NUL, and
        // bytes past 0x7F (obs-text) in values.
        [HPACKHeader("user-agent", "grpc-go/1.33 (linux;\tamd64)"), HPACKHeader("x-cafe", "caf\u{E9} \u{1}")],
    ])
    func validRequestsAreAccepted(extra: [HPACKHeader]) {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1, requestHead() + extra, endStream: true)
        #expect(server.events() == [.headers(1, fields(requestHead() + extra), endStream: true)])
        #expect(server.sent() == [])
    }

    @Test func rfc9113Section8_5ConnectRequestNeedsNoSchemeOrPath() {
        var server = PeerHarness.server()
        server.handshake()
        let connect = [HPACKHeader(":method", "CONNECT"), HPACKHeader(":authority", "example.com:443")]
        server.sendRequest(streamID: 1, connect)
        #expect(server.events() == [.headers(1, fields(connect), endStream: false)])
        #expect(server.sent() == [])
    }

    // MARK: Trailers (RFC 9113 §8.1)

    @Test func rfc9113Section8_1RequestTrailersEndTheStream() {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        server.receive(dataFrame(streamID: 1, [1, 2]))
        server.deliverHeaders(streamID: 1, [HPACKHeader("x-checksum", "3")], endStream: true)
        #expect(server.events() == [
            .headers(1, fields(requestHead(method: "POST")), endStream: false),
            .data(1, [1, 2], endStream: false),
            .headers(1, ["x-checksum: 3"], endStream: true),
        ])
        #expect(server.sent() == [])
    }

    @Test func rfc9113Section8_1TrailersWithoutEndStreamAreProtocolError() {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        server.receive(dataFrame(streamID: 1, [1, 2]))
        _ = server.events()
        server.deliverHeaders(streamID: 1, [HPACKHeader("x-checksum", "3")], endStream: false)
        #expect(server.sent() == [.rst(1, .protocolError)])
        #expect(server.events() == [.closed(1), .streamError(1, .protocolError)])
        #expect(server.connection.state == .active)
    }

    @Test func rfc9113Section8_1PseudoHeaderInTrailersIsProtocolError() {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        _ = server.events()
        server.deliverHeaders(streamID: 1, [HPACKHeader(":path", "/again")], endStream: true)
        #expect(server.sent() == [.rst(1, .protocolError)])
        #expect(server.events() == [.closed(1), .streamError(1, .protocolError)])
    }

    @Test func rfc9113Section8_2_2ConnectionSpecificHeaderInTrailersIsProtocolError() {
        var server = PeerHarness.server()
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        _ = server.events()
        server.deliverHeaders(streamID: 1, [HPACKHeader("transfer-encoding", "chunked")], endStream: true)
        #expect(server.sent() == [.rst(1, .protocolError)])
    }

    // MARK: Responses, seen by a client

    private func clientAwaitingResponse() throws -> PeerHarness {
        var client = PeerHarness.client()
        client.handshake()
        try client.connection.sendHeaders(requestHead(), endStream: true)
        _ = client.sent()
        return client
    }

    static let malformedResponses: [MalformedHead] = [
        MalformedHead("missing :status", [HPACKHeader("content-type", "text/plain")], "§8.3.2"),
        MalformedHead("LF in a field value", [HPACKHeader(":status", "200"), HPACKHeader("location", "/a\nset-cookie: x")], "§8.2.1"),
        MalformedHead("trailing space in a field value", [HPACKHeader(":status", "200"), HPACKHeader("server", "loop ")], "§8.2.1"),
        MalformedHead("request pseudo-header in a response", [HPACKHeader(":status", "200"), HPACKHeader(":path", "/")], "§8.3.2"),
        MalformedHead("duplicate :status", [HPACKHeader(":status", "200"), HPACKHeader(":status", "204")], "§8.3.2"),
        MalformedHead("pseudo-header after a regular one", [HPACKHeader("server", "x"), HPACKHeader(":status", "200")], "§8.3"),
        MalformedHead("upper-case field name", [HPACKHeader(":status", "200"), HPACKHeader("Server", "x")], "§8.2.1"),
        MalformedHead("connection header", [HPACKHeader(":status", "200"), HPACKHeader("connection", "close")], "§8.2.2"),
    ]

    @Test(arguments: malformedResponses)
    func malformedResponseIsRstStreamProtocolError(head: MalformedHead) throws {
        var client = try clientAwaitingResponse()
        client.deliverHeaders(streamID: 1, head.headers, endStream: true)
        #expect(client.sent() == [.rst(1, .protocolError)])
        let events = client.connection.takeEvents()
        #expect(events.map(EventSummary.init) == [.closed(1), .streamError(1, .protocolError)])
        if case .streamError(_, let error)? = events.last {
            #expect(error.reason.contains(head.section), "\"\(error.reason)\" names RFC 9113 \(head.section)")
        }
        #expect(client.connection.state == .active)
    }

    @Test func rfc9113Section8_1InformationalResponsesPrecedeTheFinalOne() throws {
        var client = try clientAwaitingResponse()
        client.deliverHeaders(streamID: 1, [HPACKHeader(":status", "103"), HPACKHeader("link", "</a.css>")])
        client.deliverHeaders(streamID: 1, responseHead())
        client.receive(dataFrame(streamID: 1, [7]))
        client.deliverHeaders(streamID: 1, [HPACKHeader("grpc-status", "0")], endStream: true)
        #expect(client.events() == [
            .headers(1, [":status: 103", "link: </a.css>"], endStream: false),
            .headers(1, [":status: 200"], endStream: false),
            .data(1, [7], endStream: false),
            .headers(1, ["grpc-status: 0"], endStream: true),
            .closed(1),
        ])
        #expect(client.sent() == [])
    }

    @Test func rfc9113Section8_1InformationalResponseWithEndStreamIsProtocolError() throws {
        var client = try clientAwaitingResponse()
        client.deliverHeaders(streamID: 1, [HPACKHeader(":status", "100")], endStream: true)
        #expect(client.sent() == [.rst(1, .protocolError)])
        #expect(client.events() == [.closed(1), .streamError(1, .protocolError)])
    }

    @Test func rfc9113Section8_1DataBeforeTheFinalResponseIsProtocolError() throws {
        var client = try clientAwaitingResponse()
        client.deliverHeaders(streamID: 1, [HPACKHeader(":status", "100")])
        _ = client.events()
        client.receive(dataFrame(streamID: 1, [1]))
        #expect(client.sent() == [.rst(1, .protocolError)])
        #expect(client.events() == [.closed(1), .streamError(1, .protocolError)])
    }

    @Test func rfc9113Section8_1ResponseTrailersWithoutEndStreamAreProtocolError() throws {
        var client = try clientAwaitingResponse()
        client.deliverHeaders(streamID: 1, responseHead())
        _ = client.events()
        client.deliverHeaders(streamID: 1, [HPACKHeader("grpc-status", "0")], endStream: false)
        #expect(client.sent() == [.rst(1, .protocolError)])
        #expect(client.events() == [.closed(1), .streamError(1, .protocolError)])
    }

    @Test func rfc9113Section8_1StatusInResponseTrailersIsProtocolError() throws {
        var client = try clientAwaitingResponse()
        client.deliverHeaders(streamID: 1, responseHead())
        _ = client.events()
        client.deliverHeaders(streamID: 1, [HPACKHeader(":status", "500")], endStream: true)
        #expect(client.sent() == [.rst(1, .protocolError)])
    }

    // MARK: Header list size (RFC 9113 §6.5.2, §10.5.1)

    @Test func rfc9113Section6_5_2OversizedRequestHeadGets431AndTheConnectionGoesOn() {
        var server = PeerHarness.server { $0.maxHeaderListSize = 1000 }
        server.handshake()
        let big = requestHead(extra: [("x-a", String(repeating: "a", count: 400)), ("x-b", String(repeating: "b", count: 400)),
                                      ("x-c", String(repeating: "c", count: 400))])
        server.sendRequest(streamID: 1, big, endStream: true)
        #expect(server.sent() == [.headers(1, [":status: 431"], endStream: true)])
        #expect(server.events() == [.headerListTooLarge(1)])
        #expect(server.connection.openStreamCount == 0)
        // The next request reuses HPACK table entries the refused block added: the tables
        // stayed in step.
        let next = requestHead(path: "/ok", extra: [("x-a", String(repeating: "a", count: 400))])
        server.sendRequest(streamID: 3, next, endStream: true)
        #expect(server.events() == [.headers(3, fields(next), endStream: true)])
        #expect(server.sent() == [])
        #expect(server.connection.state == .active)
    }

    /// The HTTP/1.1 bridge hands request HEADERS over decoded (`receive(decoded:)`): the list's
    /// size is checked as the HPACK decoder checks an encoded one (each field's octets + 32),
    /// and the rest of the rules apply alike.
    @Test func rfc9113Section6_5_2ADecodedHeaderListIsHeldToTheSameLimitAndRules() {
        var server = PeerHarness.server { $0.maxHeaderListSize = 1000 }
        server.handshake()
        let big = requestHead(extra: [("x-a", String(repeating: "a", count: 400)), ("x-b", String(repeating: "b", count: 400)),
                                      ("x-c", String(repeating: "c", count: 400))])
        server.connection.receive(decoded: HTTP2Frame(streamID: 1, payload: .headers(big, endStream: true)))
        #expect(server.sent() == [.headers(1, [":status: 431"], endStream: true)])
        #expect(server.events() == [.headerListTooLarge(1)])
        let malformed = requestHead(extra: [("connection", "keep-alive")])
        server.connection.receive(decoded: HTTP2Frame(streamID: 3, payload: .headers(malformed, endStream: true)))
        #expect(server.sent() == [.rst(3, .protocolError)])
        #expect(server.events() == [.streamError(3, .protocolError)])
        let fine = requestHead(path: "/ok", extra: [("x-a", String(repeating: "a", count: 400))])
        server.connection.receive(decoded: HTTP2Frame(streamID: 5, payload: .headers(fine, endStream: true)))
        #expect(server.events() == [.headers(5, fields(fine), endStream: true)])
        #expect(server.connection.state == .active)
    }

    @Test func rfc9113Section6_5_2OversizedRequestWithABodyComingIsRefusedAndReset() {
        var server = PeerHarness.server { $0.maxHeaderListSize = 1000 }
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(extra: [("x-a", String(repeating: "a", count: 1200))]), endStream: false)
        // 431 ends our side; RST_STREAM(NO_ERROR) tells the client to stop uploading.
        #expect(server.sent() == [.headers(1, [":status: 431"], endStream: true), .rst(1, .noError)])
        #expect(server.events() == [.headerListTooLarge(1)])
        server.receive(dataFrame(streamID: 1, patternBytes(500), endStream: true))
        #expect(server.sent() == [])
        #expect(server.events() == [])
    }

    @Test func rfc9113Section6_5_2OversizedHeadSplitOverContinuationsWithTheDefaultLimit() {
        // 16 KiB default limit; a ~20 KB block in HEADERS + CONTINUATION.
        var server = PeerHarness.server()
        server.handshake()
        var encoder = HPACKEncoder(huffman: .never)
        let big = requestHead(extra: (0..<4).map { ("x-\($0)", String(repeating: "v", count: 5000)) })
        let block = encodeBlock(big, with: &encoder)
        server.hpack = encoder
        server.receive(headersFrame(streamID: 1, block: Array(block[..<16_000]), endStream: true, endHeaders: false),
                       continuationFrame(streamID: 1, block: Array(block[16_000...])))
        #expect(server.sent() == [.headers(1, [":status: 431"], endStream: true)])
        #expect(server.events() == [.headerListTooLarge(1)])
        server.sendRequest(streamID: 3, endStream: true)
        #expect(server.events() == [.headers(3, fields(requestHead()), endStream: true)])
    }

    @Test func rfc9113Section6_5_2OversizedTrailersResetTheStream() {
        var server = PeerHarness.server { $0.maxHeaderListSize = 1000 }
        server.handshake()
        server.sendRequest(streamID: 1, requestHead(method: "POST"))
        _ = server.events()
        server.deliverHeaders(streamID: 1, [HPACKHeader("x-big", String(repeating: "t", count: 1500))], endStream: true)
        #expect(server.sent() == [.rst(1, .protocolError)])
        #expect(server.events() == [.closed(1), .streamError(1, .protocolError)])
        #expect(server.connection.state == .active)
    }
}
