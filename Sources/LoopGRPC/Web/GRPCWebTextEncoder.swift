import Loop

/// Encodes an `application/grpc-web-text` response: each chunk written (a message frame or
/// the trailer frame) becomes base64 (RFC 4648 §4) on its own, padded with `=`.
///
/// Why padded per chunk: PROTOCOL-WEB.md has the server "base64-encode and flush gRPC messages
/// atomically", padding included, and clients decode what has arrived in 4-character groups.
/// grpc-web's JavaScript client decodes the longest received prefix whose length is a multiple
/// of 4 and keeps the rest, and its decoder (Closure's `goog.crypt.base64`) reads `=` group by
/// group, so padded chunks stay aligned to groups however the body is split; unpadded chunks
/// would misalign every chunk after the first whose length is not a multiple of 3. Envoy's
/// grpc_web filter also encodes each frame, and the trailer frame, padded on its own.
///
/// ```swift
/// let frame = try GRPCMessageFramer.frame(reply, serializer: serializer, compression: nil)
/// writer.write(GRPCWebTextEncoder.encode(frame))                          // a message
/// writer.write(GRPCWebTextEncoder.encode(GRPCWebTrailers.frame(for: .ok)))  // the end
/// ```
public enum GRPCWebTextEncoder {
    /// The standard alphabet (RFC 4648 §4, table 1).
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The base64 of `chunk`'s readable bytes, padded: 4 characters for every 3 bytes or part of 3.
    public static func encode(_ chunk: ByteBuffer) -> ByteBuffer {
        let length = encodedLength(chunk.readableBytes)
        var output = ByteBuffer(capacity: length)
        chunk.withUnsafeReadableBytes { input in
            _ = output.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
                alphabet.withUnsafeBufferPointer { table in
                    var read = 0
                    var written = 0
                    while read + 3 <= input.count {
                        let group = UInt32(input[read]) << 16 | UInt32(input[read + 1]) << 8 | UInt32(input[read + 2])
                        out[written] = table[Int(group >> 18 & 63)]
                        out[written + 1] = table[Int(group >> 12 & 63)]
                        out[written + 2] = table[Int(group >> 6 & 63)]
                        out[written + 3] = table[Int(group & 63)]
                        read += 3
                        written += 4
                    }
                    let rest = input.count - read
                    if rest > 0 {
                        var group = UInt32(input[read]) << 16
                        if rest == 2 { group |= UInt32(input[read + 1]) << 8 }
                        out[written] = table[Int(group >> 18 & 63)]
                        out[written + 1] = table[Int(group >> 12 & 63)]
                        out[written + 2] = rest == 2 ? table[Int(group >> 6 & 63)] : UInt8(ascii: "=")
                        out[written + 3] = UInt8(ascii: "=")
                        written += 4
                    }
                    return written
                }
            }
        }
        return output
    }

    /// The encoded length of `byteCount` bytes.
    public static func encodedLength(_ byteCount: Int) -> Int {
        (byteCount + 2) / 3 * 4
    }
}
