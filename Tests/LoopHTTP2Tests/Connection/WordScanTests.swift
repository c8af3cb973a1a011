import Testing
@testable import LoopHTTP2

/// The word-at-a-time header scans (`WordScan`) only decide whether the exact byte-by-byte
/// check runs: they must never miss a bad byte (RFC 9113 §8.2.1), and clean names and values
/// must pass without it.
@Suite struct WordScanTests {
    static let edges: [UInt8] = [0x00, 0x01, 0x09, 0x0A, 0x0C, 0x0D, 0x0E, 0x1F, 0x20, 0x21, 0x2D, 0x39, 0x3A, 0x3B, 0x40,
                                 0x41, 0x4D, 0x5A, 0x5B, 0x60, 0x61, 0x7A, 0x7E, 0x7F, 0x80, 0xC3, 0xFE, 0xFF]

    static func nameByteIsBad(_ byte: UInt8) -> Bool {
        byte < 0x21 || byte > 0x7E || byte == UInt8(ascii: ":") || (byte >= 0x41 && byte <= 0x5A)
    }

    static func scan<R>(_ bytes: [UInt8], _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        bytes.withUnsafeBufferPointer(body)
    }

    @Test func neverMissesABadByte() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<200_000 {
            let count = Int.random(in: 0...40, using: &generator)
            var bytes = (0..<count).map { _ in UInt8(ascii: "a") &+ UInt8.random(in: 0..<26, using: &generator) }
            // A few bytes from the edges of every class, anywhere.
            for _ in 0..<Int.random(in: 0...3, using: &generator) where count > 0 {
                bytes[Int.random(in: 0..<count, using: &generator)] = Self.edges.randomElement(using: &generator)!
            }
            let start = round % 2
            let nameBad = bytes.count > start && bytes[start...].contains(where: Self.nameByteIsBad)
            let valueBad = bytes.contains { $0 < 0x0E }
            let nameScan = Self.scan(bytes) { WordScan.mayHoldNameFault($0, from: min(start, $0.count)) }
            let valueScan = Self.scan(bytes) { WordScan.mayHoldControlByte($0) }
            if nameBad && !nameScan { Issue.record("name scan missed a bad byte in \(bytes) from \(start)"); return }
            if valueBad && !valueScan { Issue.record("value scan missed a control byte in \(bytes)"); return }
        }
    }

    @Test func everySingleBadByteAtEveryPositionIsFound() {
        for count in 1...24 {
            for position in 0..<count {
                for byte in 0...255 {
                    var bytes = [UInt8](repeating: UInt8(ascii: "x"), count: count)
                    bytes[position] = UInt8(byte)
                    let nameScan = Self.scan(bytes) { WordScan.mayHoldNameFault($0, from: 0) }
                    #expect(nameScan == Self.nameByteIsBad(UInt8(byte)), "byte \(byte) at \(position) of \(count)")
                    let valueScan = Self.scan(bytes) { WordScan.mayHoldControlByte($0) }
                    #expect(valueScan == (byte < 0x0E), "byte \(byte) at \(position) of \(count)")
                }
            }
        }
    }

    @Test func cleanNamesAndValuesTakeTheFastPath() {
        for name in ["user-agent", "accept-encoding", "content-type", "x-grpc-test-echo-initial", "grpc-accept-encoding",
                     ":authority", ":path", "te", "x-request-id"] {
            let bytes = Array(name.utf8)
            #expect(!Self.scan(bytes) { WordScan.mayHoldNameFault($0, from: bytes.first == UInt8(ascii: ":") ? 1 : 0) }, "\(name)")
        }
        for value in ["h2load nghttp2/1.52.0", "application/grpc+proto", "gzip, deflate", "/grpc.testing.TestService/UnaryCall",
                      "127.0.0.1:8080", "Mozilla/5.0 (X11; Linux x86_64)"] {
            #expect(!Self.scan(Array(value.utf8)) { WordScan.mayHoldControlByte($0) }, "\(value)")
        }
    }
}
