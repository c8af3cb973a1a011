import Loop

/// The stream-level API: callbacks for every stream of one connection, on the channel's
/// loop, with a ``HTTP2StreamHandle`` to answer through. No task or object per stream is
/// made for you; keep per-stream state keyed by `stream.id` if you need any.
///
/// ```swift
/// final class Hello: HTTP2StreamDelegate {
///     func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
///         try? stream.sendHeaders([HPACKHeader(":status", "200")], endStream: false)
///         try? stream.sendData(ByteBuffer(string: "Hello, world!"), endStream: true)
///     }
/// }
/// ```
public protocol HTTP2StreamDelegate: AnyObject {
    /// A header list: request/response head, informational response, or trailers.
    func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool)
    /// Body bytes. Call `stream.consumed(_:)` when done with them so the peer may send more.
    func streamData(_ stream: HTTP2StreamHandle, _ data: ByteBuffer, endStream: Bool)
    /// The stream was reset (by the peer, by a GOAWAY, or for a protocol error).
    func streamReset(_ stream: HTTP2StreamHandle, code: HTTP2ErrorCode)
    /// The stream is finished and forgotten.
    func streamClosed(_ stream: HTTP2StreamHandle)
    /// Queued bytes fell to the threshold asked for with `notifyWhenBuffered(atMost:)`.
    func streamWritable(_ stream: HTTP2StreamHandle)
    /// The peer's SETTINGS arrived.
    func connectionReady(_ connection: HTTP2ConnectionHandler)
    /// The peer sent GOAWAY.
    func connectionGoingAway(_ connection: HTTP2ConnectionHandler, lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: String)
    /// The connection failed with a protocol error (GOAWAY was sent).
    func connectionFailed(_ connection: HTTP2ConnectionHandler, error: HTTP2ProtocolError)
}

extension HTTP2StreamDelegate {
    public func streamData(_ stream: HTTP2StreamHandle, _ data: ByteBuffer, endStream: Bool) {
        stream.consumed(data.readableBytes)
    }
    public func streamReset(_ stream: HTTP2StreamHandle, code: HTTP2ErrorCode) {}
    public func streamClosed(_ stream: HTTP2StreamHandle) {}
    public func streamWritable(_ stream: HTTP2StreamHandle) {}
    public func connectionReady(_ connection: HTTP2ConnectionHandler) {}
    public func connectionGoingAway(_ connection: HTTP2ConnectionHandler, lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: String) {}
    public func connectionFailed(_ connection: HTTP2ConnectionHandler, error: HTTP2ProtocolError) {}
}

/// One stream of a connection, for answering it from a ``HTTP2StreamDelegate``. A small
/// value: use it on the channel's loop only.
///
/// The handle keeps its connection handler alive (a strong reference, not an unsafe one), so
/// a handle kept after the connection closed is safe to use: sends throw
/// `HTTP2StreamError.connectionClosed` (or `.streamClosed` once the stream ended), resets
/// and credit are ignored. Let go of handles when `streamClosed` arrives.
public struct HTTP2StreamHandle {
    /// The stream id.
    public let id: UInt32
    /// The connection the stream belongs to.
    public let connection: HTTP2ConnectionHandler

    /// Sends a header list (the head, or trailers once the head was sent).
    public func sendHeaders(_ headers: [HPACKHeader], endStream: Bool) throws(HTTP2StreamError) {
        try connection.sendHeaders(streamID: id, headers, endStream: endStream)
    }

    /// Queues body bytes; they leave as flow control allows.
    public func sendData(_ data: ByteBuffer, endStream: Bool) throws(HTTP2StreamError) {
        try connection.sendData(streamID: id, data, endStream: endStream)
    }

    /// Sends trailers, ending the stream (after any queued data).
    public func sendTrailers(_ headers: [HPACKHeader]) throws(HTTP2StreamError) {
        try connection.sendHeaders(streamID: id, headers, endStream: true)
    }

    /// Resets the stream with RST_STREAM(`code`).
    public func reset(_ code: HTTP2ErrorCode) {
        connection.reset(streamID: id, code: code)
    }

    /// Returns flow-control credit for `bytes` the application has processed.
    public func consumed(_ bytes: Int) {
        connection.consumed(streamID: id, bytes: bytes)
    }

    /// Bytes queued on this stream, not yet sent.
    public var bufferedBytes: Int { connection.bufferedBytes(streamID: id) }

    /// True when a sender should stop queueing DATA for now: more than `highWaterMark` bytes
    /// wait on this stream, or the connection's queued DATA across all its streams is above
    /// ``HTTP2Configuration/maxQueuedOutboundBytes``. Wait with
    /// ``notifyWhenBuffered(atMost:)``.
    ///
    /// ```swift
    /// try stream.sendData(chunk, endStream: false)
    /// if stream.isAboveWaterMark(256 * 1024) {
    ///     stream.notifyWhenBuffered(atMost: 64 * 1024)   // streamWritable comes later
    /// }
    /// ```
    public func isAboveWaterMark(_ highWaterMark: Int) -> Bool {
        connection.bufferedBytes(streamID: id) > highWaterMark || connection.isOutboundFull
    }

    /// True when a waiting sender may go on: at most `lowWaterMark` bytes wait on this
    /// stream and the connection's queued DATA is under half of
    /// ``HTTP2Configuration/maxQueuedOutboundBytes``.
    public func isBelowWaterMark(_ lowWaterMark: Int) -> Bool {
        connection.bufferedBytes(streamID: id) <= lowWaterMark && connection.hasOutboundRoom
    }

    /// Asks for `streamWritable` once this stream's queued bytes drop to `threshold` or less
    /// and the connection's queued DATA is back under half of
    /// ``HTTP2Configuration/maxQueuedOutboundBytes`` (at once, in a later event, if both
    /// already hold).
    public func notifyWhenBuffered(atMost threshold: Int) {
        connection.notifyWhenBuffered(streamID: id, atMost: threshold)
    }
}
