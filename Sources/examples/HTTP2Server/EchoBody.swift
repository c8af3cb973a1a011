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
/// try echo.receive(ByteBuffer(string: "abc"), endStream: true, on: stream)  // head, then DATA
/// echo.returnCredit(on: stream)   // again on each streamWritable
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
    mutating func receive(_ data: ByteBuffer, endStream: Bool, on stream: HTTP2StreamHandle) throws(HTTP2StreamError) {
        if !headSent {
            headSent = true
            var head = [HPACKHeader(":status", "200")]
            if let contentLength { head.append(HPACKHeader("content-length", contentLength)) }
            let empty = endStream && data.readableBytes == 0
            if empty && contentLength == nil { head.append(HPACKHeader("content-length", "0")) }
            try stream.sendHeaders(head, endStream: empty)
            if empty { return }
        }
        guard data.readableBytes > 0 || endStream else { return }
        try stream.sendData(data, endStream: endStream)
        held += data.readableBytes
        returnCredit(on: stream)
    }

    /// Returns credit for the echoed bytes that left the stream's queue since last time, and
    /// asks for `streamWritable` when the rest has drained by half.
    mutating func returnCredit(on stream: HTTP2StreamHandle) {
        let queued = stream.bufferedBytes
        if held > queued {
            stream.consumed(held - queued)
            held = queued
        }
        if queued > 0 { stream.notifyWhenBuffered(atMost: queued / 2) }
    }
}
