import Loop

/// Writes length-prefixed messages: a compressed flag byte, a 4-byte big-endian length,
/// the message (PROTOCOL-HTTP2.md, "Length-Prefixed-Message").
public enum GRPCMessageFramer {
    /// The prefix length.
    public static let prefixLength = 5

    /// Frames `message`, compressed with `compression` unless it is nil or identity.
    /// - Throws: `GRPCStatus(.resourceExhausted)` when the message exceeds `maxMessageSize`;
    ///   `.internal` when the serializer or the compressor fails.
    public static func frame<S: GRPCSerializer>(
        _ message: S.Message, serializer: S, compression: GRPCCompression?, maxMessageSize: Int = .max
    ) throws(GRPCStatus) -> ByteBuffer {
        var buffer: ByteBuffer
        do {
            buffer = try serializer.serializeWithPrefix(message, prefixLength: prefixLength)
        } catch {
            throw GRPCStatus(.internal, "serializing the message failed: \(error)")
        }
        var length = buffer.readableBytes - prefixLength
        guard length <= maxMessageSize else {
            throw GRPCStatus(.resourceExhausted, "message of \(length) bytes exceeds the send limit of \(maxMessageSize) bytes")
        }
        if let compression, compression != .identity {
            let plain = buffer.getSlice(at: buffer.readerIndex + prefixLength, length: length)!
            let compressed: ByteBuffer
            do {
                compressed = try Zlib.compress(plain, compression)
            } catch {
                throw GRPCStatus(.internal, "\(compression.rawValue) compression failed: \(error)")
            }
            buffer.clear()
            buffer.writeInteger(UInt8(1))
            buffer.writeInteger(UInt32(compressed.readableBytes))
            buffer.writeImmutableBuffer(compressed)
            length = compressed.readableBytes
            return buffer
        }
        buffer.setInteger(UInt32(length), at: buffer.readerIndex + 1)
        return buffer
    }
}
