import Loop

/// Serves each request of a connection with an async handler, run as a task on the
/// connection's loop (no thread hop per message). Errors thrown before the response head
/// was sent become a 500; after it, the stream is reset with INTERNAL_ERROR; either way the
/// error is logged at error level with the request's method and path (the connection's
/// logger). A request reset by the client cancels its task.
///
/// ``HTTP2Server/bind(_:group:configuration:tls:handler:)`` uses one per connection; a
/// stream delegate of your own can hand it the streams it does not serve itself (GRPCServer
/// does so with requests that are not gRPC):
///
/// ```swift
/// let fallback = HTTP2AsyncStreamDelegate(loop: channel.eventLoop) { request, response in
///     try await response.respond(HTTP2ResponseHead(status: 404))
/// }
/// // In your delegate's streamHeaders: fallback.streamHeaders(stream, headers, endStream: endStream)
/// // and forward streamData, streamReset, streamClosed and streamWritable for those streams.
/// ```
public final class HTTP2AsyncStreamDelegate: HTTP2StreamDelegate {
    public typealias Handler = @Sendable (HTTP2ServerRequest, HTTP2ServerResponse) async throws -> Void

    private let handler: Handler
    private let loop: EventLoop
    // Loop-confined (every delegate call comes from the connection's loop), never accessed
    // re-entrantly while mutated: no dynamic exclusivity check per access.
    @exclusivity(unchecked) private var streams: [UInt32: StreamRecord] = [:]

    private struct StreamRecord {
        let body: HTTP2BodyStorage
        let writer: HTTP2WriterStorage
        var task: Task<Void, Never>?
    }

    /// A delegate running `handler` for each request, as tasks on `loop` (the connection's).
    public init(loop: EventLoop, handler: @escaping Handler) {
        self.loop = loop
        self.handler = handler
    }

    public func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
        if let record = streams[stream.id] {
            // Request trailers.
            record.body.finish(trailers: headers)
            return
        }
        let body = HTTP2BodyStorage(stream: stream, loop: loop)
        let writer = HTTP2WriterStorage(stream: stream, loop: loop)
        if endStream { body.finish(trailers: nil) }
        let request = HTTP2ServerRequest(head: HTTP2RequestHead(decoding: headers), body: HTTP2Body(storage: body), streamID: stream.id,
                                          tls: stream.connection.tls, remoteAddress: stream.connection.remoteAddress,
                                          localAddress: stream.connection.localAddress)
        let response = HTTP2ServerResponse(storage: writer)
        let handler = self.handler
        let loop = self.loop
        // The task runs once this call has returned to the loop: its record (with the task, for
        // a reset to cancel) is in place before, in one insertion.
        let task = Task(executorPreference: loop) {
            do {
                try await handler(request, response)
                try await writer.finish(trailers: nil, defaultStatus: 200)
            } catch {
                await onLoop(loop) {
                    guard !writer.finished else { return }
                    if !writer.headSent {
                        try? writer.finishOnLoop(trailers: nil, defaultStatus: 500)
                        writer.stream.connection.observer.handlerFailed(error, request.head, answer: .status(500))
                    } else {
                        writer.stream.reset(.internalError)
                        writer.stream.connection.observer.handlerFailed(error, request.head, answer: .reset(.internalError))
                    }
                }
            }
        }
        streams[stream.id] = StreamRecord(body: body, writer: writer, task: task)
    }

    public func streamData(_ stream: HTTP2StreamHandle, _ data: ByteBuffer, endStream: Bool) {
        guard let record = streams[stream.id] else {
            stream.consumed(data.readableBytes)
            return
        }
        record.body.receive(data, endStream: endStream)
    }

    public func streamReset(_ stream: HTTP2StreamHandle, code: HTTP2ErrorCode) {
        guard let record = streams[stream.id] else { return }
        let error = HTTP2StreamResetError(code: code)
        record.body.fail(error)
        record.writer.fail(error)
        record.task?.cancel()
    }

    public func streamClosed(_ stream: HTTP2StreamHandle) {
        guard let record = streams.removeValue(forKey: stream.id) else { return }
        if record.body.isOpen { record.body.fail(HTTP2StreamResetError(code: .cancel)) }
        record.writer.closed()
    }

    public func streamWritable(_ stream: HTTP2StreamHandle) {
        streams[stream.id]?.writer.writable()
    }
}
