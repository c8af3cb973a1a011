import CZlib
import Loop

/// One-shot gzip and deflate (zlib format, RFC 1950, as grpc-go and grpcio send "deflate")
/// over the system's zlib.
enum Zlib {
    struct Error: Swift.Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Thrown when the decompressed message would exceed the limit.
    struct LimitExceeded: Swift.Error {}

    private static func windowBits(_ compression: GRPCCompression) -> Int32 {
        compression == .gzip ? 15 + 16 : 15
    }

    static func compress(_ input: ByteBuffer, _ compression: GRPCCompression) throws -> ByteBuffer {
        var stream = z_stream()
        guard czlib_deflate_init(&stream, Z_DEFAULT_COMPRESSION, windowBits(compression)) == Z_OK else {
            throw Error(message: "zlib: deflateInit2 failed")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(input.readableBytes)))
        var output = ByteBuffer(capacity: bound + 16)
        let status = input.withUnsafeReadableBytes { source -> Int32 in
            stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(source.count)
            var result: Int32 = Z_OK
            _ = output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound + 16) { target in
                stream.next_out = target.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(target.count)
                result = deflate(&stream, Z_FINISH)
                return target.count - Int(stream.avail_out)
            }
            return result
        }
        guard status == Z_STREAM_END else { throw Error(message: "zlib: deflate failed (\(status))") }
        return output
    }

    /// Decompresses `input`; throws `LimitExceeded` past `limit` bytes of output.
    static func decompress(_ input: ByteBuffer, _ compression: GRPCCompression, limit: Int) throws -> ByteBuffer {
        var stream = z_stream()
        guard czlib_inflate_init(&stream, windowBits(compression)) == Z_OK else {
            throw Error(message: "zlib: inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var output = ByteBuffer(capacity: min(max(input.readableBytes * 4, 256), limit + 1))
        var status: Int32 = Z_OK
        try input.withUnsafeReadableBytes { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(source.count)
            while status != Z_STREAM_END {
                if output.writableBytes == 0 {
                    // Double, but never past one byte over the limit (enough to detect it).
                    output.reserveCapacity(minimumWritableBytes: max(1, min(output.capacity, limit + 1 - output.readableBytes)))
                }
                _ = output.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { target in
                    stream.next_out = target.bindMemory(to: Bytef.self).baseAddress
                    stream.avail_out = uInt(target.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return target.count - Int(stream.avail_out)
                }
                if output.readableBytes > limit { throw LimitExceeded() }
                if status == Z_BUF_ERROR && stream.avail_in == 0 { throw Error(message: "zlib: truncated \(compression.rawValue) data") }
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    throw Error(message: "zlib: corrupt \(compression.rawValue) data (\(status))")
                }
            }
        }
        return output
    }
}
