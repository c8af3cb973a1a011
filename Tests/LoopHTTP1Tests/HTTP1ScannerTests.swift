import Testing
@testable import LoopHTTP1

/// HTTP1Scanner's character classes against the grammar they implement.
@Suite struct HTTP1ScannerTests {
    @Test func rfc9110Section5_6_2TokenCharactersAreExactlyTchar() {
        // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
        let punctuation = Set("!#$%&'*+-.^_`|~".utf8)
        for value in 0...255 {
            let byte = UInt8(value)
            let isAlpha = (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            let isDigit = (0x30...0x39).contains(byte)
            let expected = isAlpha || isDigit || punctuation.contains(byte)
            #expect(HTTP1Scanner.isTokenCharacter(byte) == expected, "byte \(value)")
        }
    }

    @Test func rfc9110Section5_5FieldValueBytesAreHtabSpVcharAndObsText() {
        for value in 0...255 {
            let byte = UInt8(value)
            let expected = byte == 0x09 || byte == 0x20 || (0x21...0x7E).contains(byte) || byte >= 0x80
            #expect(HTTP1Scanner.isFieldValueByte(byte) == expected, "byte \(value)")
        }
    }
}
