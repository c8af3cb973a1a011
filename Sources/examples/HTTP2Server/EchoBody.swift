import Loop
import LoopHTTP2

/// POST /echo on one stream: the request body goes back as it arrives, and the client gets
/// flow-control credit only for bytes that have left our queue. A client that stops reading
/// the response stops getting credit, so it stops sending: what we hold for it is at most one
/// receive window (`HTTP2Configuration.initialStreamWindowSize`), never the whole body.
///
/// Why credit waits: crediting on receipt (as `streamData`'s default does) tells the client
/// to send more while the echoed bytes pile up behind its closed window, without limit.
///
/// ```swift
/// var echo = EchoBody(contentLength: "3")
/// var wait = try echo.receive(ByteBuffer(string: "abc"), endStream: true, on: stream)  // head, then DATA
/// if let threshold = wait { stream.notifyWhenBuffered(atMost: threshold) }
/// wait = echo.returnCredit(on: stream)   // on streamWritable, and so on
/// ```
struct EchoBody {
    /// The request's content-length, passed on: the echo is exactly as long (the connection
    /// resets a request whose body does not match it).
    private let contentLength: String?
    /// The response head goes out with the first body bytes (or the request's end), so a
    /// request that never sends a body gets no answer started.
    private var headSent = false
    /// Bytes echoed whose credit we have not returned: all of what the stream still queues,
    /// and what left since the last `returnCredit`.
    private var held = 0

    init(contentLength: String?) {
        self.contentLength = contentLength
    }

    /// Echoes `data` (the request's end too), then credits what already left.
    /// - Returns: the threshold to ask `streamWritable` for (see `returnCredit`), or nil.
    mutating func receive(_ data: ByteBuffer, endStream: Bool, on stream: HTTP2StreamHandle) throws(HTTP2StreamError) -> Int? {
        if !headSent {
            headSent = true
            var head = [HPACKHeader(":status", "200")]
            if let contentLength { head.append(HPACKHeader("content-length", contentLength)) }
            let empty = endStream && data.readableBytes == 0
            if empty && contentLength == nil { head.append(HPACKHeader("content-length", "0")) }
            try stream.sendHeaders(head, endStream: empty)
            if empty { return nil }
        }
        guard data.readableBytes > 0 || endStream else { return nil }
        try stream.sendData(data, endStream: endStream)
        held += data.readableBytes
        return returnCredit(on: stream)
    }

    /// Returns credit for the echoed bytes that left the stream's queue since last time.
    /// - Returns: while bytes are still queued, the threshold at which to hear from the
    ///   stream again (half of them gone); the caller asks for it once this echo is stored,
    ///   since `streamWritable` may come at once.
    mutating func returnCredit(on stream: HTTP2StreamHandle) -> Int? {
        let queued = stream.bufferedBytes
        if held > queued {
            stream.consumed(held - queued)
            held = queued
        }
        return queued > 0 ? queued / 2 : nil
    }
}
