import Loop

/// Decodes a `application/grpc-web-text` request body, base64 (RFC 4648 §4) arriving in
/// chunks split anywhere, into the binary gRPC-Web body as it becomes decodable. I/O-free:
/// chunks in, bytes (or the status to end the call with) out.
///
/// The body need not be one base64 text: PROTOCOL-WEB.md lets each message be encoded, and
/// padded, on its own, so padding ends a 4-character group, not the body, and the next group
/// starts afresh. Between chunks at most 3 characters wait for the rest of their group; no
/// other state is kept. Characters outside the base64 alphabet (whitespace included: no
/// gRPC-Web client sends line breaks), `=` before a group's third character, a character
/// after `=` in its group, or a body that ends inside a group (padding is required, as Envoy
/// requires it) end the call with INTERNAL naming the character and its offset.
///
/// ```swift
/// var decoder = GRPCWebTextDecoder()
/// let bytes = try decoder.decode(ByteBuffer(string: "AAAAAAVoZWxs"))  // 9 bytes
/// let more = try decoder.decode(ByteBuffer(string: "bw=="))          // 1 byte
/// try decoder.finish()                                               // nothing pending
/// ```
public struct GRPCWebTextDecoder: Sendable {
    /// The sextets of the group being read, most significant first.
    private var accumulator: UInt32 = 0
    /// Characters of the group being read (0...3 between calls).
    private var groupLength = 0
    /// `=` characters among them.
    private var padding = 0
    /// Characters read so far, for error messages.
    private var offset = 0

    public init() {}

    /// Characters waiting for the rest of their 4-character group (at most 3).
    public var pendingCharacters: Int { groupLength }

    /// Decodes `chunk`: the bytes of every group it completes (empty while a group is still
    /// open).
    /// - Throws: `GRPCStatus(.internal)` naming the first character that is not valid base64
    ///   where it stands; the decoder must not be used after that.
    public mutating func decode(_ chunk: ByteBuffer) throws(GRPCStatus) -> ByteBuffer {
        let capacity = (groupLength + chunk.readableBytes) / 4 * 3
        var output = ByteBuffer(capacity: capacity)
        var failure: GRPCStatus?
        chunk.withUnsafeReadableBytes { input in
            _ = output.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { out in
                var written = 0
                for byte in input {
                    if let problem = consume(byte, into: out, at: &written) {
                        failure = problem
                        break
                    }
                }
                return written
            }
        }
        if let failure { throw failure }
        return output
    }

    /// Checks the end of the body.
    /// - Throws: `GRPCStatus(.internal)` when it ended inside a 4-character group.
    public func finish() throws(GRPCStatus) {
        guard groupLength == 0 else {
            throw GRPCStatus(.internal, "invalid grpc-web-text body: it ended with \(groupLength) base64 character\(groupLength == 1 ? "" : "s") "
                             + "short of a 4-character group (each group must be complete, padded with '=')")
        }
    }

    /// Takes one character; writes the group's bytes when it completes one.
    private mutating func consume(_ byte: UInt8, into out: UnsafeMutableRawBufferPointer, at written: inout Int) -> GRPCStatus? {
        defer { offset += 1 }
        if byte == UInt8(ascii: "=") {
            guard groupLength >= 2 else {
                return invalid(byte, "padding '=' can only end a 4-character group (its third or fourth character)")
            }
            padding += 1
        } else {
            let value = Self.sextets[Int(byte)]
            guard value != 0xFF else { return invalid(byte, "not a base64 character") }
            guard padding == 0 else { return invalid(byte, "a base64 character after '=' in the same 4-character group") }
            accumulator = accumulator << 6 | UInt32(value)
        }
        groupLength += 1
        guard groupLength == 4 else { return nil }
        // The group's 24 bits less 8 per '=', left-aligned after the sextets that were read.
        let bits = accumulator << (6 * UInt32(padding))
        out[written] = UInt8(truncatingIfNeeded: bits >> 16)
        if padding < 2 { out[written + 1] = UInt8(truncatingIfNeeded: bits >> 8) }
        if padding < 1 { out[written + 2] = UInt8(truncatingIfNeeded: bits) }
        written += 3 - padding
        accumulator = 0
        groupLength = 0
        padding = 0
        return nil
    }

    private func invalid(_ byte: UInt8, _ reason: String) -> GRPCStatus {
        let shown = byte >= 0x21 && byte <= 0x7E ? "'\(Character(Unicode.Scalar(byte)))' (0x\(Self.hex(byte)))" : "0x\(Self.hex(byte))"
        return GRPCStatus(.internal, "invalid grpc-web-text body: character \(shown) at offset \(offset): \(reason)")
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    /// Each byte's sextet in the standard alphabet, 0xFF for any other byte. (Metadata's
    /// `Base64` decodes whole values into arrays; a body streams from buffer to buffer.)
    private static let sextets: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in GRPCWebTextEncoder.alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()
}
