import Testing
import LoopHTTP2
@testable import LoopGRPC

@Suite struct GRPCMetadataTests {
    @Test func base64EncodesUnpaddedAndDecodesBoth() {
        #expect(Base64.encode([]) == "")
        #expect(Base64.encode(Array("f".utf8)) == "Zg")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8")
        #expect(Base64.encode(Array("foo".utf8)) == "Zm9v")
        #expect(Base64.encode([0x0a, 0x0b, 0x0a, 0x0b, 0x0a, 0x0b]) == "CgsKCwoL")
        #expect(Base64.decode(Array("Zg==".utf8)) == Array("f".utf8))
        #expect(Base64.decode(Array("Zg".utf8)) == Array("f".utf8))
        #expect(Base64.decode(Array("Zm8=".utf8)) == Array("fo".utf8))
        #expect(Base64.decode(Array("Z".utf8)) == nil)
        #expect(Base64.decode(Array("Zm$v".utf8)) == nil)
        let bytes = (0..<256).map { UInt8($0) }
        #expect(Base64.decode(Array(Base64.encode(bytes).utf8)) == bytes)
    }

    /// PROTOCOL-HTTP2.md: binary headers end in -bin and are base64, padded or not.
    @Test func binaryMetadataOnTheWire() {
        var metadata = GRPCMetadata()
        metadata.add("X-Custom", "value")
        metadata.add(binary: "trace-bin", [0x0a, 0x0b, 0x0a, 0x0b, 0x0a, 0x0b])
        var headers: [HPACKHeader] = []
        metadata.appendHeaders(to: &headers)
        #expect(headers == [HPACKHeader("x-custom", "value"), HPACKHeader("trace-bin", "CgsKCwoL")])

        let received = GRPCMetadata(headers: [HPACKHeader("trace-bin", "CgsKCwoL"), HPACKHeader("pad-bin", "Zg=="), HPACKHeader("x-custom", "v")])
        #expect(received.binary("trace-bin") == [0x0a, 0x0b, 0x0a, 0x0b, 0x0a, 0x0b])
        #expect(received.binary("pad-bin") == Array("f".utf8))
        #expect(received["x-custom"] == "v")
    }

    @Test func reservedHeadersAreNotUserMetadata() {
        let received = GRPCMetadata(headers: [
            HPACKHeader(":path", "/a/b"), HPACKHeader("content-type", "application/grpc"), HPACKHeader("te", "trailers"),
            HPACKHeader("grpc-timeout", "1S"), HPACKHeader("grpc-encoding", "gzip"), HPACKHeader("user-agent", "x"),
            HPACKHeader("mine", "kept"),
        ])
        #expect(received.entries.map(\.key) == ["mine"])
    }

    @Test func reservedOrInvalidKeysAreRefusedWhenSending() {
        var reserved = GRPCMetadata()
        reserved.add("grpc-status", "0")
        #expect(throws: GRPCStatus(.internal, "metadata key \"grpc-status\" is reserved by gRPC")) { try reserved.validateForSending() }
        var invalid = GRPCMetadata()
        invalid.add("bad key", "v")
        #expect(throws: GRPCStatus.self) { try invalid.validateForSending() }
        var badValue = GRPCMetadata()
        badValue.add("text", "line\nbreak")
        #expect(throws: GRPCStatus.self) { try badValue.validateForSending() }
        var fine = GRPCMetadata()
        fine.add("x-ok_1.2", "value")
        fine.add(binary: "raw-bin", [0, 255])
        #expect(throws: Never.self) { try fine.validateForSending() }
    }
}
