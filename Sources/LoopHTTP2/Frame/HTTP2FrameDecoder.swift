import Loop

/// Turns the bytes of one connection into frames (RFC 9113 §4, §6), enforcing each frame's
/// own rules: sizes, stream-0 rules, padding, CONTINUATION sequencing. What needs stream
/// state (§5.1) is the connection state machine's job.
///
/// ```swift
/// var decoder = HTTP2FrameDecoder(role: .server)
/// decoder.append(bytesFromSocket)
/// while let frame = try decoder.nextFrame() { ... }
/// ```
public struct HTTP2FrameDecoder: Sendable {
    public enum Role: Sendable { case server, client }

    private var buffer: ByteBuffer?
    private var expectingPreface: Bool
    private var pendingBlock: PendingBlock?
    /// The HPACK decoder for the peer's header blocks.
    public var hpack: HPACKDecoder
    /// The SETTINGS_MAX_FRAME_SIZE we announced: larger frames are FRAME_SIZE_ERROR.
    public var maxFrameSize: UInt32 = 16_384
    /// How many CONTINUATION frames and bytes one header block may use before
    /// ENHANCE_YOUR_CALM (one of the connection's abuse limits, `HTTP2AbuseLimits`).
    public var headerBlockLimits: HTTP2HeaderBlockLimits

    private struct PendingBlock {
        var streamID: UInt32
        var endStream: Bool
        var block: ByteBuffer
        var continuations: Int
        var dependsOnItself: Bool
    }

    /// Set when the HEADERS just returned carried a priority that makes its stream depend on
    /// itself (RFC 9113 §5.3.1: a stream error the connection raises once the block is
    /// decoded, so the HPACK context stays in step). The connection reads and clears it.
    public internal(set) var headersDependingOnThemselves: UInt32?
    /// Frames of unknown type skipped since the connection last looked (RFC 9113 §5.5).
    var ignoredFrames = 0

