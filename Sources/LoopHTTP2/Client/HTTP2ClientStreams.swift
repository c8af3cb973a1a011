import Loop

/// The client's stream delegate: matches response events to the calls waiting for them.
final class HTTP2ClientStreams: HTTP2StreamDelegate {
    private let loop: EventLoop
    private var calls: [UInt32: Call] = [:]

    final class Call {
        /// Completed with the response head, or failed if the stream ends before it.
        let head: EventLoopPromise<HTTP2ClientResponse>
        let body: HTTP2BodyStorage
        let writer: HTTP2WriterStorage
        var headReceived = false

        init(head: EventLoopPromise<HTTP2ClientResponse>, body: HTTP2BodyStorage, writer: HTTP2WriterStorage) {
            self.head = head
            self.body = body
            self.writer = writer
        }
    }

    init(loop: EventLoop) {
        self.loop = loop
    }

    func register(_ streamID: UInt32, _ call: Call) {
        calls[streamID] = call
    }

    func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
        guard let call = calls[stream.id] else { return }
        if call.headReceived {
            call.body.finish(trailers: headers)
            return
        }
        let head = HTTP2ResponseHead(decoding: headers)
        if head.status >= 100 && head.status < 200 && !endStream { return }  // informational
        call.headReceived = true
        if endStream { call.body.finish(trailers: nil) }
        call.head.succeed(HTTP2ClientResponse(head: head, body: HTTP2Body(storage: call.body), streamID: stream.id))
    }

    func streamData(_ stream: HTTP2StreamHandle, _ data: ByteBuffer, endStream: Bool) {
        guard let call = calls[stream.id] else {
            stream.consumed(data.readableBytes)
            return
        }
        call.body.receive(data, endStream: endStream)
    }

    func streamReset(_ stream: HTTP2StreamHandle, code: HTTP2ErrorCode) {
        guard let call = calls[stream.id] else { return }
        let error = HTTP2StreamResetError(code: code)
        // The stream-end rule (docs/architecture.md): a response that already ended keeps its
        // outcome; the body storage ignores failures after its end.
        call.body.fail(error)
        call.writer.fail(error)
        call.head.fail(error)
    }

    func streamClosed(_ stream: HTTP2StreamHandle) {
        guard let call = calls.removeValue(forKey: stream.id) else { return }
        call.writer.closed()
        call.body.fail(HTTP2StreamResetError(code: .cancel))
        call.head.fail(HTTP2StreamResetError(code: .cancel))
    }

    func streamWritable(_ stream: HTTP2StreamHandle) {
        calls[stream.id]?.writer.writable()
    }
}
