import Testing
import InteropTestSupport
import Loop
@testable import LoopHTTP2

@Suite struct HPACKRoundTripTests {
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func randomHeaderListsRoundTripThroughSharedTables(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        let names = [":path", ":authority", "content-type", "grpc-timeout", "x-custom", "user-agent", "authorization", "te"]
        for policy in [HPACKEncoder.HuffmanPolicy.never, .always, .whenShorter] {
            var encoder = HPACKEncoder(maximumTableSize: 512, huffman: policy)
            var decoder = HPACKDecoder(maximumTableSize: 512)
            for _ in 0..<200 {
                let count = Int.random(in: 0...10, using: &random)
                let headers = (0..<count).map { _ -> HPACKHeader in
                    let name = names.randomElement(using: &random)!
                    let length = Int.random(in: 0...40, using: &random)
                    // Bytes from the whole range, so Huffman codes of every length appear.
                    let value = String(decoding: (0..<length).map { _ in UInt8.random(in: 32...126, using: &random) }, as: UTF8.self)
                    return HPACKHeader(name, value)
                }
                var block = ByteBuffer()
                encoder.encode(headers, into: &block)
                let decoded = try decoder.decode(block)
                #expect(decoded.map(\.name) == headers.map(\.name), "seed \(seed)")
                #expect(decoded.map(\.value) == headers.map(\.value), "seed \(seed)")
                #expect(decoder.dynamicTableSize == encoder.dynamicTableSize, "seed \(seed)")
            }
        }
    }

    @Test func huffmanRoundTripsEveryByte() throws {
        let all = [UInt8](0...255) + [UInt8](0...255).reversed()
        var encoded = ByteBuffer()
        HuffmanCoding.encode(all, into: &encoded)
        #expect(encoded.readableBytes == HuffmanCoding.encodedLength(of: all))
        var decoded: [UInt8] = []
        try encoded.withUnsafeReadableBytes { try HuffmanCoding.decode($0, into: &decoded) }
        #expect(decoded == all)
    }

    @Test func repeatedGRPCHeadersCostOneByteEach() {
        var encoder = HPACKEncoder()
        let headers = [HPACKHeader(":method", "POST"), HPACKHeader(":scheme", "http"),
                       HPACKHeader(":path", "/grpc.testing.TestService/UnaryCall"), HPACKHeader(":authority", "localhost:50051"),
                       HPACKHeader("content-type", "application/grpc"), HPACKHeader("te", "trailers"),
                       HPACKHeader("user-agent", "grpc-swift-loop/1.0")]
        var first = ByteBuffer()
        encoder.encode(headers, into: &first)
        var second = ByteBuffer()
        encoder.encode(headers, into: &second)
        #expect(second.readableBytes == headers.count)
        #expect(first.readableBytes > 60)
    }

    @Test func sensitiveHeadersAreNeverIndexed() throws {
        var encoder = HPACKEncoder()
        var block = ByteBuffer()
        encoder.encode([HPACKHeader("authorization", "Bearer secret"), HPACKHeader("cookie", "a=b")], into: &block)
        #expect(encoder.dynamicTableCount == 0)
        var decoder = HPACKDecoder()
        let decoded = try decoder.decode(block)
        #expect(decoded.map(\.indexing) == [.neverIndexed, .neverIndexed])
        #expect(decoded.map(\.value) == ["Bearer secret", "a=b"])
    }

    @Test func tableSizeChangeIsAnnouncedAtTheStartOfTheNextBlock() throws {
        var encoder = HPACKEncoder()
        var decoder = HPACKDecoder()
        var block = ByteBuffer()
        encoder.encode([HPACKHeader("x-a", "1")], into: &block)
        _ = try decoder.decode(block)
        encoder.setMaximumTableSize(0)
        encoder.setMaximumTableSize(100)
        block = ByteBuffer()
        encoder.encode([HPACKHeader("x-b", "2")], into: &block)
        // Smallest (0) then final (100) size, RFC 7541 §4.2.
        #expect(block.getInteger(at: 0, as: UInt8.self) == 0x20)
        #expect(block.getInteger(at: 1, as: UInt8.self) == 0x3f)
        #expect(try decoder.decode(block).map(\.value) == ["2"])
        #expect(decoder.dynamicTableMaximumSize == 100)
        #expect(decoder.dynamicTableSize == encoder.dynamicTableSize)
    }
}
