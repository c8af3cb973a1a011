import Loop

/// The bytes a connection wants sent, in order: frames are written into `control`; DATA
/// payloads of any size travel as their own buffers (not copied) after their frame header.
public struct HTTP2Output: Sendable {
    /// Frame bytes being gathered (only the connection writes frames).
    var control = ByteBuffer(capacity: 4096)
    private var sealed: [ByteBuffer] = []
    /// Payloads up to this size are copied next to their header: one iovec instead of two.
    private static let copyThreshold = 1024

    mutating func appendData(streamID: UInt32, _ payload: ByteBuffer, endStream: Bool) {
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
    public var isEmpty: Bool { sealed.isEmpty && control.readableBytes == 0 }

    /// Moves the pending buffers, in order, to the end of `list`, and empties the output.
    /// The caller writes them, lets go of them, then calls `reclaim()` so the control buffer's
    /// storage is reused instead of reallocated.
    mutating func moveAll(into list: inout [ByteBuffer]) {
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
        control.clear()
    }
}
