import Testing
import Loop
@testable import LoopGRPC

/// PROTOCOL-WEB.md "Text-encoded (response) streams" and "Content-Type" 2 (text-encoded
/// streams of application/grpc-web): base64 bodies, split anywhere, padded per segment.
@Suite struct GRPCWebTextDecoderTests {
    private func decodeAll(_ chunks: [String]) throws(GRPCStatus) -> [UInt8] {
        var decoder = GRPCWebTextDecoder()
        var output: [UInt8] = []
        for chunk in chunks {
            output += Array(try decoder.decode(ByteBuffer(string: chunk)).readableBytesView)
            #expect(decoder.pendingCharacters <= 3)
        }
        try decoder.finish()
        return output
    }

    /// A request message frame as grpc-web's JavaScript client sends it: one padded text.
    @Test func decodesOneMessageFrame() throws {
        #expect(try decodeAll(["AAAAAAVoZWxsbw=="]) == [0, 0, 0, 0, 5] + Array("hello".utf8))
        #expect(try decodeAll([]) == [])
        #expect(try decodeAll([""]) == [])
    }

    /// Bytes come out as soon as their 4-character group is complete; at most 3 characters wait.
    @Test func yieldsBytesAsTheyBecomeDecodable() throws {
        var decoder = GRPCWebTextDecoder()
        #expect(Array(try decoder.decode(ByteBuffer(string: "Zm9vYm")).readableBytesView) == Array("foo".utf8))
        #expect(decoder.pendingCharacters == 2)
        #expect(try decoder.decode(ByteBuffer(string: "F")).readableBytes == 0)
        #expect(decoder.pendingCharacters == 3)
        #expect(Array(try decoder.decode(ByteBuffer(string: "y")).readableBytesView) == Array("bar".utf8))
        #expect(decoder.pendingCharacters == 0)
        try decoder.finish()
    }

    /// "the implementation may send base64-encoded chunks with potential padding": padded
    /// segments one after another (here three frames, each encoded on its own) decode as the
    /// concatenation of their bytes, however the text is split.
    @Test func protocolWebPaddedSegmentsConcatenatedAndSplitAnywhere() throws {
        let frames: [[UInt8]] = [[0, 0, 0, 0, 1, 0x61], [0, 0, 0, 0, 2, 0x62, 0x63], [0x80, 0, 0, 0, 0], Array(0...255)]
        var text: [UInt8] = []
        for frame in frames { text += Array(GRPCWebTextEncoder.encode(ByteBuffer(bytes: frame)).readableBytesView) }
        let expected = frames.flatMap { $0 }
        let string = String(decoding: text, as: UTF8.self)
        #expect(string.hasPrefix("AAAAAAFh"))
        #expect(string.contains("=="))
        for size in 1...9 {
            var chunks: [String] = []
            var index = string.startIndex
            while index < string.endIndex {
                let end = string.index(index, offsetBy: size, limitedBy: string.endIndex) ?? string.endIndex
                chunks.append(String(string[index..<end]))
                index = end
            }
            #expect(try decodeAll(chunks) == expected)
        }
        for split in 0...text.count {
            #expect(try decodeAll([String(string.prefix(split)), String(string.dropFirst(split))]) == expected)
        }
    }

    /// RFC 4648 §4: one or two `=` end a group and drop one or two bytes.
    @Test func rfc4648Section4Padding() throws {
        #expect(try decodeAll(["Zg==", "Zm8=", "Zm9v"]) == Array("ffofoo".utf8))
        #expect(try decodeAll(["Zm", "9", "=", "Zg", "=", "="]) == Array("fof".utf8))
    }

    /// Characters outside the standard alphabet, whitespace and the URL-safe alphabet included,
    /// end the call with INTERNAL naming the character and where it is.
    @Test(arguments: [
        ("AAAA!AAA", "character '!' (0x21) at offset 4: not a base64 character"),
        ("AAAA\nAAA", "character 0x0A at offset 4: not a base64 character"),
        ("AA AA", "character 0x20 at offset 2: not a base64 character"),
        ("Zm9-", "character '-' (0x2D) at offset 3: not a base64 character"),
        ("Zm9_", "character '_' (0x5F) at offset 3: not a base64 character"),
        ("Zm8=\u{e9}", "character 0xC3 at offset 4: not a base64 character"),
        ("=AAA", "character '=' (0x3D) at offset 0: padding '=' can only end a 4-character group (its third or fourth character)"),
        ("AAAAZ===", "character '=' (0x3D) at offset 5: padding '=' can only end a 4-character group (its third or fourth character)"),
        ("Zg=g", "character 'g' (0x67) at offset 3: a base64 character after '=' in the same 4-character group"),
    ])
    func invalidCharacterIsInternal(_ text: String, _ reason: String) {
        #expect(throws: GRPCStatus(.internal, "invalid grpc-web-text body: " + reason)) {
            var decoder = GRPCWebTextDecoder()
            _ = try decoder.decode(ByteBuffer(string: text))
        }
    }

    /// The offset counts across chunks.
    @Test func offsetCountsAcrossChunks() throws {
        var decoder = GRPCWebTextDecoder()
        _ = try decoder.decode(ByteBuffer(string: "AAAAAA"))
        #expect(throws: GRPCStatus(.internal, "invalid grpc-web-text body: character '*' (0x2A) at offset 7: not a base64 character")) {
            _ = try decoder.decode(ByteBuffer(string: "A*"))
        }
    }

    /// A body that ends inside a group is refused: padding is required (as Envoy requires it).
    @Test(arguments: [("Zm9vY", 1), ("Zm9vYg", 2), ("Zm9vYmE", 3), ("Zg==Zm8", 3)])
    func bodyEndingInsideAGroupIsInternal(_ text: String, _ pending: Int) throws {
        var decoder = GRPCWebTextDecoder()
        _ = try decoder.decode(ByteBuffer(string: text))
        #expect(decoder.pendingCharacters == pending)
        let plural = pending == 1 ? "" : "s"
        #expect(throws: GRPCStatus(.internal, "invalid grpc-web-text body: it ended with \(pending) base64 character\(plural) "
                                   + "short of a 4-character group (each group must be complete, padded with '=')")) {
            try decoder.finish()
        }
    }
}
