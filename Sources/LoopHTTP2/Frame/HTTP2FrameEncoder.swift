import Loop

/// Serialises frames (RFC 9113 §4, §6). Header lists are HPACK-encoded and split into
/// HEADERS + CONTINUATION to respect the peer's SETTINGS_MAX_FRAME_SIZE; DATA payloads are
/// not copied: only their 9-byte frame header is written, the payload buffer follows it.
public struct HTTP2FrameEncoder: Sendable {
    /// The HPACK encoder for our header blocks.
    public var hpack: HPACKEncoder
    /// The peer's SETTINGS_MAX_FRAME_SIZE.
    public var maxFrameSize: Int = 16_384
    private var scratch = ByteBuffer(capacity: 1024)

    public init(hpack: HPACKEncoder = HPACKEncoder()) {
        self.hpack = hpack
    }

    static func writeFrameHeader(length: Int, type: UInt8, flags: UInt8, streamID: UInt32, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(truncatingIfNeeded: length >> 8))
        buffer.writeInteger(UInt8(truncatingIfNeeded: length))
        buffer.writeInteger(type)
        buffer.writeInteger(flags)
        buffer.writeInteger(streamID & 0x7FFF_FFFF)
    }

    /// Writes HEADERS (+ CONTINUATION) for `headers`.
    public mutating func writeHeaders(streamID: UInt32, headers: [HPACKHeader], endStream: Bool, into buffer: inout ByteBuffer) {
        scratch.clear()
        hpack.encode(headers, into: &scratch)
        var block = scratch
        var type = HTTP2FrameType.headers
        var flags: UInt8 = endStream ? HTTP2FrameFlags.endStream : 0
        repeat {
            let length = min(block.readableBytes, maxFrameSize)
            let last = length == block.readableBytes
            if last { flags |= HTTP2FrameFlags.endHeaders }
            Self.writeFrameHeader(length: length, type: type, flags: flags, streamID: streamID, into: &buffer)
            var fragment = block.readSlice(length: length)!
            buffer.writeBuffer(&fragment)
            type = HTTP2FrameType.continuation
            flags = 0
        } while block.readableBytes > 0
    }

    /// Writes the frame header of a DATA frame of `length` bytes; the caller sends the
    /// payload right after it.
    public static func writeDataHeader(streamID: UInt32, length: Int, endStream: Bool, into buffer: inout ByteBuffer) {
        writeFrameHeader(length: length, type: HTTP2FrameType.data, flags: endStream ? HTTP2FrameFlags.endStream : 0,
                         streamID: streamID, into: &buffer)
    }

    /// Writes a whole DATA frame, copying `payload` (for small payloads and tests).
    public static func writeData(streamID: UInt32, payload: ByteBuffer, endStream: Bool, into buffer: inout ByteBuffer) {
        writeDataHeader(streamID: streamID, length: payload.readableBytes, endStream: endStream, into: &buffer)
        buffer.writeImmutableBuffer(payload)
    }

    public static func writeSettings(_ parameters: [HTTP2Setting], into buffer: inout ByteBuffer) {
        writeFrameHeader(length: parameters.count * 6, type: HTTP2FrameType.settings, flags: 0, streamID: 0, into: &buffer)
        for parameter in parameters {
            buffer.writeInteger(parameter.identifier)
            buffer.writeInteger(parameter.value)
        }
    }

    public static func writeSettingsAck(into buffer: inout ByteBuffer) {
        writeFrameHeader(length: 0, type: HTTP2FrameType.settings, flags: HTTP2FrameFlags.ack, streamID: 0, into: &buffer)
    }

    public static func writePing(_ opaque: UInt64, ack: Bool, into buffer: inout ByteBuffer) {
        writeFrameHeader(length: 8, type: HTTP2FrameType.ping, flags: ack ? HTTP2FrameFlags.ack : 0, streamID: 0, into: &buffer)
        buffer.writeInteger(opaque)
    }

    public static func writeRSTStream(streamID: UInt32, code: HTTP2ErrorCode, into buffer: inout ByteBuffer) {
        writeFrameHeader(length: 4, type: HTTP2FrameType.rstStream, flags: 0, streamID: streamID, into: &buffer)
        buffer.writeInteger(code.rawValue)
    }

    public static func writeGoAway(lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: String, into buffer: inout ByteBuffer) {
        let debug = Array(debugData.utf8.prefix(256))
        writeFrameHeader(length: 8 + debug.count, type: HTTP2FrameType.goAway, flags: 0, streamID: 0, into: &buffer)
        buffer.writeInteger(lastStreamID & 0x7FFF_FFFF)
        buffer.writeInteger(code.rawValue)
        buffer.writeBytes(debug)
    }

    public static func writeWindowUpdate(streamID: UInt32, increment: UInt32, into buffer: inout ByteBuffer) {
        writeFrameHeader(length: 4, type: HTTP2FrameType.windowUpdate, flags: 0, streamID: streamID, into: &buffer)
        buffer.writeInteger(increment & 0x7FFF_FFFF)
    }
}
