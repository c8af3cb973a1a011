import Loop

/// The pieces of HTTP/1.1's wire form both encoders write (RFC 9112 §5, §7.1): field lines,
/// chunks and the last chunk, decimal numbers.
extension ByteBuffer {
    /// Writes `value` in decimal digits: status codes and Content-Length values, with no String
    /// made on the way for the usual, non-negative ones.
    mutating func writeDecimal(_ value: Int) {
        guard value >= 0 else {
            writeString(String(value))
            return
        }
        var digits = 1
        var rest = value / 10
        while rest > 0 { digits += 1; rest /= 10 }
        _ = writeWithUnsafeMutableBytes(minimumWritableBytes: digits) { buffer in
            var remaining = value
            for index in stride(from: digits - 1, through: 0, by: -1) {
                buffer[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
            }
            return digits
        }
    }

    /// `name: value` CRLF for each field (RFC 9112 §5).
    mutating func writeFieldLines(_ fields: HTTP1Fields) {
        for field in fields {
            writeString(field.name)
            writeString(": ")
            writeString(field.value)
            writeString("\r\n")
        }
    }

    /// One chunk of a chunked body: its size in hex, CRLF, the bytes, CRLF (RFC 9112 §7.1).
    mutating func writeChunk(_ bytes: ByteBuffer) {
        writeString(String(bytes.readableBytes, radix: 16))
        writeString("\r\n")
        writeImmutableBuffer(bytes)
        writeString("\r\n")
    }

    /// The last chunk, the trailer section and the empty line that end a chunked body (RFC 9112 §7.1.2).
    mutating func writeLastChunk(trailers: HTTP1Fields) {
        writeString("0\r\n")
        writeFieldLines(trailers)
        writeString("\r\n")
    }
}
