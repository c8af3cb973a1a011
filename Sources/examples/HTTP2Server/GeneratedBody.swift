import Loop
import LoopHTTP2

/// The body of GET /echo-size/N, made as the stream can take it: no more than `queueLimit`
/// bytes wait in the stream's queue, whatever N is and however slowly the client reads.
///
/// The stream's queue holds what flow control or a full socket keeps back: a client that
/// does not read keeps its window shut, and a socket that takes no more makes the connection
/// hold DATA back. Over the limit (or when the connection's queue is full, which
/// `isAboveWaterMark` also says) we stop and wait for `streamWritable`. Bytes the window lets
/// out at once leave the queue but reach the socket only when the connection flushes, at the
/// end of the loop turn: so we also stop after `queueLimit` bytes in one turn and go on in
/// the next, once the socket has said whether it takes more.
///
/// ```swift
/// var body = GeneratedBody(size: 100_000_000)
/// switch try body.produce(on: stream) {
/// case .finished: break                                                    // END_STREAM is queued
/// case .waitForWritable(let threshold): stream.notifyWhenBuffered(atMost: threshold)
/// case .nextTurn: loop.executeSoon { /* produce again */ }
/// }
/// ```
struct GeneratedBody {
    /// Bytes still to queue.
    private(set) var remaining: Int

    /// One DATA frame's worth (the default SETTINGS_MAX_FRAME_SIZE).
    static let chunkSize = 16 * 1024
    /// The most this body queues on its stream, and the most it makes in one loop turn.
    static let queueLimit = 64 * 1024
    /// Every chunk is a slice of this one buffer: nothing is allocated or filled per chunk.
    private static let chunk: ByteBuffer = {
        var buffer = ByteBuffer(capacity: chunkSize)
        buffer.writeRepeatingByte(UInt8(ascii: "x"), count: chunkSize)
        return buffer
    }()

    /// What to do after `produce`.
    enum Next {
        /// The whole body is queued, with END_STREAM.
        case finished
        /// The queue is full: ask for `streamWritable` at this threshold (once the body is
        /// stored: the event may come at once) and call `produce` then.
        case waitForWritable(threshold: Int)
        /// This turn's share is made: call `produce` again on a later loop turn.
        case nextTurn
    }

    init(size: Int) {
        remaining = size
    }

    /// Queues chunks while the stream's queue and this turn's share have room.
    mutating func produce(on stream: HTTP2StreamHandle) throws(HTTP2StreamError) -> Next {
        var madeThisTurn = 0
        while remaining > 0 {
            let count = min(remaining, GeneratedBody.chunkSize)
            if stream.isAboveWaterMark(GeneratedBody.queueLimit - count) {
                return .waitForWritable(threshold: GeneratedBody.queueLimit / 2)
            }
            if madeThisTurn + count > GeneratedBody.queueLimit { return .nextTurn }
            remaining -= count
            madeThisTurn += count
            let slice = GeneratedBody.chunk.getSlice(at: GeneratedBody.chunk.readerIndex, length: count)!
            try stream.sendData(slice, endStream: remaining == 0)
        }
        return .finished
    }
}
