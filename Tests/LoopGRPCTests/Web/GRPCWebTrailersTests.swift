import Testing
import Loop
import LoopHTTP2
@testable import LoopGRPC

/// PROTOCOL-WEB.md "Message framing": the status in the body, as a last frame whose flag byte
/// is 0x80, a 4-byte big-endian length and `key: value\r\n` lines with lower-case keys.
@Suite struct GRPCWebTrailersTests {
    private func bytes(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

    private func frame(_ block: String, flag: UInt8 = 0x80) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(flag)
        buffer.writeInteger(UInt32(block.utf8.count))
        buffer.writeString(block)
        return buffer
    }

    // MARK: Encoding

    /// "10000000b: an uncompressed trailer", then the length and the header block.
    @Test func protocolWebTrailerFrameOK() {
        #expect(bytes(GRPCWebTrailers.frame(for: .ok)) == [0x80, 0, 0, 0, 16] + Array("grpc-status: 0\r\n".utf8))
    }

    /// The demo's refusal, byte for byte: grpc-status then grpc-message, each line CR LF-ended,
    /// no empty line after the block ("without the terminating newline").
    @Test func protocolWebTrailerFrameWithStatusMessage() {
        let block = "grpc-status: 7\r\ngrpc-message: forbidden may not be greeted\r\n"
        #expect(block.utf8.count == 60)
        #expect(bytes(GRPCWebTrailers.frame(for: GRPCStatus(.permissionDenied, "forbidden may not be greeted")))
                == [0x80, 0, 0, 0, 60] + Array(block.utf8))
        #expect(bytes(GRPCWebTrailers.frame(for: GRPCStatus(.notFound, "no user 42"))) == bytes(frame("grpc-status: 5\r\ngrpc-message: no user 42\r\n")))
    }

    /// PROTOCOL-HTTP2.md "Status-Message": grpc-message percent-encoded as on HTTP/2 (a CR LF
    /// in a message cannot break the block).
    @Test func protocolHTTP2StatusMessagePercentEncoded() {
        let status = GRPCStatus(.internal, "50% done ☺\r\nx: y")
        #expect(bytes(GRPCWebTrailers.frame(for: status))
                == bytes(frame("grpc-status: 13\r\ngrpc-message: 50%25 done %E2%98%BA%0D%0Ax: y\r\n")))
    }

    /// Trailing metadata follows the status, the status's own after the added; `-bin` values in
    /// base64 as on HTTP/2 (unpadded), in binary and text mode alike.
    @Test func protocolWebTrailingMetadataAsOnHTTP2() {
        var metadata = GRPCMetadata()
        metadata.add("X-Request-Id", "42")
        metadata.add(binary: "trace-bin", [0, 1, 2, 3])
        var status = GRPCStatus(.aborted, "retry")
        status.trailingMetadata.add("grpc-status-details-bin", "\u{8}\u{a}")
        #expect(bytes(GRPCWebTrailers.frame(for: status, adding: metadata)) == bytes(frame(
            "grpc-status: 10\r\ngrpc-message: retry\r\nx-request-id: 42\r\ntrace-bin: AAECAw\r\ngrpc-status-details-bin: CAo\r\n")))
    }

    /// Metadata that may not be sent becomes INTERNAL naming it, as HTTP/2 trailers do.
    @Test func reservedMetadataBecomesInternal() {
        var metadata = GRPCMetadata()
        metadata.add("grpc-custom", "1")
        #expect(bytes(GRPCWebTrailers.frame(for: .ok, adding: metadata))
                == bytes(frame("grpc-status: 13\r\ngrpc-message: metadata key \"grpc-custom\" is reserved by gRPC\r\n")))
    }

    /// PROTOCOL-WEB.md "use lower-case header/trailer names": fields from elsewhere are lower-cased.
    @Test func protocolWebLowerCaseTrailerNames() {
        let fields = [HPACKHeader("grpc-status", "0"), HPACKHeader("X-Trace", "abc")]
        #expect(bytes(GRPCWebTrailers.frame(fields: fields)) == bytes(frame("grpc-status: 0\r\nx-trace: abc\r\n")))
        #expect(bytes(GRPCWebTrailers.frame(fields: [])) == [0x80, 0, 0, 0, 0])
    }

    /// "8th (MSB) bit of the 1st gRPC frame byte — 0: data, 1: trailers".
    @Test func protocolWebFlagMostSignificantBit() {
        #expect(GRPCWebTrailers.isTrailerFlag(0x80))
        #expect(GRPCWebTrailers.isTrailerFlag(0x81))
        #expect(!GRPCWebTrailers.isTrailerFlag(0x00))
        #expect(!GRPCWebTrailers.isTrailerFlag(0x01))
    }

    // MARK: Decoding

    /// What a frame carries comes back: status, decoded message, metadata with `-bin` decoded.
    @Test func roundTrip() throws {
        var metadata = GRPCMetadata()
        metadata.add("x-request-id", "42")
        metadata.add(binary: "trace-bin", [0, 1, 2, 3, 255])
        var buffer = GRPCWebTrailers.frame(for: GRPCStatus(.permissionDenied, "non ☺ ascii"), adding: metadata)
        let status = try GRPCWebTrailers.status(parsing: &buffer)
        #expect(status == GRPCStatus(.permissionDenied, "non ☺ ascii"))
        #expect(status.trailingMetadata == metadata)
        #expect(buffer.readableBytes == 0)
    }

    /// Other writers' blocks: Envoy's `name:value` without a space, mixed-case names, spaces
    /// around values, a last line without CR LF, an empty line.
    @Test func lenientLines() throws {
        var buffer = frame("grpc-status:7\r\nGrpc-Message:  denied \r\n\r\nx-a: 1")
        #expect(try GRPCWebTrailers.fields(parsing: &buffer)
                == [HPACKHeader("grpc-status", "7"), HPACKHeader("grpc-message", "denied"), HPACKHeader("x-a", "1")])
    }

    /// PROTOCOL-HTTP2.md: trailers without grpc-status end the call with INTERNAL.
    @Test func missingGRPCStatusIsInternal() throws {
        var buffer = frame("x-a: 1\r\n")
        #expect(try GRPCWebTrailers.status(parsing: &buffer) == GRPCStatus(.internal, "the response ended without grpc-status"))
    }

    /// Not exactly one trailer frame: each refusal names what is wrong.
    @Test(arguments: [
        ([0x80, 0, 0], "gRPC-Web trailer frame cut short: 3 of its 5 prefix bytes"),
        ([0x00, 0, 0, 0, 0], "expected a gRPC-Web trailer frame (flag 0x80), got flag 0x00"),
        ([0x81, 0, 0, 0, 0], "compressed gRPC-Web trailer frame (flag 0x81) is not supported"),
        ([0x80, 0, 0, 0, 9] + Array("a: 1\r\n".utf8), "gRPC-Web trailer frame cut short: 6 of its 9 bytes"),
        ([0x80, 0, 0, 0, 6] + Array("a: 1\r\nxy".utf8), "2 bytes after the gRPC-Web trailer frame (trailers must end the body)"),
        ([0x80, 0, 0, 0, 9] + Array("a: 1\r\nb\r\n".utf8), "gRPC-Web trailer line without a colon: \"b\""),
        ([0x80, 0, 0, 0, 6] + Array("a b: 1".utf8), "gRPC-Web trailer line with an invalid field name: \"a b: 1\""),
        ([0x80, 0, 0, 0, 9] + Array("a: 1\nb: 2".utf8), "gRPC-Web trailer line with a bare CR or LF: \"a: 1\nb: 2\""),
    ] as [([UInt8], String)])
    func malformedFrameIsInternal(_ input: [UInt8], _ message: String) {
        var buffer = ByteBuffer(bytes: input)
        #expect(throws: GRPCStatus(.internal, message)) { try GRPCWebTrailers.fields(parsing: &buffer) }
    }
}
