import Testing
import LoopHTTP2
@testable import LoopGRPC

/// Request heads in, call parameters or the exact refusal out (PROTOCOL-HTTP2.md "Requests").
@Suite struct GRPCRequestHeadTests {
    func head(_ extra: [HPACKHeader], method: String = "POST", contentType: String? = "application/grpc",
              compressLikeRequests: Bool = true) throws(GRPCRequestHead.Rejection) -> GRPCRequestHead {
        var headers = [HPACKHeader(":method", method), HPACKHeader(":scheme", "http"), HPACKHeader(":path", "/a.B/C"),
                       HPACKHeader("te", "trailers")]
        if let contentType { headers.append(HPACKHeader("content-type", contentType)) }
        return try GRPCRequestHead(validating: headers + extra, acceptedEncodings: GRPCCompression.allCases,
                                   compressResponsesLikeRequests: compressLikeRequests)
    }

    @Test func plainRequest() throws {
        let parsed = try head([HPACKHeader("user-agent", "grpc-go/1.33.3")])
        #expect(parsed.path == "/a.B/C")
        #expect(parsed.userAgent == "grpc-go/1.33.3")
        #expect(parsed.requestCompression == nil && parsed.responseCompression == nil && parsed.timeout == nil)
        #expect(!parsed.hasMetadata)
        #expect(try head([HPACKHeader("x-custom", "1")]).hasMetadata)
        #expect(try head([], contentType: "application/grpc+proto").path == "/a.B/C")
    }

    @Test func methodAndContentTypeRefusals() {
        #expect(throws: GRPCRequestHead.Rejection(httpStatus: 405, status: GRPCStatus(.internal, "gRPC requires POST, got GET"))) {
            try head([], method: "GET")
        }
        #expect(throws: GRPCRequestHead.Rejection(httpStatus: 415, status: GRPCStatus(.internal, "invalid gRPC content-type \"text/plain\""))) {
            try head([], contentType: "text/plain")
        }
        #expect(throws: GRPCRequestHead.Rejection(httpStatus: 415, status: GRPCStatus(.internal, "invalid gRPC content-type (none)"))) {
            try head([], contentType: nil)
        }
    }

    @Test func encodingNegotiation() throws {
        let gzip = try head([HPACKHeader("grpc-encoding", "gzip"), HPACKHeader("grpc-accept-encoding", "identity,gzip")])
        #expect(gzip.requestCompression == .gzip && gzip.responseCompression == .gzip)
        // The client does not accept gzip back: answer uncompressed.
        let notAccepted = try head([HPACKHeader("grpc-encoding", "gzip"), HPACKHeader("grpc-accept-encoding", "identity")])
        #expect(notAccepted.requestCompression == .gzip && notAccepted.responseCompression == nil)
        let configuredOff = try head([HPACKHeader("grpc-encoding", "gzip"), HPACKHeader("grpc-accept-encoding", "gzip")], compressLikeRequests: false)
        #expect(configuredOff.responseCompression == nil)
        #expect(try head([HPACKHeader("grpc-encoding", "identity")]).requestCompression == nil)
        #expect(throws: GRPCRequestHead.Rejection(httpStatus: 200, status: GRPCStatus(.unimplemented, "grpc-encoding \"br\" is not supported (supported: identity,deflate,gzip)"))) {
            try head([HPACKHeader("grpc-encoding", "br")])
        }
    }

    @Test func timeout() throws {
        #expect(try head([HPACKHeader("grpc-timeout", "250m")]).timeout == .milliseconds(250))
        #expect(throws: GRPCRequestHead.Rejection(httpStatus: 200, status: GRPCStatus(.internal, "malformed grpc-timeout \"1x\""))) {
            try head([HPACKHeader("grpc-timeout", "1x")])
        }
    }

    @Test func unknownMethodWording() {
        var router = GRPCRouter()
        router.register(EchoService())
        #expect(router.unknownMethodStatus("/test.Echo/Nope") == GRPCStatus(.unimplemented, "unknown method Nope for service test.Echo"))
        #expect(router.unknownMethodStatus("/test.Missing/Get") == GRPCStatus(.unimplemented, "unknown service test.Missing"))
        #expect(router.unknownMethodStatus("/onlyone") == GRPCStatus(.unimplemented, "malformed method name \"/onlyone\""))
    }
}
