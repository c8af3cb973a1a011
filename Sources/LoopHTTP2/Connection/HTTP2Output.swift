import Loop

/// The bytes a connection wants sent, in order: frames are written into `control`; DATA
/// payloads of any size travel as their own buffers (not copied) after their frame header.
public struct HTTP2Output: Sendable {
    /// Frame bytes being gathered.
    public var control = ByteBuffer(capacity: 4096)
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

    /// Hands each pending buffer to `write`, in order, and empties the output. The control
    /// buffer is reused once the socket has let go of it.
    public mutating func drain(_ write: (ByteBuffer) -> Void) {
        for buffer in sealed { write(buffer) }
        sealed.removeAll(keepingCapacity: true)
        if control.readableBytes > 0 {
            write(control)
            control.clear()
        }
    }
}
