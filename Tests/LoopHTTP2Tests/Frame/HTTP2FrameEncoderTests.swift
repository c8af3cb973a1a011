import Testing
import Loop
@testable import LoopHTTP2

/// Frames serialised byte for byte (RFC 9113 §4.1, §6).
@Suite struct HTTP2FrameEncoderTests {
    private func bytes(_ write: (inout ByteBuffer) -> Void) -> [UInt8] {
        var buffer = ByteBuffer()
        write(&buffer)
        return Array(buffer.readableBytesView)
    }

    @Test func rfc9113Section4_1FrameHeaderLayout() {
        // 24-bit length, type, flags, reserved bit + 31-bit stream id.
        #expect(bytes { HTTP2FrameEncoder.writeRSTStream(streamID: 0x8000_0103, code: .cancel, into: &$0) }
                == [0, 0, 4, 0x3, 0, 0x00, 0x00, 0x01, 0x03, 0, 0, 0, 8])
        #expect(bytes { HTTP2FrameEncoder.writePing(0x1122_3344_5566_7788, ack: true, into: &$0) }
                == [0, 0, 8, 0x6, 0x1, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88])
        #expect(bytes { HTTP2FrameEncoder.writeSettingsAck(into: &$0) } == [0, 0, 0, 0x4, 0x1, 0, 0, 0, 0])
        #expect(bytes { HTTP2FrameEncoder.writeWindowUpdate(streamID: 1, increment: 0xFFFF_FFFF, into: &$0) }
                == [0, 0, 4, 0x8, 0, 0, 0, 0, 1, 0x7F, 0xFF, 0xFF, 0xFF])
    }

    @Test func rfc9113Section6_5SettingsPayloadIsIdentifierValuePairs() {
        let parameters = [HTTP2Setting(HTTP2Setting.enablePush, 0), HTTP2Setting(HTTP2Setting.initialWindowSize, 0x0102_0304)]
        #expect(bytes { HTTP2FrameEncoder.writeSettings(parameters, into: &$0) }
                == [0, 0, 12, 0x4, 0, 0, 0, 0, 0, 0, 0x2, 0, 0, 0, 0, 0, 0x4, 0x01, 0x02, 0x03, 0x04])
    }

    @Test func rfc9113Section6_1DataHeaderIsWrittenWithoutItsPayload() {
        #expect(bytes { HTTP2FrameEncoder.writeDataHeader(streamID: 5, length: 70_000, endStream: true, into: &$0) }
                == [0x01, 0x11, 0x70, 0x0, 0x1, 0, 0, 0, 5])
        #expect(bytes { HTTP2FrameEncoder.writeData(streamID: 5, payload: ByteBuffer(bytes: [9, 8]), endStream: false, into: &$0) }
                == [0, 0, 2, 0x0, 0x0, 0, 0, 0, 5, 9, 8])
    }

    @Test func rfc9113Section6_8GoAwayDebugDataIsCappedAt256Bytes() throws {
        let written = bytes { HTTP2FrameEncoder.writeGoAway(lastStreamID: 0xFFFF_FFFF, code: .protocolError, debugData: String(repeating: "x", count: 1000), into: &$0) }
        #expect(written.count == 9 + 8 + 256)
        #expect(Array(written[9..<17]) == [0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1])
    }

    @Test func rfc9113Section6_10LargeHeaderListIsSplitIntoContinuationFrames() throws {
        var encoder = HTTP2FrameEncoder(hpack: HPACKEncoder(huffman: .never))
        let headers = requestHead(extra: [("x-large", String(repeating: "v", count: 40_000))])
        var buffer = ByteBuffer()
        encoder.writeHeaders(streamID: 7, headers: headers, endStream: true, into: &buffer)
        // Walk the frame headers: HEADERS(END_STREAM) + CONTINUATION... (END_HEADERS on the last).
        var cursor = buffer
        var kinds: [(type: UInt8, flags: UInt8, length: Int)] = []
        while cursor.readableBytes > 0 {
            let length = Int(cursor.readInteger(as: UInt16.self)!) << 8 | Int(cursor.readInteger(as: UInt8.self)!)
            let type = cursor.readInteger(as: UInt8.self)!
            let flags = cursor.readInteger(as: UInt8.self)!
            #expect(cursor.readInteger(as: UInt32.self) == 7)
            cursor.moveReaderIndex(forwardBy: length)
            kinds.append((type, flags, length))
        }
        #expect(kinds.count == 3)
        #expect(kinds.map(\.type) == [HTTP2FrameType.headers, HTTP2FrameType.continuation, HTTP2FrameType.continuation])
        #expect(kinds.map(\.flags) == [HTTP2FrameFlags.endStream, 0, HTTP2FrameFlags.endHeaders])
        #expect(kinds.dropLast().allSatisfy { $0.length == 16_384 })
        // And it decodes back.
        var decoder = HTTP2FrameDecoder(role: .client)
        decoder.append(buffer)
        #expect(try decoder.nextFrame().map(FrameSummary.init) == .headers(7, fields(headers), endStream: true))
    }

    @Test func rfc9113Section4_2HeaderBlocksRespectThePeersLargerMaxFrameSize() throws {
        var encoder = HTTP2FrameEncoder(hpack: HPACKEncoder(huffman: .never))
        encoder.maxFrameSize = 50_000
        var buffer = ByteBuffer()
        encoder.writeHeaders(streamID: 1, headers: requestHead(extra: [("x-large", String(repeating: "v", count: 40_000))]), endStream: false, into: &buffer)
        // One HEADERS frame with END_HEADERS.
        #expect(buffer.getInteger(at: 3, as: UInt8.self) == HTTP2FrameType.headers)
        #expect(buffer.getInteger(at: 4, as: UInt8.self) == HTTP2FrameFlags.endHeaders)
        #expect(buffer.readableBytes == 9 + (Int(buffer.getInteger(at: 0, as: UInt16.self)!) << 8 | Int(buffer.getInteger(at: 2, as: UInt8.self)!)))
    }

    @Test func emptyHeaderListIsOneEmptyHeadersFrame() {
        var encoder = HTTP2FrameEncoder()
        var buffer = ByteBuffer()
        encoder.writeHeaders(streamID: 3, headers: [], endStream: true, into: &buffer)
        #expect(Array(buffer.readableBytesView) == [0, 0, 0, 0x1, HTTP2FrameFlags.endStream | HTTP2FrameFlags.endHeaders, 0, 0, 0, 3])
    }
}
