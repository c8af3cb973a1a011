import Testing
import LoopHTTP2
@testable import LoopGRPC

/// Response heads and trailers both ways, header fields in and status or fields out (no
/// socket): PROTOCOL-HTTP2.md "Responses" and "Errors", http-grpc-status-mapping.md.
@Suite struct GRPCResponseHeadTests {
    let okHead = [HPACKHeader(":status", "200"), HPACKHeader("content-type", "application/grpc")]

    func parse(_ headers: [HPACKHeader], endStream: Bool = false) throws(GRPCStatus) -> GRPCResponseHead? {
        try GRPCResponseHead(parsing: headers, endStream: endStream)
    }

    // MARK: Parsing (client)

    /// "Response-Headers → HTTP-Status [Message-Encoding] Content-Type *Custom-Metadata".
    @Test func headWithMetadataAndEncoding() throws {
        let head = try #require(try parse(okHead + [HPACKHeader("grpc-encoding", "gzip"), HPACKHeader("x-id", "7"),
                                                    HPACKHeader("grpc-accept-encoding", "gzip")]))
        #expect(head.compression == .gzip)
        #expect(head.metadata["x-id"] == "7")
        #expect(head.metadata.count == 1)  // reserved grpc-* and pseudo fields are not metadata
        #expect(head.trailersOnlyStatus == nil)
        #expect(try parse(okHead + [HPACKHeader("grpc-encoding", "identity")])?.compression == nil)
        #expect(try parse([HPACKHeader(":status", "200"), HPACKHeader("content-type", "application/grpc+proto")]) != nil)
    }

    /// Informational (1xx) heads come before the real one: skipped.
    @Test func informationalHeadIsSkipped() throws {
        #expect(try parse([HPACKHeader(":status", "100")]) == nil)
    }

    /// "Trailers-Only → HTTP-Status Content-Type Trailers": the status comes with the head.
    @Test func trailersOnlyResponse() throws {
        let head = try #require(try parse(okHead + [HPACKHeader("grpc-status", "5"), HPACKHeader("grpc-message", "not%20here"),
                                                    HPACKHeader("x-extra", "1")], endStream: true))
        #expect(head.trailersOnlyStatus == GRPCStatus(.notFound, "not here"))
        #expect(head.trailersOnlyStatus?.trailingMetadata["x-extra"] == "1")
        #expect(head.metadata["x-extra"] == "1")
    }

    /// A trailers-only response without grpc-status is INTERNAL (the spec requires the status).
    @Test func trailersOnlyWithoutGRPCStatusIsInternal() throws {
        let head = try #require(try parse(okHead, endStream: true))
        #expect(head.trailersOnlyStatus == GRPCStatus(.internal, "the response ended without grpc-status"))
    }

    /// http-grpc-status-mapping.md: without grpc-status, the HTTP status decides.
    @Test(arguments: [(400, GRPCStatus.Code.internal), (401, .unauthenticated), (403, .permissionDenied), (404, .unimplemented),
                      (429, .unavailable), (502, .unavailable), (503, .unavailable), (504, .unavailable),
                      (500, .unknown), (418, .unknown)])
    func httpStatusWithoutGRPCStatus(_ httpStatus: Int, _ expected: GRPCStatus.Code) {
        #expect(GRPCResponseHead.code(httpStatus: httpStatus) == expected)
        #expect(throws: GRPCStatus(expected, "HTTP status \(httpStatus) without grpc-status")) {
            try parse([HPACKHeader(":status", String(httpStatus)), HPACKHeader("content-type", "text/html")], endStream: true)
        }
    }

    /// A grpc-status wins over the HTTP status: the server spoke gRPC.
    @Test func grpcStatusWinsOverHTTPStatus() throws {
        let head = try #require(try parse([HPACKHeader(":status", "503"), HPACKHeader("grpc-status", "8")], endStream: true))
        #expect(head.trailersOnlyStatus?.code == .resourceExhausted)
    }

    /// "Implementations should expect broken deployments to send non-200 HTTP status codes": a 200
    /// response whose content type is not application/grpc is UNKNOWN.
    @Test func nonGRPCContentTypeIsUnknown() {
        #expect(throws: GRPCStatus(.unknown, "the response's content-type \"text/html\" is not gRPC")) {
            try parse([HPACKHeader(":status", "200"), HPACKHeader("content-type", "text/html")])
        }
        #expect(throws: GRPCStatus(.unknown, "the response's content-type (none) is not gRPC")) {
            try parse([HPACKHeader(":status", "200")])
        }
    }

    /// compression.md: a message encoding the client cannot decode ends the call with INTERNAL.
    @Test func unsupportedEncodingIsInternal() {
        #expect(throws: GRPCStatus(.internal, "the server used grpc-encoding \"snappy\", which this client does not support")) {
            try parse(okHead + [HPACKHeader("grpc-encoding", "snappy")])
        }
    }

    /// "Trailers → Status [Status-Message] *Custom-Metadata"; the message is percent-decoded;
    /// grpc-status-details-bin passes through as binary metadata.
    @Test func trailers() {
        let status = GRPCResponseHead.status(parsingTrailers: [
            HPACKHeader("grpc-status", "3"), HPACKHeader("grpc-message", "bad%20%E2%9C%93"),
            HPACKHeader("grpc-status-details-bin", "CAM"), HPACKHeader("x-trace", "abc"),
        ])
        #expect(status == GRPCStatus(.invalidArgument, "bad ✓"))
        #expect(status.trailingMetadata.binary("grpc-status-details-bin") == [0x08, 0x03])
        #expect(status.trailingMetadata["x-trace"] == "abc")
        #expect(GRPCResponseHead.status(parsingTrailers: [HPACKHeader("grpc-status", "0")]) == .ok)
        // statuscodes.md: an unknown or malformed code is UNKNOWN.
        #expect(GRPCResponseHead.status(parsingTrailers: [HPACKHeader("grpc-status", "99")]).code == .unknown)
        #expect(GRPCResponseHead.status(parsingTrailers: [HPACKHeader("x-other", "1")])
                == GRPCStatus(.internal, "the response ended without grpc-status"))
    }

    /// PROTOCOL-HTTP2.md "Errors": RST_STREAM codes seen before the trailers → gRPC status.
    @Test(arguments: [(HTTP2ErrorCode.cancel, GRPCStatus.Code.cancelled), (.refusedStream, .unavailable),
                      (.enhanceYourCalm, .resourceExhausted), (.inadequateSecurity, .permissionDenied),
                      (.noError, .internal), (.protocolError, .internal), (.internalError, .internal),
                      (.flowControlError, .internal), (.compressionError, .internal), (.connectError, .internal)])
    func resetCodes(_ code: HTTP2ErrorCode, _ expected: GRPCStatus.Code) {
        #expect(GRPCResponseHead.status(resetBy: code) == GRPCStatus(expected, "the server reset the stream with \(code)"))
    }

    // MARK: Building (server)

    @Test func headFields() {
        #expect(GRPCResponseHead.headers(compression: nil, metadata: GRPCMetadata()) == [
            HPACKHeader(":status", "200"), HPACKHeader("content-type", "application/grpc"),
            HPACKHeader("grpc-accept-encoding", "identity,deflate,gzip"),
        ])
        var metadata = GRPCMetadata()
        metadata.add("x-id", "7")
        #expect(GRPCResponseHead.headers(compression: .gzip, metadata: metadata, trailers: [HPACKHeader("grpc-status", "0")]) == [
            HPACKHeader(":status", "200"), HPACKHeader("content-type", "application/grpc"),
            HPACKHeader("grpc-accept-encoding", "identity,deflate,gzip"), HPACKHeader("grpc-encoding", "gzip"),
            HPACKHeader("x-id", "7"), HPACKHeader("grpc-status", "0"),
        ])
        #expect(GRPCResponseHead.headers(compression: .deflate, metadata: GRPCMetadata()).last == HPACKHeader("grpc-encoding", "deflate"))
    }

    /// What the server sends is what the client parses back.
    @Test func builtHeadParsesBack() throws {
        let head = try #require(try parse(GRPCResponseHead.headers(compression: .deflate, metadata: GRPCMetadata())))
        #expect(head.compression == .deflate && head.metadata.isEmpty && head.trailersOnlyStatus == nil)
        let status = GRPCStatus(.aborted, "100% done, 0 left")
        #expect(GRPCResponseHead.status(parsingTrailers: GRPCResponseHead.trailers(for: status, adding: GRPCMetadata())) == status)
    }

    @Test func trailerFields() {
        #expect(GRPCResponseHead.trailers(for: .ok, adding: GRPCMetadata()) == [HPACKHeader("grpc-status", "0")])
        var metadata = GRPCMetadata()
        metadata.add("x-handler", "1")
        var status = GRPCStatus(.notFound, "no user 42%")
        status.trailingMetadata.add("x-status", "2")
        #expect(GRPCResponseHead.trailers(for: status, adding: metadata) == [
            HPACKHeader("grpc-status", "5"), HPACKHeader("grpc-message", "no user 42%25"),
            HPACKHeader("x-handler", "1"), HPACKHeader("x-status", "2"),
        ])
    }

    /// Metadata that may not be sent (a reserved key) turns the trailers into INTERNAL.
    @Test func unsendableTrailingMetadataIsInternal() {
        var metadata = GRPCMetadata()
        metadata.add("grpc-status", "0")
        #expect(GRPCResponseHead.trailers(for: .ok, adding: metadata) == [
            HPACKHeader("grpc-status", "13"),
            HPACKHeader("grpc-message", GRPCStatusMessage.encode("metadata key \"grpc-status\" is reserved by gRPC")),
        ])
    }

    /// Refusals before any handler runs are trailers-only; UNIMPLEMENTED lists the accepted
    /// encodings (compression.md).
    @Test func rejections() {
        #expect(GRPCResponseHead.rejection(httpStatus: 415, GRPCStatus(.internal, "invalid gRPC content-type (none)")) == [
            HPACKHeader(":status", "415"), HPACKHeader("content-type", "application/grpc"), HPACKHeader("grpc-status", "13"),
            HPACKHeader("grpc-message", "invalid gRPC content-type (none)"),
        ])
        #expect(GRPCResponseHead.rejection(httpStatus: 200, GRPCStatus(.unimplemented)) == [
            HPACKHeader(":status", "200"), HPACKHeader("content-type", "application/grpc"), HPACKHeader("grpc-status", "12"),
            HPACKHeader("grpc-accept-encoding", "identity,deflate,gzip"),
        ])
    }
}
