import Testing
import Loop
@testable import LoopHTTP2

/// RFC 7541 Appendix C, byte-exact in both directions.
@Suite struct HPACKRFCExampleTests {
    typealias Step = (hex: String, headers: [(String, String)], tableSize: Int)

    static let requests: [(String, String)] = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")]
    static let requestSteps: [[(String, String)]] = [
        requests,
        requests + [("cache-control", "no-cache")],
        [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")],
    ]
    static let responseSteps: [[(String, String)]] = [
        [(":status", "302"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")],
        [(":status", "307"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")],
        [(":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"), ("location", "https://www.example.com"),
         ("content-encoding", "gzip"), ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")],
    ]

    /// C.3 (plain) and C.4 (Huffman): requests with a 4096-byte table.
    static let c3 = ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                     "8286 84be 5808 6e6f 2d63 6163 6865",
                     "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"]
    static let c4 = ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
                     "8286 84be 5886 a8eb 1064 9cbf",
                     "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"]
    static let requestTableSizes = [57, 110, 164]

    /// C.5 (plain) and C.6 (Huffman): responses with a 256-byte table, with evictions.
    static let c5 = ["""
        4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
        2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d
        """,
        "4803 3330 37c1 c0bf",
        """
        88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
        54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
        5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31
        """]
    static let c6 = ["""
        4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
        2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3
        """,
        "4883 640e ffc1 c0bf",
        """
        88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
        77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
        9587 3160 65c0 03ed 4ee5 b106 3d50 07
        """]
    static let responseTableSizes = [222, 222, 215]

    static let sequences: [(name: String, blocks: [String], lists: [[(String, String)]], sizes: [Int], tableSize: Int, huffman: HPACKEncoder.HuffmanPolicy)] = [
        ("C.3", c3, requestSteps, requestTableSizes, 4096, .never),
        ("C.4", c4, requestSteps, requestTableSizes, 4096, .always),
        ("C.5", c5, responseSteps, responseTableSizes, 256, .never),
        ("C.6", c6, responseSteps, responseTableSizes, 256, .always),
    ]

    @Test(arguments: 0..<4)
    func decodesSequence(_ which: Int) throws {
        let sequence = Self.sequences[which]
        var decoder = HPACKDecoder(maximumTableSize: sequence.tableSize)
        for (step, hex) in sequence.blocks.enumerated() {
            let headers = try decoder.decode(hexBuffer(hex))
            #expect(headers.map { [$0.name, $0.value] } == sequence.lists[step].map { [$0.0, $0.1] }, "\(sequence.name) step \(step + 1)")
            #expect(decoder.dynamicTableSize == sequence.sizes[step], "\(sequence.name) step \(step + 1)")
        }
    }

    @Test(arguments: 0..<4)
    func encodesSequenceByteExact(_ which: Int) {
        let sequence = Self.sequences[which]
        // The RFC's encoder indexes every field, set-cookie included.
        var encoder = HPACKEncoder(maximumTableSize: sequence.tableSize, huffman: sequence.huffman, sensitiveNames: [])
        for (step, hex) in sequence.blocks.enumerated() {
            var block = ByteBuffer()
            encoder.encode(sequence.lists[step].map { HPACKHeader($0.0, $0.1) }, into: &block)
            #expect(hexString(block) == hexString(hexBuffer(hex)), "\(sequence.name) step \(step + 1)")
            #expect(encoder.dynamicTableSize == sequence.sizes[step], "\(sequence.name) step \(step + 1)")
        }
    }

    /// C.1: integer representation.
    @Test func integerExamples() throws {
        for (value, prefix, hex) in [(10, 5, "0a"), (1337, 5, "1f9a0a"), (42, 8, "2a")] {
            var buffer = ByteBuffer()
            HPACKInteger.encode(value, prefixBits: prefix, flags: 0, into: &buffer)
            #expect(hexString(buffer) == hex)
            #expect(try HPACKInteger.decode(prefixBits: prefix, from: &buffer) == value)
            #expect(buffer.readableBytes == 0)
        }
    }

    /// C.2: the four field representations.
    @Test func fieldRepresentationExamples() throws {
        var decoder = HPACKDecoder()
        let c21 = try decoder.decode(hexBuffer("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))
        #expect(c21 == [HPACKHeader("custom-key", "custom-header")])
        #expect(decoder.dynamicTableSize == 55)

        var fresh = HPACKDecoder()
        #expect(try fresh.decode(hexBuffer("040c 2f73 616d 706c 652f 7061 7468")) == [HPACKHeader(":path", "/sample/path", indexing: .nonIndexed)])
        #expect(fresh.dynamicTableCount == 0)
        #expect(try fresh.decode(hexBuffer("1008 7061 7373 776f 7264 0673 6563 7265 74")) == [HPACKHeader("password", "secret", indexing: .neverIndexed)])
        #expect(fresh.dynamicTableCount == 0)
        #expect(try fresh.decode(hexBuffer("82")) == [HPACKHeader(":method", "GET")])
    }

    /// C.2.2 and C.2.3 from the encoder's side.
    @Test func encoderWritesNonIndexedAndNeverIndexedLiterals() {
        var encoder = HPACKEncoder(huffman: .never)
        var block = ByteBuffer()
        encoder.encode([HPACKHeader(":path", "/sample/path", indexing: .nonIndexed)], into: &block)
        #expect(hexString(block) == "040c2f73616d706c652f70617468")
        block = ByteBuffer()
        encoder.encode([HPACKHeader("password", "secret", indexing: .neverIndexed)], into: &block)
        #expect(hexString(block) == "100870617373776f726406736563726574")
        #expect(encoder.dynamicTableCount == 0)
    }
}
