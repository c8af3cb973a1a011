import FuzzSupport
import Loop
import LoopHTTP2

/// Fuzzes `HTTP2FrameDecoder` (RFC 9113 §4, §6): arbitrary bytes as either role.
///
/// Input: a control byte (bit 0: client role, else server; bit 1: do not prepend the client
/// preface a server expects, so the preface check is fuzzed too; bit 2: announce
/// SETTINGS_MAX_FRAME_SIZE 2^24-1 instead of 16,384), a chunk size, then the bytes.
///
/// Invariants: no crash; every frame keeps the rules the decoder promises (sizes, stream 0);
/// the same bytes give the same frames and the same error whether they arrive at once or in
/// chunks; after a stream error the decoder goes on (the connection does), after a
/// connection error the run ends.
enum FrameDecoderFuzzer {
    static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let control = input.byte()
        let chunkSize = Int(input.byte())
        let role: HTTP2FrameDecoder.Role = control & 1 != 0 ? .client : .server
        let maxFrameSize: UInt32 = control & 4 != 0 ? (1 << 24) - 1 : 16_384
        var bytes = ByteBuffer()
        if role == .server && control & 2 == 0 { bytes.writeString("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") }
        var rest = input.buffer(count: input.remainingCount)
        bytes.writeBuffer(&rest)

        let whole = decode([bytes], role: role, maxFrameSize: maxFrameSize)
        var chunks: [ByteBuffer] = []
        var remaining = bytes
        while remaining.readableBytes > 0 {
            chunks.append(remaining.readSlice(length: min(max(chunkSize, 1), remaining.readableBytes))!)
        }
        let split = decode(chunks, role: role, maxFrameSize: maxFrameSize)
        FuzzCheck.check(whole == split, "whole input gave \(whole), chunks of \(chunkSize) gave \(split)")
    }

    /// Decodes `chunks` in order; returns each frame's description and each error, in order.
    static func decode(_ chunks: [ByteBuffer], role: HTTP2FrameDecoder.Role, maxFrameSize: UInt32) -> [String] {
        var decoder = HTTP2FrameDecoder(role: role)
        decoder.maxFrameSize = maxFrameSize
        var log: [String] = []
        for chunk in chunks {
            decoder.append(chunk)
            while true {
                do {
                    guard let frame = try decoder.nextFrame() else { break }
                    check(frame, maxFrameSize: maxFrameSize)
                    log.append(frame.description)
                } catch {
                    log.append("error \(error.code) stream \(error.streamID.map(String.init) ?? "-"): \(error.reason)")
                    // A connection error ends the connection: nothing after it is read.
                    if error.streamID == nil { return log }
                }
            }
        }
        return log
    }

    static func check(_ frame: HTTP2Frame, maxFrameSize: UInt32) {
        FuzzCheck.check(frame.streamID <= 0x7FFF_FFFF, "stream id \(frame.streamID) has the reserved bit")
        switch frame.payload {
        case .data(let payload, _, let length):
            FuzzCheck.check(frame.streamID != 0, "DATA on stream 0 was accepted")
            FuzzCheck.check(payload.readableBytes <= length && length <= Int(maxFrameSize),
                            "DATA of \(payload.readableBytes) bytes, \(length) flow-controlled, max frame \(maxFrameSize)")
        case .headers, .oversizedHeaders, .rstStream, .priority:
            FuzzCheck.check(frame.streamID != 0, "\(frame) on stream 0 was accepted")
        case .settings, .settingsAck, .ping, .goAway:
            FuzzCheck.check(frame.streamID == 0, "\(frame) on stream \(frame.streamID) was accepted")
        case .windowUpdate(let increment):
            FuzzCheck.check(increment > 0 && increment <= 0x7FFF_FFFF, "WINDOW_UPDATE increment \(increment) was accepted")
        case .pushPromise(let promised, _):
            FuzzCheck.check(frame.streamID != 0 && promised != 0, "PUSH_PROMISE \(frame) was accepted")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FrameDecoderFuzzer.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
