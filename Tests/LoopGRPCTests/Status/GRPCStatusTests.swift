import Testing
@testable import LoopGRPC

@Suite struct GRPCStatusTests {
    /// http-grpc-status-mapping.md: the code for a response without grpc-status.
    @Test func httpStatusMapping() {
        #expect(GRPCStatus.mapping(httpStatus: 400).code == .internal)
        #expect(GRPCStatus.mapping(httpStatus: 401).code == .unauthenticated)
        #expect(GRPCStatus.mapping(httpStatus: 403).code == .permissionDenied)
        #expect(GRPCStatus.mapping(httpStatus: 404).code == .unimplemented)
        #expect(GRPCStatus.mapping(httpStatus: 429).code == .unavailable)
        #expect(GRPCStatus.mapping(httpStatus: 502).code == .unavailable)
        #expect(GRPCStatus.mapping(httpStatus: 503).code == .unavailable)
        #expect(GRPCStatus.mapping(httpStatus: 504).code == .unavailable)
        #expect(GRPCStatus.mapping(httpStatus: 500).code == .unknown)
        #expect(GRPCStatus.mapping(httpStatus: 200).code == .unknown)
    }

    @Test func statusCodeParsing() {
        #expect(GRPCStatus.code(parsing: "0") == .ok)
        #expect(GRPCStatus.code(parsing: "14") == .unavailable)
        #expect(GRPCStatus.code(parsing: "16") == .unauthenticated)
        #expect(GRPCStatus.code(parsing: "17") == .unknown)
        #expect(GRPCStatus.code(parsing: "") == .unknown)
        #expect(GRPCStatus.code(parsing: "1a") == .unknown)
        #expect(GRPCStatus.code(parsing: "0001") == .unknown)
    }

    /// PROTOCOL-HTTP2.md "Status-Message": percent-encoded UTF-8, '%' itself encoded.
    @Test func statusMessagePercentEncoding() {
        #expect(GRPCStatusMessage.encode("plain text") == "plain text")
        #expect(GRPCStatusMessage.encode("50%") == "50%25")
        #expect(GRPCStatusMessage.encode("\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n")
                == "%09%0Atest with whitespace%0D%0Aand Unicode BMP %E2%98%BA and non-BMP %F0%9F%98%88%09%0A")
        let special = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"
        #expect(GRPCStatusMessage.decode(GRPCStatusMessage.encode(special)) == special)
    }

    @Test func malformedPercentEncodingIsKept() {
        #expect(GRPCStatusMessage.decode("100%") == "100%")
        #expect(GRPCStatusMessage.decode("%zz ok") == "%zz ok")
        #expect(GRPCStatusMessage.decode("%4") == "%4")
        #expect(GRPCStatusMessage.decode("%41%42") == "AB")
    }
}
