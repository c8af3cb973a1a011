import Testing
import Loop
@testable import LoopHTTP2

/// RFC 9113 §8.1.1: a body whose length differs from content-length is malformed, a stream
/// error of type PROTOCOL_ERROR; the connection goes on.
@Suite struct HTTP2ContentLengthTests {
    private func activeServer() -> PeerHarness {
        var server = PeerHarness.server()
        server.handshake()
        return server
    }

    private func post(length: String) -> [HPACKHeader] {
        requestHead(method: "POST", path: "/upload", extra: [("content-length", length)])
    }

    @Test func rfc9113Section8_1_1MatchingBodyIsAccepted() {
        var server = activeServer()
        server.sendRequest(streamID: 1, post(length: "5"))
        server.receive(dataFrame(streamID: 1, [1, 2, 3]), dataFrame(streamID: 1, [4, 5], endStream: true))
        #expect(server.sent() == [])
        #expect(server.events().count == 3)  // headers, two DATA
    }

    @Test func rfc9113Section8_1_1BodyLongerThanContentLengthIsProtocolError() {
        var server = activeServer()
        server.sendRequest(streamID: 1, post(length: "4"))
        _ = server.events()
        server.receive(dataFrame(streamID: 1, [1, 2, 3]), dataFrame(streamID: 1, [4, 5]))
        #expect(server.sent() == [.rst(1, .protocolError)])
        #expect(server.connection.state == .active)
    }

    @Test func rfc9113Section8_1_1BodyShorterThanContentLengthIsProtocolError() {
        var server = activeServer()
        server.sendRequest(streamID: 1, post(length: "10"))
        server.receive(dataFrame(streamID: 1, [1, 2, 3], endStream: true))
        #expect(server.sent() == [.rst(1, .protocolError)])
    }

    @Test func rfc9113Section8_1_1TrailersEndingAShortBodyIsProtocolError() {
        var server = activeServer()
        server.sendRequest(streamID: 1, post(length: "10"))
        server.receive(dataFrame(streamID: 1, [1, 2, 3]))
        server.deliverHeaders(streamID: 1, [HPACKHeader("x-checksum", "1")], endStream: true)
        #expect(server.sent() == [.rst(1, .protocolError)])
    }

    @Test func rfc9113Section8_1_1HeadersOnlyRequestWithNonZeroContentLengthIsProtocolError() {
        var server = activeServer()
        server.sendRequest(streamID: 1, post(length: "3"), endStream: true)
        #expect(server.sent() == [.rst(1, .protocolError)])
        #expect(server.events() == [.streamError(1, .protocolError)])
        server.sendRequest(streamID: 3, post(length: "0"), endStream: true)
        #expect(server.sent() == [])
    }

    @Test(arguments: ["abc", "-1", "5, 6", "", "1 2"])
    func rfc9113Section8_1_1InvalidContentLengthIsProtocolError(_ value: String) {
        var server = activeServer()
        server.sendRequest(streamID: 1, post(length: value))
        #expect(server.sent() == [.rst(1, .protocolError)])
    }

    @Test func repeatedIdenticalContentLengthIsAccepted() {
        var server = activeServer()
        server.sendRequest(streamID: 1, post(length: "2, 2"))
        server.receive(dataFrame(streamID: 1, [1, 2], endStream: true))
        #expect(server.sent() == [])
    }

    @Test func responseToHeadIgnoresContentLength() throws {
        var client = PeerHarness.client()
        client.handshake()
        let id = try client.connection.sendHeaders(requestHead(method: "HEAD", path: "/file"), endStream: true)
        _ = client.frames()
        client.deliverHeaders(streamID: id, responseHead(extra: [("content-length", "1000")]), endStream: true)
        #expect(client.sent() == [])
        #expect(client.events().first == .headers(id, fields(responseHead(extra: [("content-length", "1000")])), endStream: true))
    }

    @Test func clientRejectsAResponseBodyLongerThanItsContentLength() throws {
        var client = PeerHarness.client()
        client.handshake()
        let id = try client.connection.sendHeaders(requestHead(), endStream: true)
        _ = client.frames()
        client.deliverHeaders(streamID: id, responseHead(extra: [("content-length", "2")]))
        client.receive(dataFrame(streamID: id, [1, 2, 3], endStream: true))
        #expect(client.sent() == [.rst(id, .protocolError)])
    }
}
