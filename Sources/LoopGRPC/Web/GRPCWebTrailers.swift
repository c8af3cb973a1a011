import Loop
import LoopHTTP2

/// The trailer frame that ends a gRPC-Web response body (PROTOCOL-WEB.md "Message framing"):
/// browsers cannot read HTTP trailers, so the status and trailing metadata travel as one last
/// length-prefixed frame whose flag byte has its most significant bit set (`0x80`; `0x81`
/// would be a compressed one, which this server never sends), a 4-byte big-endian length,
/// then the fields as an HTTP/1 header block without the terminating empty line: one
/// `name: value\r\n` line per field, names lower-case.
///
/// The fields are exactly those of HTTP/2 trailers, as `GRPCResponseHead` builds them:
/// `grpc-status`, `grpc-message` percent-encoded, the trailing metadata with `-bin` values in
/// base64, and INTERNAL in place of metadata that may not be sent. (PROTOCOL-WEB.md says the
/// extra base64 of `-bin` values "is skipped" in text mode, but Envoy's grpc_web filter, the
/// proxy grpc-web's own documentation deploys, copies the HTTP/2 trailers' values, base64
/// included, in both modes; and raw bytes could hold CR LF and break the block. So `-bin`
/// values are base64 in both modes.)
///
/// ```swift
/// var frame = GRPCWebTrailers.frame(for: GRPCStatus(.notFound, "no user 42"))
/// // 0x80 00 00 00 2A "grpc-status: 5\r\ngrpc-message: no user 42\r\n"
/// let status = try GRPCWebTrailers.status(parsing: &frame)  // GRPCStatus(.notFound, "no user 42")
/// ```
public enum GRPCWebTrailers {
    /// The flag byte of an uncompressed trailer frame.
    public static let flag: UInt8 = 0x80

    /// Whether a frame's flag byte marks trailers (`0x80`, or `0x81` compressed) rather than a
    /// message (`0x00`, `0x01`).
    public static func isTrailerFlag(_ flag: UInt8) -> Bool { flag & 0x80 != 0 }

    // MARK: Encoding (server)

    /// The trailer frame ending a call with `status`, with `metadata` merged with the status's
    /// own trailing metadata: the fields HTTP/2 trailers would carry.
    public static func frame(for status: GRPCStatus, adding metadata: GRPCMetadata = GRPCMetadata()) -> ByteBuffer {
        frame(fields: GRPCResponseHead.trailers(for: status, adding: metadata))
    }

    /// The trailer frame carrying `fields` (HTTP/2 trailers as a server call builds them).
    /// Names are written lower-case; the values must be valid field values (no CR or LF),
    /// which trailers built by LoopGRPC always are.
    public static func frame(fields: [HPACKHeader]) -> ByteBuffer {
        var length = 0
        for field in fields { length += field.name.utf8.count + field.value.utf8.count + 4 }
        var buffer = ByteBuffer(capacity: GRPCMessageFramer.prefixLength + length)
        buffer.writeInteger(flag)
        buffer.writeInteger(UInt32(length))
        for field in fields {
            buffer.writeString(GRPCMetadata.normalized(field.name))
            buffer.writeString(": ")
            buffer.writeString(field.value)
            buffer.writeString("\r\n")
        }
        return buffer
    }

    // MARK: Decoding (client, tests)

    /// Reads a trailer frame, its prefix included, from `buffer` and returns its fields (names
    /// lower-cased, values without surrounding spaces) in order. Lines end with CR LF (a
    /// final line without one is accepted), blank lines are skipped, and the colon may have
    /// no space after it (Envoy writes `name:value`).
    /// - Throws: `GRPCStatus(.internal)` when the buffer is not exactly one trailer frame:
    ///   a short prefix or body, a message or compressed flag, bytes after the frame, a line
    ///   without a colon or a field name that is not a token.
    public static func fields(parsing buffer: inout ByteBuffer) throws(GRPCStatus) -> [HPACKHeader] {
        guard let flagByte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self) else {
            throw GRPCStatus(.internal, "gRPC-Web trailer frame cut short: \(buffer.readableBytes) of its 5 prefix bytes")
        }
        guard flagByte != flag | 1 else {
            throw GRPCStatus(.internal, "compressed gRPC-Web trailer frame (flag 0x81) is not supported")
        }
        guard flagByte == flag else {
            throw GRPCStatus(.internal, "expected a gRPC-Web trailer frame (flag 0x80), got flag 0x\(flagByte < 0x10 ? "0" : "")\(String(flagByte, radix: 16, uppercase: true))")
        }
        let available = buffer.readableBytes - GRPCMessageFramer.prefixLength
        guard Int(length) <= available else {
            throw GRPCStatus(.internal, "gRPC-Web trailer frame cut short: \(available) of its \(length) bytes")
        }
        guard Int(length) == available else {
            throw GRPCStatus(.internal, "\(available - Int(length)) bytes after the gRPC-Web trailer frame (trailers must end the body)")
        }
        buffer.moveReaderIndex(forwardBy: GRPCMessageFramer.prefixLength)
        let block = buffer.readString(length: Int(length))!
        var fields: [HPACKHeader] = []
        for line in block.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else {
                throw GRPCStatus(.internal, "gRPC-Web trailer line without a colon: \"\(line)\"")
            }
            let name = line[..<colon]
            guard !name.isEmpty, name.utf8.allSatisfy(GRPCWebFieldSyntax.isTokenByte) else {
                throw GRPCStatus(.internal, "gRPC-Web trailer line with an invalid field name: \"\(line)\"")
            }
            let value = GRPCWebFieldSyntax.trimmed(line[line.index(after: colon)...])
            // Only CR LF pairs split lines (one Character in Swift): a lone CR or LF is left in the line.
            guard !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                throw GRPCStatus(.internal, "gRPC-Web trailer line with a bare CR or LF: \"\(line)\"")
            }
            fields.append(HPACKHeader(name.lowercased(), String(value)))
        }
        return fields
    }

    /// The final status a trailer frame carries: its grpc-status, grpc-message (decoded) and
    /// the trailing metadata; INTERNAL when it has no grpc-status.
    /// - Throws: as ``fields(parsing:)`` when the buffer is not one valid trailer frame.
    public static func status(parsing buffer: inout ByteBuffer) throws(GRPCStatus) -> GRPCStatus {
        GRPCResponseHead.status(parsingTrailers: try fields(parsing: &buffer))
    }
}