    public init(role: Role, maxHeaderListSize: Int = 65_536, headerBlockLimits: HTTP2HeaderBlockLimits? = nil) {
        self.expectingPreface = role == .server
        self.headerBlockLimits = headerBlockLimits ?? HTTP2HeaderBlockLimits(maxHeaderListSize: maxHeaderListSize)
        let maxHeaderBlockSize = self.headerBlockLimits.maxBlockSize
        // One field longer than the whole list limit makes an oversized list (refused
        // stream, RFC 9113 §6.5.2), not a COMPRESSION_ERROR for the connection: strings are
        // bounded only by what a block of the largest size decodes to (Huffman codes are at
        // least 5 bits long).
        self.hpack = HPACKDecoder(maximumHeaderListSize: maxHeaderListSize,
                                  maximumStringLength: maxHeaderBlockSize * 8 / 5)
    }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: ByteBuffer) {
        if buffer == nil {
            buffer = bytes
        } else {
            var bytes = bytes
            buffer!.writeBuffer(&bytes)
        }
    }

    /// True while a header block is unfinished: HEADERS arrived without END_HEADERS, or a
    /// HEADERS or CONTINUATION frame has arrived only in part (for the header-block timeout).
    @inline(__always) public var isInHeaderBlock: Bool {
        if pendingBlock != nil { return true }
        guard let buffer, let type = buffer.getInteger(at: buffer.readerIndex + 3, as: UInt8.self) else { return false }
        return !expectingPreface && (type == HTTP2FrameType.headers || type == HTTP2FrameType.continuation)
    }

    /// True while the decoder holds bytes of an incomplete frame.
    public var hasBufferedBytes: Bool { (buffer?.readableBytes ?? 0) > 0 }

    /// The next complete frame, or nil when more bytes are needed.
    public mutating func nextFrame() throws(HTTP2ProtocolError) -> HTTP2Frame? {
        guard var bytes = buffer else { return nil }
        buffer = nil
        defer {
            if bytes.readableBytes > 0 {
                if bytes.readerIndex > 65_536 && bytes.readerIndex > bytes.readableBytes { bytes.discardReadBytes() }
                buffer = bytes
            }
        }
        if expectingPreface {
            let available = min(bytes.readableBytes, http2ClientPreface.count)
            guard bytes.readableBytesView.prefix(available).elementsEqual(http2ClientPreface.prefix(available)) else {
                throw .connection(.protocolError, "invalid connection preface (RFC 9113 §3.4)")
            }
            guard available == http2ClientPreface.count else { return nil }
            bytes.moveReaderIndex(forwardBy: available)
            expectingPreface = false
        }
        while true {
            let start = bytes.readerIndex
            guard let high = bytes.getInteger(at: start, as: UInt16.self),
                  let low = bytes.getInteger(at: start + 2, as: UInt8.self),
                  let type = bytes.getInteger(at: start + 3, as: UInt8.self),
                  let flags = bytes.getInteger(at: start + 4, as: UInt8.self),
                  let rawStreamID = bytes.getInteger(at: start + 5, as: UInt32.self) else { return nil }
            let length = Int(high) << 8 | Int(low)
            let streamID = rawStreamID & 0x7FFF_FFFF
            guard length <= Int(maxFrameSize) else {
                throw .connection(.frameSizeError, "frame of \(length) bytes exceeds SETTINGS_MAX_FRAME_SIZE \(maxFrameSize) (RFC 9113 §4.2)")
            }
            guard bytes.readableBytes >= 9 + length else { return nil }
            bytes.moveReaderIndex(forwardBy: 9)
            let payload = bytes.readSlice(length: length)!
            if let pending = pendingBlock, type != HTTP2FrameType.continuation || streamID != pending.streamID {
                throw .connection(.protocolError, "expected CONTINUATION on stream \(pending.streamID), got frame type \(type) on stream \(streamID) (RFC 9113 §6.10)")
            }
            if let frame = try decodeFrame(type: type, flags: flags, streamID: streamID, payload: payload) {
                return frame
            }
        }
    }

    private mutating func decodeFrame(type: UInt8, flags: UInt8, streamID: UInt32, payload: ByteBuffer) throws(HTTP2ProtocolError) -> HTTP2Frame? {
        var payload = payload
        switch type {
        case HTTP2FrameType.data:
            guard streamID != 0 else { throw .connection(.protocolError, "DATA on stream 0 (RFC 9113 §6.1)") }
            let length = payload.readableBytes
            try stripPadding(&payload, flags: flags, frame: "DATA")
            return HTTP2Frame(streamID: streamID, payload: .data(payload, endStream: flags & HTTP2FrameFlags.endStream != 0, flowControlledLength: length))

        case HTTP2FrameType.headers:
            guard streamID != 0 else { throw .connection(.protocolError, "HEADERS on stream 0 (RFC 9113 §6.2)") }
            let priorityLength = flags & HTTP2FrameFlags.priority != 0 ? 5 : 0
            try stripPadding(&payload, flags: flags, frame: "HEADERS", fieldsLength: priorityLength)
            var dependsOnItself = false
            if priorityLength > 0 {
                // Exclusive flag, dependency and weight: ignored (RFC 9113 §5.3.2), except a
                // dependency on the stream itself (§5.3.1).
                guard payload.readableBytes >= priorityLength,
                      let dependency = payload.getInteger(at: payload.readerIndex, as: UInt32.self) else {
                    throw .connection(.frameSizeError, "HEADERS with PRIORITY shorter than 5 bytes (RFC 9113 §6.2)")
                }
                dependsOnItself = dependency & 0x7FFF_FFFF == streamID
                payload.moveReaderIndex(forwardBy: priorityLength)
            }
            let endStream = flags & HTTP2FrameFlags.endStream != 0
            if flags & HTTP2FrameFlags.endHeaders != 0 {
                let frame = try decodeBlock(streamID: streamID, endStream: endStream, block: payload)
                if dependsOnItself { headersDependingOnThemselves = streamID }
                return frame
            }
            try headerBlockLimits.check(continuations: 0, size: payload.readableBytes)
            pendingBlock = PendingBlock(streamID: streamID, endStream: endStream, block: payload, continuations: 0,
                                        dependsOnItself: dependsOnItself)
            return nil

        case HTTP2FrameType.continuation:
            guard var pending = pendingBlock else {
                throw .connection(.protocolError, "CONTINUATION without a preceding HEADERS on stream \(streamID) (RFC 9113 §6.10)")
            }
            pending.continuations += 1
            try headerBlockLimits.check(continuations: pending.continuations, size: pending.block.readableBytes + payload.readableBytes)
            pending.block.writeBuffer(&payload)
            if flags & HTTP2FrameFlags.endHeaders != 0 {
                pendingBlock = nil
                let frame = try decodeBlock(streamID: pending.streamID, endStream: pending.endStream, block: pending.block)
                if pending.dependsOnItself { headersDependingOnThemselves = pending.streamID }
                return frame
            }
            pendingBlock = pending
            return nil

        case HTTP2FrameType.priority:
            guard streamID != 0 else { throw .connection(.protocolError, "PRIORITY on stream 0 (RFC 9113 §6.3)") }
            guard payload.readableBytes == 5, let dependency = payload.getInteger(at: payload.readerIndex, as: UInt32.self) else {
                throw .stream(streamID, .frameSizeError, "PRIORITY of \(payload.readableBytes) bytes, not 5 (RFC 9113 §6.3)")
            }
            guard dependency & 0x7FFF_FFFF != streamID else {
                throw .stream(streamID, .protocolError, "PRIORITY makes stream \(streamID) depend on itself (RFC 9113 §5.3.1)")
            }
            return HTTP2Frame(streamID: streamID, payload: .priority)

        case HTTP2FrameType.rstStream:
            guard streamID != 0 else { throw .connection(.protocolError, "RST_STREAM on stream 0 (RFC 9113 §6.4)") }
            guard payload.readableBytes == 4, let code = payload.readInteger(as: UInt32.self) else {
                throw .connection(.frameSizeError, "RST_STREAM of \(payload.readableBytes) bytes, not 4 (RFC 9113 §6.4)")
            }
            return HTTP2Frame(streamID: streamID, payload: .rstStream(HTTP2ErrorCode(rawValue: code)))

        case HTTP2FrameType.settings:
            guard streamID == 0 else { throw .connection(.protocolError, "SETTINGS on stream \(streamID) (RFC 9113 §6.5)") }
            if flags & HTTP2FrameFlags.ack != 0 {
                guard payload.readableBytes == 0 else {
                    throw .connection(.frameSizeError, "SETTINGS ACK with a \(payload.readableBytes)-byte payload (RFC 9113 §6.5)")
                }
                return HTTP2Frame(streamID: 0, payload: .settingsAck)
            }
            guard payload.readableBytes % 6 == 0 else {
                throw .connection(.frameSizeError, "SETTINGS of \(payload.readableBytes) bytes, not a multiple of 6 (RFC 9113 §6.5)")
            }
            var parameters: [HTTP2Setting] = []
            while let identifier = payload.readInteger(as: UInt16.self), let value = payload.readInteger(as: UInt32.self) {
                parameters.append(HTTP2Setting(identifier, value))
            }
            return HTTP2Frame(streamID: 0, payload: .settings(parameters))

        case HTTP2FrameType.pushPromise:
            // We always announce SETTINGS_ENABLE_PUSH=0, and clients never push.
            throw .connection(.protocolError, "PUSH_PROMISE received, but push is disabled (RFC 9113 §6.6, §8.4)")

        case HTTP2FrameType.ping:
            guard streamID == 0 else { throw .connection(.protocolError, "PING on stream \(streamID) (RFC 9113 §6.7)") }
            guard payload.readableBytes == 8, let opaque = payload.readInteger(as: UInt64.self) else {
                throw .connection(.frameSizeError, "PING of \(payload.readableBytes) bytes, not 8 (RFC 9113 §6.7)")
            }
            return HTTP2Frame(streamID: 0, payload: .ping(opaque, ack: flags & HTTP2FrameFlags.ack != 0))

        case HTTP2FrameType.goAway:
            guard streamID == 0 else { throw .connection(.protocolError, "GOAWAY on stream \(streamID) (RFC 9113 §6.8)") }
            guard let last = payload.readInteger(as: UInt32.self), let code = payload.readInteger(as: UInt32.self) else {
                throw .connection(.frameSizeError, "GOAWAY shorter than 8 bytes (RFC 9113 §6.8)")
            }
            return HTTP2Frame(streamID: 0, payload: .goAway(lastStreamID: last & 0x7FFF_FFFF, errorCode: HTTP2ErrorCode(rawValue: code), debugData: payload))

        case HTTP2FrameType.windowUpdate:
            guard payload.readableBytes == 4, let raw = payload.readInteger(as: UInt32.self) else {
                throw .connection(.frameSizeError, "WINDOW_UPDATE of \(payload.readableBytes) bytes, not 4 (RFC 9113 §6.9)")
            }
            let increment = raw & 0x7FFF_FFFF
            guard increment > 0 else {
                if streamID == 0 { throw .connection(.protocolError, "WINDOW_UPDATE with increment 0 on the connection (RFC 9113 §6.9)") }
                throw .stream(streamID, .protocolError, "WINDOW_UPDATE with increment 0 (RFC 9113 §6.9)")
            }
            return HTTP2Frame(streamID: streamID, payload: .windowUpdate(increment: increment))

        default:
            ignoredFrames += 1  // the connection charges these to its glitch budget
            return nil  // unknown frame types are ignored (RFC 9113 §4.1, §5.5)
        }
    }

    /// Removes the padding of a PADDED frame. `fieldsLength` bytes of fixed fields sit
    /// between the pad length and the data (HEADERS' priority fields): the padding may only
    /// take what follows them (RFC 9113 §6.2).
    private func stripPadding(_ payload: inout ByteBuffer, flags: UInt8, frame: String, fieldsLength: Int = 0) throws(HTTP2ProtocolError) {
        guard flags & HTTP2FrameFlags.padded != 0 else { return }
        guard let padLength = payload.readInteger(as: UInt8.self) else {
            throw .connection(.frameSizeError, "padded \(frame) without a pad length (RFC 9113 §6.1)")
        }
        guard payload.readableBytes >= fieldsLength else {
            throw .connection(.frameSizeError, "padded \(frame) with PRIORITY shorter than its fields (RFC 9113 §6.2)")
        }
        guard Int(padLength) <= payload.readableBytes - fieldsLength else {
            throw .connection(.protocolError, "\(frame) padding of \(padLength) bytes is not shorter than the payload (RFC 9113 §6.1, §6.2)")
        }
        payload.moveWriterIndex(to: payload.writerIndex - Int(padLength))
    }

    private mutating func decodeBlock(streamID: UInt32, endStream: Bool, block: ByteBuffer) throws(HTTP2ProtocolError) -> HTTP2Frame {
        do {
            let headers = try hpack.decode(block)
            return HTTP2Frame(streamID: streamID, payload: .headers(headers, endStream: endStream))
        } catch HPACKError.headerListTooLarge {
            return HTTP2Frame(streamID: streamID, payload: .oversizedHeaders(endStream: endStream))
        } catch {
            throw .connection(.compressionError, "\(error)")
        }
    }
}
