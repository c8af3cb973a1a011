import Testing
@testable import LoopHTTP2

/// What a proxy forwards and what it answers itself (HTTP2ProxyHeaders), RFC 9113 §8.2.2 and
/// gRPC's PROTOCOL-HTTP2.
@Suite struct HTTP2ProxyHeadersTests {
    @Test func rfc9113Section8_2_2ConnectionSpecificFieldsAndTeOtherThanTrailersAreNotForwarded() {
        let headers = [
            HPACKHeader(":method", "POST"), HPACKHeader(":scheme", "http"), HPACKHeader(":path", "/a.B/C"),
            HPACKHeader(":authority", "backend"), HPACKHeader("connection", "keep-alive"), HPACKHeader("keep-alive", "5"),
            HPACKHeader("proxy-connection", "x"), HPACKHeader("transfer-encoding", "chunked"), HPACKHeader("upgrade", "h2c"),
            HPACKHeader("te", "gzip"), HPACKHeader("x-custom", "1"),
        ]
        #expect(HTTP2ProxyHeaders.forwardable(headers).map(\.name) == [":method", ":scheme", ":path", ":authority", "x-custom"])
        let grpc = [HPACKHeader(":method", "POST"), HPACKHeader("te", "trailers"), HPACKHeader("content-type", "application/grpc")]
        #expect(HTTP2ProxyHeaders.forwardable(grpc) == grpc)
    }

    @Test func designHeaderListsWithoutHopByHopFieldsPassAsTheyAre() {
        let headers = [HPACKHeader(":status", "200"), HPACKHeader("grpc-status", "0"), HPACKHeader("x-bin", "AAEC")]
        #expect(HTTP2ProxyHeaders.forwardable(headers) == headers)
        // The validation a connection applies on receipt rejects these first: the proxy
        // never even sees them (its filter is the second line).
        #expect(HTTP2HeaderValidation.responseProblem([HPACKHeader(":status", "200"), HPACKHeader("connection", "close")], isTrailers: false) != nil)
    }

    @Test func grpcRequestsAreRecognisedByContentType() {
        #expect(HTTP2ProxyHeaders.isGRPC([HPACKHeader("content-type", "application/grpc")]))
        #expect(HTTP2ProxyHeaders.isGRPC([HPACKHeader("content-type", "application/grpc+proto")]))
        #expect(HTTP2ProxyHeaders.isGRPC([HPACKHeader("content-type", "application/grpc;charset=utf-8")]))
        #expect(!HTTP2ProxyHeaders.isGRPC([HPACKHeader("content-type", "application/grpc-web")]))
        #expect(!HTTP2ProxyHeaders.isGRPC([HPACKHeader("content-type", "text/plain")]))
        #expect(!HTTP2ProxyHeaders.isGRPC([]))
    }

    @Test func grpcUnavailableIsTrailersOnlyWithAPercentEncodedMessage() {
        let headers = HTTP2ProxyHeaders.grpcUnavailable(message: "upstream 127.0.0.1:1: 100% down\nnow é")
        #expect(headers.map(\.description) == [
            ":status: 200", "content-type: application/grpc", "grpc-status: 14",
            "grpc-message: upstream 127.0.0.1:1: 100%25 down%0Anow %C3%A9",
        ])
        #expect(HTTP2HeaderValidation.responseProblem(headers, isTrailers: false) == nil)
        #expect(HTTP2ProxyHeaders.percentEncoded("plain text") == "plain text")
    }

    @Test func badGatewayHasALength() {
        #expect(HTTP2ProxyHeaders.badGateway(bodyLength: 12).map(\.description) == [
            ":status: 502", "content-type: text/plain; charset=utf-8", "content-length: 12",
        ])
    }
}
