import Loop

/// What an ``HTTP2Connection`` reports to the layer above.
public enum HTTP2ConnectionEvent: Sendable {
    /// The peer's first SETTINGS arrived: the connection is ready.
    case ready
    /// A header list: a request or response head, informational headers, or trailers.
    case headers(streamID: UInt32, [HPACKHeader], endStream: Bool)
    /// DATA; call `consumed(streamID:bytes:)` once the application has taken it.
    case data(streamID: UInt32, ByteBuffer, endStream: Bool)
    /// The peer reset the stream (or it was refused by GOAWAY, or the connection failed).
    case reset(streamID: UInt32, HTTP2ErrorCode)
    /// We reset the stream for a protocol violation (the RST_STREAM is in the output).
    case streamError(streamID: UInt32, HTTP2ProtocolError)
    /// The stream is finished; its record is gone.
    case closed(streamID: UInt32)
    /// Queued bytes fell to the threshold set with `notifyWhenBuffered`.
    case writable(streamID: UInt32)
    /// A request was refused with 431 for its header list size.
    case headerListTooLarge(streamID: UInt32)
    case pingAck(UInt64)
    case goAway(lastStreamID: UInt32, HTTP2ErrorCode, debugData: String)
    /// Graceful shutdown finished: every stream closed; close the socket after the output.
    case drained
    /// A connection error: GOAWAY is in the output; close the socket after it.
    case connectionError(HTTP2ProtocolError)
}
