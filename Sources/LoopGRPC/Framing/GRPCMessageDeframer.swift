import Loop

/// Reads length-prefixed messages out of DATA payloads, which may split or join them
/// anywhere. I/O-free: bytes in, messages (or the exact status to end the call with) out.
///
/// ```swift
/// var deframer = GRPCMessageDeframer(maxMessageSize: 4 << 20, compression: nil)
/// deframer.append(payload)
/// while let message = try deframer.next() { handle(message) }
/// ```
public struct GRPCMessageDeframer {
    /// The largest message accepted, after decompression.
    public var maxMessageSize: Int
    /// The peer's `grpc-encoding`; nil when it sent none (a compressed message is then an error).
    public var compression: GRPCCompression?
    /// Bytes of the message being received; nil between messages (no storage is kept, so
    /// a call that sees one whole message per DATA frame allocates nothing here).
    private var buffer: ByteBuffer?

    public init(maxMessageSize: Int, compression: GRPCCompression?) {
        self.maxMessageSize = maxMessageSize
        self.compression = compression
    }

    /// Whether bytes of an incomplete message are buffered (an error at end of stream).
    public var hasPartialMessage: Bool { (buffer?.readableBytes ?? 0) > 0 }

    /// Bytes of the incomplete message buffered (after `next()` returned nil: all of them
    /// belong to one message).
    public var bufferedBytes: Int { buffer?.readableBytes ?? 0 }

    /// The size on the wire (prefix included) of the message being received, once its
    /// prefix is in; nil before. Valid after `next()` returned nil (which checked the prefix).
    public var currentMessageBytes: Int? {
        guard let buffer, buffer.readableBytes >= GRPCMessageFramer.prefixLength else { return nil }
        return GRPCMessageFramer.prefixLength + Int(buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)!)
    }

    /// Makes room for the rest of the message being received at once, so its bytes are
    /// copied once instead of into ever doubling storage. Only for a message whose size is
    /// granted (`GRPCPartialMessageBudget`): the announced size is the peer's word, and
    /// storage for it must not precede the bytes unless it was accounted for.
    public mutating func reserveCapacityForCurrentMessage() {
        guard let total = currentMessageBytes, let buffer, buffer.readableBytes < total else { return }
        // Storage of exactly the message's size (growing in place would double it).
        var whole = ByteBuffer(capacity: total)
        whole.writeImmutableBuffer(buffer)
        self.buffer = whole
    }

    /// Drops the buffered bytes (the call ended: nothing will read them).
    public mutating func discardBuffered() {
        buffer = nil
    }

    public mutating func append(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        if buffer == nil || buffer!.readableBytes == 0 {
            buffer = bytes  // Share the payload's storage; messages become slices of it.
        } else {
            buffer!.writeImmutableBuffer(bytes)
        }
    }

    /// The next complete message, or nil until more bytes arrive.
    public mutating func next() throws(GRPCStatus) -> ByteBuffer? {
        guard var buffer, buffer.readableBytes >= GRPCMessageFramer.prefixLength else { return nil }
        let start = buffer.readerIndex
        let flag = buffer.getInteger(at: start, as: UInt8.self)!
        let length = Int(buffer.getInteger(at: start + 1, as: UInt32.self)!)
        guard flag <= 1 else {
            throw GRPCStatus(.internal, "invalid compressed flag \(flag) in a message prefix (only 0 and 1 are allowed)")
        }
        guard length <= maxMessageSize else {
            throw GRPCStatus(.resourceExhausted, "received message of \(length) bytes exceeds the limit of \(maxMessageSize) bytes")
        }
        guard buffer.readableBytes >= GRPCMessageFramer.prefixLength + length else { return nil }
        self.buffer = nil  // Keep the storage uniquely referenced by the local copy.
        buffer.moveReaderIndex(forwardBy: GRPCMessageFramer.prefixLength)
        let payload = buffer.readSlice(length: length)!
        if buffer.readableBytes > 0 { self.buffer = buffer }
        guard flag == 1 else { return payload }
        guard let compression, compression != .identity else {
            throw GRPCStatus(.internal, "received a compressed message but the stream declared no grpc-encoding")
        }
        do {
            return try Zlib.decompress(payload, compression, limit: maxMessageSize)
        } catch is Zlib.LimitExceeded {
            throw GRPCStatus(.resourceExhausted, "decompressed message exceeds the limit of \(maxMessageSize) bytes")
        } catch {
            throw GRPCStatus(.internal, "decompressing a \(compression.rawValue) message failed: \(error)")
        }
    }
}
