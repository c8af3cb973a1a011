import Loop
import Testing
@testable import LoopHTTP2

/// The one-port detector decides from the first bytes, on at most the 24 of the HTTP/2 preface.
@Suite struct HTTPProtocolDetectorTests {
    private func detect(_ bytes: [UInt8]) -> HTTPProtocolDetector.Verdict {
        HTTPProtocolDetector.detect(ByteBuffer(bytes: bytes))
    }

    @Test func rfc9113Section3_4TheWholePrefaceIsHTTP2AndAnyPrefixOfItWaits() {
        #expect(detect(http2ClientPreface) == .http2)
        #expect(detect(http2ClientPreface + [0, 0, 0, 4]) == .http2)
        for length in 1..<http2ClientPreface.count {
            #expect(detect(Array(http2ClientPreface.prefix(length))) == .needMoreBytes, "\(length) bytes")
        }
        #expect(HTTPProtocolDetector.maxBytesNeeded == 24)
    }

    @Test func rfc9112Section3ARequestLineIsHTTP1FromItsFirstByte() {
        for method in ["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "CONNECT", "TRACE"] {
            #expect(detect(Array(method.utf8)) == .http1, "\(method)")
            #expect(detect(Array("\(method) / HTTP/1.1\r\n".utf8)) == .http1)
        }
        // "P" could start the preface: "POST" and "PUT" differ from it by their second byte.
        #expect(detect(Array("P".utf8)) == .needMoreBytes)
        #expect(detect(Array("PO".utf8)) == .http1)
        // A request line of method PRI that is not the preface is HTTP/1.1's to refuse.
        #expect(detect(Array("PRI / HTTP/1.1\r\n".utf8)) == .http1)
    }

    @Test func rfc8446Section5_1AHandshakeRecordIsTLS() {
        #expect(detect([0x16]) == .tls)
        #expect(detect([0x16, 0x03, 0x01, 0x02, 0x00]) == .tls)
    }

    @Test func anythingElseIsUnknownAndNothingWaits() {
        #expect(detect([]) == .needMoreBytes)
        #expect(detect([0x00, 0x01]) == .unknown)
        #expect(detect(Array("get / HTTP/1.1".utf8)) == .unknown)
        #expect(detect([0xFF]) == .unknown)
        #expect(detect(Array("\r\nGET".utf8)) == .unknown)
    }
}
