import Testing
import Loop
@testable import LoopHTTP2

/// Malformed blocks each give their exact error (RFC 7541; COMPRESSION_ERROR, RFC 9113 §4.3).
@Suite struct HPACKDecoderErrorTests {
    @Test func indexZeroIsInvalid() {
        var decoder = HPACKDecoder()
        #expect(throws: HPACKError.invalidIndex(0)) { try decoder.decode(hexBuffer("80")) }
    }

    @Test func indexPastTheTablesIsInvalid() {
        var decoder = HPACKDecoder()
        // 62 with an empty dynamic table (RFC 7541 §2.3.3).
        #expect(throws: HPACKError.invalidIndex(62)) { try decoder.decode(hexBuffer("be")) }
        // A literal whose name index is past the tables.
        #expect(throws: HPACKError.invalidIndex(70)) { try decoder.decode(hexBuffer("7f07 0161")) }
    }

    @Test func integerOverflowIsRejected() {
        var decoder = HPACKDecoder()
        #expect(throws: HPACKError.integerOverflow) { try decoder.decode(hexBuffer("ff ffff ffff ffff ff7f")) }
    }

    @Test func truncatedBlocksAreRejected() {
        var decoder = HPACKDecoder()
        #expect(throws: HPACKError.truncated) { try decoder.decode(hexBuffer("ff")) }           // integer cut
        #expect(throws: HPACKError.truncated) { try decoder.decode(hexBuffer("400a 6375")) }    // string cut
        #expect(throws: HPACKError.truncated) { try decoder.decode(hexBuffer("4001 61")) }      // value missing
    }

    @Test func huffmanEOSInStringIsRejected() {
        var decoder = HPACKDecoder()
        // Value: Huffman, 4 bytes of ones = the 30-bit EOS code plus padding (RFC 7541 §5.2).
        #expect(throws: HPACKError.huffmanEOS) { try decoder.decode(hexBuffer("0001 6184 ffff ffff")) }
    }

    @Test func huffmanPaddingLongerThanSevenBitsIsRejected() {
        var decoder = HPACKDecoder()
        // "0" is 00000 (5 bits); then a whole byte of ones: 11 bits of padding.
        #expect(throws: HPACKError.invalidHuffmanPadding) { try decoder.decode(hexBuffer("0001 6182 07ff")) }
    }

    @Test func huffmanPaddingThatIsNotAllOnesIsRejected() {
        var decoder = HPACKDecoder()
        // "0" (00000) followed by padding 010 instead of 111.
        #expect(throws: HPACKError.invalidHuffmanPadding) { try decoder.decode(hexBuffer("0001 6181 02")) }
    }

    @Test func tableSizeUpdateAfterAFieldIsRejected() {
        var decoder = HPACKDecoder()
        #expect(throws: HPACKError.tableSizeUpdateNotAtStart) { try decoder.decode(hexBuffer("82 3f e1 1f")) }
    }

    @Test func tableSizeUpdateAboveTheAnnouncedLimitIsRejected() {
        var decoder = HPACKDecoder(maximumTableSize: 4096)
        // 4097 = 31 + 4066 → 3f e3 1f.
        #expect(throws: HPACKError.tableSizeUpdateTooLarge(requested: 4097, maximum: 4096)) {
            try decoder.decode(hexBuffer("3f e2 1f"))
        }
    }

    @Test func tableSizeUpdateAtStartEvicts() throws {
        var decoder = HPACKDecoder()
        _ = try decoder.decode(hexBuffer("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))
        #expect(decoder.dynamicTableCount == 1)
        // Size update to 0 then an indexed static field.
        #expect(try decoder.decode(hexBuffer("20 82")) == [HPACKHeader(":method", "GET")])
        #expect(decoder.dynamicTableCount == 0)
        #expect(decoder.dynamicTableMaximumSize == 0)
    }

    @Test func headerListTooLargeIsReportedAfterTheWholeBlockWasDecoded() throws {
        var decoder = HPACKDecoder(maximumHeaderListSize: 60)
        // Two indexed-name literals that are inserted into the dynamic table: 55 + 55 > 60.
        let field = "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"
        #expect(throws: HPACKError.headerListTooLarge(maximum: 60)) { try decoder.decode(hexBuffer(field + field)) }
        // The table still took both insertions, staying in step with the encoder.
        #expect(decoder.dynamicTableCount == 2)
    }

    @Test func stringLongerThanTheLimitIsRejectedBeforeAllocation() {
        var decoder = HPACKDecoder(maximumHeaderListSize: 100)
        // A literal name claiming 1000 bytes.
        #expect(throws: HPACKError.stringTooLong(length: 1000, maximum: 100)) { try decoder.decode(hexBuffer("00 7f e9 06")) }
    }
}
