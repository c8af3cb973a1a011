import Loop

/// The bytes a connection wants sent, in order: frames are written into `control`; DATA
/// payloads of any size travel as their own buffers (not copied) after their frame header.
public struct HTTP2Output: Sendable {
    /// Frame bytes being gathered (only the connection writes frames).
    var control = ByteBuffer(capacity: 4096)
    private var sealed: [ByteBuffer] = []
    /// Payloads up to this size are copied next to their header: one iovec instead of two.
    private static let copyThreshold = 1024

    /// Behind an HTTP/1.1 bridge in this process (`HTTP1BridgeHandler`, once it translates):
    /// streams' HEADERS and DATA stay frames for the bridge to read, instead of being encoded
    /// (HPACK, frame headers) only for the bridge to decode them again. The other frames stay
    /// bytes; ``HandedOver`` keeps them in order.
    var handsOverFrames = false
    /// What is pending when ``handsOverFrames`` is on, in order.
    private var handedOver: [HandedOver] = []

    /// One piece of a bridged connection's output.
    enum HandedOver {
        case bytes(ByteBuffer)
        case frame(HTTP2Frame)

        var byteCount: Int {
            switch self {
            case .bytes(let bytes): return bytes.readableBytes
            case .frame(let frame):
                guard case .data(let payload, _, _) = frame.payload else { return 0 }
                return payload.readableBytes
            }
        }
    }

    /// A stream's HEADERS (or trailers) or DATA, handed over as they are (``handsOverFrames``).
    mutating func appendFrame(_ frame: HTTP2Frame) {
        sealForHandover()
        handedOver.append(.frame(frame))
    }

    /// The frame bytes written so far go ahead of the next handed-over frame.
    private mutating func sealForHandover() {
        for buffer in sealed { handedOver.append(.bytes(buffer)) }
        sealed.removeAll(keepingCapacity: true)
        if control.readableBytes > 0 {
            handedOver.append(.bytes(control))
            control.moveReaderIndex(to: control.writerIndex)
        }
    }

    /// Moves everything pending, in order, to the end of `list` (``handsOverFrames``); then
    /// `reclaim()` as after ``moveAll(into:)``.
    mutating func moveHandedOver(into list: inout [HandedOver]) {
        sealForHandover()
        list.append(contentsOf: handedOver)
        handedOver.removeAll(keepingCapacity: true)
    }

    mutating func appendData(streamID: UInt32, _ payload: ByteBuffer, endStream: Bool) {
        if handsOverFrames {
            return appendFrame(HTTP2Frame(streamID: streamID, payload: .data(payload, endStream: endStream,
                                                                             flowControlledLength: payload.readableBytes)))
        }
        HTTP2FrameEncoder.writeDataHeader(streamID: streamID, length: payload.readableBytes, endStream: endStream, into: &control)
        if payload.readableBytes <= HTTP2Output.copyThreshold {
            control.writeImmutableBuffer(payload)
        } else {
            sealed.append(control)
            control = ByteBuffer(capacity: 1024)
            sealed.append(payload)
        }
    }

    /// True when there is something to send.
    public var isEmpty: Bool { sealed.isEmpty && control.readableBytes == 0 && handedOver.isEmpty }

    /// Moves the pending buffers, in order, to the end of `list`, and empties the output.
    /// The caller writes them, lets go of them, then calls `reclaim()` so the control buffer's
    /// storage is reused instead of reallocated.
    mutating func moveAll(into list: inout [ByteBuffer]) {
        precondition(handedOver.isEmpty, "a bridged connection's output is taken with moveHandedOver(into:)")
        list.append(contentsOf: sealed)
        sealed.removeAll(keepingCapacity: true)
        if control.readableBytes > 0 {
            list.append(control)
            control.moveReaderIndex(to: control.writerIndex)
        }
    }

    /// Rewinds the control buffer once everything in it was handed out (no allocation when
    /// the socket has already let go of it).
    mutating func reclaim() {
        if control.readableBytes == 0 && control.writerIndex > 0 { control.clear() }
    }

    /// Hands each pending buffer to `write`, in order, and empties the output (for callers
    /// whose `write` cannot re-enter the connection, such as tests).
    mutating func drain(_ write: (ByteBuffer) -> Void) {
        var list: [ByteBuffer] = []
        moveAll(into: &list)
        for buffer in list { write(buffer) }
        reclaim()
    }

    /// Drops everything pending (the connection is gone).
    mutating func discard() {
        sealed.removeAll()
        handedOver.removeAll()
        control.clear()
    }
}
