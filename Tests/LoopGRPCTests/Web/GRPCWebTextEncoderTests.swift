import Foundation
import Testing
import Loop
@testable import LoopGRPC

/// PROTOCOL-WEB.md "Text-encoded (response) streams": the server base64-encodes each frame
/// atomically, padded, so clients decoding 4-character groups stay aligned.
@Suite struct GRPCWebTextEncoderTests {
    private func text(_ bytes: [UInt8]) -> String {
        String(decoding: GRPCWebTextEncoder.encode(ByteBuffer(bytes: bytes)).readableBytesView, as: UTF8.self)
    }

    /// RFC 4648 §10's test vectors.
    @Test func rfc4648Section10TestVectors() {
        #expect(text([]) == "")
        #expect(text(Array("f".utf8)) == "Zg==")
        #expect(text(Array("fo".utf8)) == "Zm8=")
        #expect(text(Array("foo".utf8)) == "Zm9v")
        #expect(text(Array("foob".utf8)) == "Zm9vYg==")
        #expect(text(Array("fooba".utf8)) == "Zm9vYmE=")
        #expect(text(Array("foobar".utf8)) == "Zm9vYmFy")
    }

    /// Frames as the server sends them: a message frame and the trailer frame, each padded on
    /// its own, each a whole number of 4-character groups.
    @Test func protocolWebEachFramePadded() {
        let message = GRPCWebTextEncoder.encode(ByteBuffer(bytes: [0, 0, 0, 0, 2, 0x68, 0x69]))
        #expect(String(decoding: message.readableBytesView, as: UTF8.self) == "AAAAAAJoaQ==")
        let trailers = GRPCWebTextEncoder.encode(GRPCWebTrailers.frame(for: .ok))
        #expect(String(decoding: trailers.readableBytesView, as: UTF8.self) == "gAAAABBncnBjLXN0YXR1czogMA0K")
        for length in 0...40 {
            #expect(GRPCWebTextEncoder.encode(ByteBuffer(bytes: [UInt8](repeating: 7, count: length))).readableBytes % 4 == 0)
            #expect(GRPCWebTextEncoder.encodedLength(length) == (length + 2) / 3 * 4)
        }
    }

    /// The same text as Foundation's encoder, and the decoder gives the bytes back, for every
    /// length around the padding cases and a large frame.
    @Test func agreesWithFoundationAndRoundTrips() throws {
        var generator = SystemRandomNumberGenerator()
        for length in Array(0...70) + [65_537] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = text(bytes)
            #expect(encoded == Data(bytes).base64EncodedString())
            var decoder = GRPCWebTextDecoder()
            #expect(Array(try decoder.decode(ByteBuffer(string: encoded)).readableBytesView) == bytes)
            try decoder.finish()
        }
    }
}
