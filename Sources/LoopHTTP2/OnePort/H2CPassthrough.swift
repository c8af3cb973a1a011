import Loop

/// After an h2c upgrade: checks and skips the client's preface (the HTTP/2 side already got
/// one), and drops the one SETTINGS ACK the HTTP/2 side sends for the settings of the
/// `HTTP2-Settings` field (the 101 acknowledged them); everything else passes unchanged.
struct H2CPassthrough {
    private var prefaceMatched = 0
    private var ackDropped = false
    /// Bytes of the current outbound frame still to pass.
    private var frameRemaining = 0
    private var header: [UInt8] = []

    /// Strips the preface's bytes from `bytes`; false if the client sent something else.
    mutating func inbound(_ bytes: inout ByteBuffer) -> Bool {
        while prefaceMatched < http2ClientPreface.count, let byte = bytes.readInteger(as: UInt8.self) {
            guard byte == http2ClientPreface[prefaceMatched] else { return false }
            prefaceMatched += 1
        }
        return true
    }

    mutating func outbound(_ bytes: ByteBuffer, into out: inout ByteBuffer) {
        guard !ackDropped else {
            out.writeImmutableBuffer(bytes)
            return
        }
        var bytes = bytes
        while bytes.readableBytes > 0, !ackDropped {
            if frameRemaining > 0 {
                let take = min(frameRemaining, bytes.readableBytes)
                out.writeImmutableBuffer(bytes.readSlice(length: take)!)
                frameRemaining -= take
                continue
            }
            while header.count < 9, let byte = bytes.readInteger(as: UInt8.self) { header.append(byte) }
            guard header.count == 9 else { return }
            let length = Int(header[0]) << 16 | Int(header[1]) << 8 | Int(header[2])
            let isSettingsAck = header[3] == 0x4 && header[4] & 0x1 != 0 && length == 0
                && header[5] == 0 && header[6] == 0 && header[7] == 0 && header[8] == 0
            if isSettingsAck {
                ackDropped = true
            } else {
                out.writeBytes(header)
                frameRemaining = length
            }
            header.removeAll(keepingCapacity: true)
        }
        if bytes.readableBytes > 0 { out.writeImmutableBuffer(bytes) }
    }
}
