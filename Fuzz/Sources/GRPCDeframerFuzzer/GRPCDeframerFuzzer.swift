import FuzzSupport
import Loop
import LoopGRPC

/// Fuzzes `GRPCMessageDeframer`: length-prefixed messages split anywhere, with a maximum
/// message size and any `grpc-encoding` (gzip and deflate run zlib on fuzzed bytes).
///
/// Input: a control byte (bits 0-1: no encoding, identity, gzip, deflate), a 16-bit maximum
/// message size, a chunk size (0: one chunk), then the DATA bytes.
///
/// Invariants: no crash; no message exceeds the maximum; the messages and the error are
/// the same whether the bytes arrive at once or in chunks; without compression the
/// prefixes and messages account for every byte consumed and a partial message is
/// reported exactly when bytes are left over.
enum GRPCDeframerFuzzer {
    static let encodings: [GRPCCompression?] = [nil, .identity, .gzip, .deflate]

    static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let compression = encodings[Int(input.byte() & 3)]
        let maxMessageSize = Int(input.uint16())
        let chunkSize = Int(input.byte())
        let bytes = input.buffer(count: input.remainingCount)

        let whole = deframe([bytes], maxMessageSize: maxMessageSize, compression: compression)
        var chunks: [ByteBuffer] = []
        var remaining = bytes
        while remaining.readableBytes > 0 {
            chunks.append(remaining.readSlice(length: min(max(chunkSize, 1), remaining.readableBytes))!)
        }
        let split = deframe(chunks, maxMessageSize: maxMessageSize, compression: compression)
        FuzzCheck.check(whole.messages == split.messages && whole.error == split.error,
                        "whole input gave \(whole.messages.count) messages and \(String(describing: whole.error)), chunks of \(chunkSize) gave \(split.messages.count) and \(String(describing: split.error))")

        if compression == nil, whole.error == nil {
            let consumed = whole.messages.reduce(0) { $0 + GRPCMessageFramer.prefixLength + $1.count }
            FuzzCheck.check(consumed <= bytes.readableBytes, "\(consumed) bytes of messages out of \(bytes.readableBytes)")
            FuzzCheck.check(whole.partial == (consumed < bytes.readableBytes),
                            "partial message \(whole.partial) with \(bytes.readableBytes - consumed) bytes left over")
        }
    }

    struct Outcome {
        var messages: [[UInt8]] = []
        var error: String?
        var partial = false
    }

    static func deframe(_ chunks: [ByteBuffer], maxMessageSize: Int, compression: GRPCCompression?) -> Outcome {
        var deframer = GRPCMessageDeframer(maxMessageSize: maxMessageSize, compression: compression)
        var outcome = Outcome()
        for chunk in chunks {
            deframer.append(chunk)
            do {
                while let message = try deframer.next() {
                    FuzzCheck.check(message.readableBytes <= maxMessageSize,
                                    "a message of \(message.readableBytes) bytes past the maximum of \(maxMessageSize)")
                    outcome.messages.append(Array(message.readableBytesView))
                }
            } catch {
                // The call ends with this status: nothing after it is read.
                outcome.error = "\(error.code) \(error.message)"
                return outcome
            }
        }
        outcome.partial = deframer.hasPartialMessage
        return outcome
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGRPCDeframer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    GRPCDeframerFuzzer.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
