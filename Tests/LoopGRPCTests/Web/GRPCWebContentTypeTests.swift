import Testing
@testable import LoopGRPC

/// PROTOCOL-WEB.md "Content-Type": application/grpc-web and application/grpc-web-text, each
/// with an optional +codec; PROTOCOL-HTTP2.md's application/grpc recognised in the same check.
@Suite struct GRPCWebContentTypeTests {
    /// Every gRPC and gRPC-Web media type: its format, codec, mode and the type answered with.
    @Test(arguments: [
        ("application/grpc-web", GRPCWebContentType.Format.grpcWeb, nil, false, "application/grpc-web"),
        ("application/grpc-web+proto", .grpcWeb, "proto", false, "application/grpc-web+proto"),
        ("application/grpc-web+json", .grpcWeb, "json", false, "application/grpc-web+json"),
        ("application/grpc-web-text", .grpcWebText, nil, true, "application/grpc-web-text"),
        ("application/grpc-web-text+proto", .grpcWebText, "proto", true, "application/grpc-web-text+proto"),
        ("application/grpc-web-text+thrift", .grpcWebText, "thrift", true, "application/grpc-web-text+thrift"),
        ("application/grpc", .grpc, nil, false, "application/grpc"),
        ("application/grpc+proto", .grpc, "proto", false, "application/grpc+proto"),
    ] as [(String, GRPCWebContentType.Format, String?, Bool, String)])
    func protocolWebContentTypes(_ value: String, _ format: GRPCWebContentType.Format, _ codec: String?, _ isText: Bool,
                                 _ response: String) throws {
        let type = try #require(GRPCWebContentType(parsing: value))
        #expect(type.format == format)
        #expect(type.codec == codec)
        #expect(type.isText == isText)
        #expect(type.isGRPCWeb == (format != .grpc))
        #expect(type.responseContentType == response)
        #expect(type == GRPCWebContentType(format: format, codec: codec))
    }

    /// RFC 9110 §8.3.1: type, subtype (and so the codec) compare without regard to case;
    /// parameters (`; charset=utf-8`) do not change the type and are not answered back.
    @Test func rfc9110Section8_3_1CaseAndParametersIgnored() throws {
        let text = try #require(GRPCWebContentType(parsing: "Application/GRPC-Web-Text+Proto; charset=utf-8"))
        #expect(text == GRPCWebContentType(format: .grpcWebText, codec: "proto"))
        #expect(text.responseContentType == "application/grpc-web-text+proto")
        let binary = try #require(GRPCWebContentType(parsing: " application/grpc-web ;charset=utf-8"))
        #expect(binary == GRPCWebContentType(format: .grpcWeb))
        #expect(GRPCWebContentType(parsing: "application/grpc;q=1")?.format == .grpc)
    }

    /// Anything else is not gRPC: other media types, look-alikes, an empty or invalid codec,
    /// and `application/grpc-web-text-base64` (named by PROTOCOL-WEB.md, sent by no client).
    @Test(arguments: ["application/json", "text/plain", "", "application/grpcweb", "application/grpc-webx",
                      "application/grpc+", "application/grpc-web+", "application/grpc-web-text+", "application/grpc-web+pro to",
                      "application/grpc-web-text-base64", "application/grpc-web-textual", "xapplication/grpc"])
    func otherTypesAreNotGRPC(_ value: String) {
        #expect(GRPCWebContentType(parsing: value) == nil)
    }
}
