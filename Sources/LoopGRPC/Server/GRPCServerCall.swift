import Loop
import LoopHTTP2

/// One call on the server: the loop-bound state between its HTTP/2 stream and the handler
/// task. The delegate feeds it on the loop; the handler's task (which runs on the same loop
/// by executor preference) reads messages and answers through it. Deframing, credit, write
/// water marks and parked senders come from ``GRPCBridgedCall``, shared with the client call.
// @unchecked Sendable: Its mutable state is touched on its connection's loop only (the delegate
// runs there, the handler task prefers that loop, other callers hop with onLoop).
final class GRPCServerCall: GRPCBridgedCall, @unchecked Sendable {
    let stream: HTTP2StreamHandle
    let loop: EventLoop
    let context: GRPCServerContext
    /// The encoding responses are compressed with (nil: identity).
    let responseCompression: GRPCCompression?
    let maxSendMessageSize: Int
    var task: Task<Void, Never>?
    var deadlineTimer: ScheduledCallback?
    /// What the task runs (kept here so the task's closure captures only the call).
    var method: GRPCRouter.Method?
    var interceptors: [any GRPCServerInterceptor] = []
    /// Counts the call in its method's metrics (Observability/GRPCServerCall+Observability.swift).
    var observer = GRPCCallObserver.none
    /// A gRPC-Web call's differences (Web/GRPCWebCallMode.swift); nil for native gRPC.
    var web: GRPCWebCallMode?

    /// Queued request messages and their credit, a parked sender (see GRPCBridgedCall).
    var bridge: GRPCCallBridge
    var bridgedStream: HTTP2StreamHandle? { stream }

    // Inbound.
    private var requestEnded = false
    private var failure: GRPCStatus?
    private var messageWaiter: CheckedContinuation<ByteBuffer?, any Error>?

    // Outbound.
    private(set) var headSent = false
    private(set) var finished = false

    init(stream: HTTP2StreamHandle, loop: EventLoop, context: GRPCServerContext, requestCompression: GRPCCompression?,
         responseCompression: GRPCCompression?, maxReceiveMessageSize: Int, maxSendMessageSize: Int,
         partialMessages: GRPCPartialMessageBudget) {
        self.stream = stream
        self.loop = loop
        self.context = context
        self.responseCompression = responseCompression
        self.maxSendMessageSize = maxSendMessageSize
        self.bridge = GRPCCallBridge(maxReceiveMessageSize: maxReceiveMessageSize, compression: requestCompression,
                                     partialMessages: partialMessages)
    }

    // MARK: From the stream (on the loop)

    func receive(_ data: ByteBuffer, endStream: Bool) {
        guard failure == nil, !finished else { return discard(data) }
        do {
            if web != nil {
                let decoded = try web!.decode(data, endStream: endStream)
                // Base64 is longer than what it encodes: the difference is credited now, the
                // decoded bytes as their messages are read.
                if data.readableBytes > decoded.readableBytes { stream.consumed(data.readableBytes - decoded.readableBytes) }
                try receiveMessages(decoded)
            } else {
                try receiveMessages(data)
            }
        } catch {
            return fail(with: error)
        }
        if endStream { endRequest() }
        wakeReader()
    }

    func endRequest() {
        guard !requestEnded else { return }
        requestEnded = true
        if bridge.hasPartialMessage {
            fail(with: GRPCStatus(.internal, "the request stream ended inside a message"))
        }
        wakeReader()
    }

    /// The client reset the stream: the call is cancelled.
    func cancelledByPeer(_ code: HTTP2ErrorCode) {
        abandon(GRPCStatus(.cancelled, "the client cancelled the call (RST_STREAM \(code))"))
    }

    /// The deadline passed: answer DEADLINE_EXCEEDED and cancel the handler.
    func deadlineExceeded() {
        deadlineTimer = nil
        guard !finished else { return }
        context.markCancelled()
        fail(with: GRPCStatus(.deadlineExceeded, "the deadline passed before the call completed"))
    }

    /// The stream was closed (normally, or the connection went away).
    func streamClosed() {
        endInbound()
        if finished {
            failWriter(GRPCStatus(.cancelled, "the call already ended"))
        } else {
            abandon(GRPCStatus(.cancelled, "the connection closed before the call completed"))
        }
    }

    /// The stream is gone without an answer: nothing can be sent; readers and writers get
    /// `status`, the handler is cancelled.
    private func abandon(_ status: GRPCStatus) {
        finished = true
        deadlineTimer?.cancel()
        deadlineTimer = nil
        context.markCancelled()
        ended(status, withTrailingMetadata: false)
        failInbound(status)
        failWriter(status)
        task?.cancel()
    }

    /// A request problem: answer with `status`, stop reading, cancel the handler.
    private func fail(with status: GRPCStatus) {
        failInbound(status)
        finish(status)
        task?.cancel()
    }

    private func failInbound(_ status: GRPCStatus) {
        guard failure == nil else { return }
        failure = status
        endInbound()
        wakeReader()
    }

    private func wakeReader() {
        guard let waiter = messageWaiter else { return }
        do {
            if let ready = try takeAvailable() {
                messageWaiter = nil
                waiter.resume(returning: ready)
            }
        } catch {
            messageWaiter = nil
            waiter.resume(throwing: error)
        }
    }

    // MARK: For the handler

    /// The next request message, nil at the end of the request stream.
    func nextMessage() async throws -> ByteBuffer? {
        if loop.inEventLoop, let ready = try takeAvailable() { return ready }
        return try await suspendThrowing { [self] continuation in
            do {
                if let ready = try takeAvailable() {
                    continuation.resume(returning: ready)
                } else {
                    messageWaiter = continuation
                }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// A message, the end (`.some(nil)`), or nil when the caller must wait.
    private func takeAvailable() throws -> ByteBuffer?? {
        if let failure { throw failure }
        if let message = takeMessage() { return .some(message) }
        if requestEnded { return .some(nil) }
        return nil
    }

    /// Runs the method's handler (the task's body).
    func run() async {
        await method!.run(self, interceptors)
    }

    /// The single request of a unary or server-streaming call.
    func singleMessage() async throws -> ByteBuffer {
        // The usual case: HEADERS and DATA with END_STREAM arrived in one read, before the
        // task ran; answer without suspending.
        if loop.inEventLoop, failure == nil, requestEnded, bridge.hasSingleMessage, let message = takeMessage() {
            return message
        }
        guard let message = try await nextMessage() else {
            throw GRPCStatus(.internal, "the request ended without a message; this method takes exactly one")
        }
        guard try await nextMessage() == nil else {
            throw GRPCStatus(.internal, "the request has more than one message; this method takes exactly one")
        }
        return message
    }

    /// The handler's initial metadata, or why it cannot go on the wire (reserved or
    /// malformed fields end the call with INTERNAL instead).
    private func sendableInitialMetadata() -> Result<GRPCMetadata, GRPCStatus> {
        let metadata = context.takeInitialMetadata()
        if !metadata.isEmpty, let problem = GRPCResponseHead.problem(in: metadata) { return .failure(problem) }
        return .success(metadata)
    }

    private func trailers(for status: GRPCStatus) -> [HPACKHeader] {
        GRPCResponseHead.trailers(for: status, adding: context.trailingMetadata)
    }

    /// Sends the response headers now, if not sent yet.
    func sendHeadIfNeeded() throws {
        guard !headSent else { return }
        if finished { throw failure ?? GRPCStatus(.cancelled, "the call already ended") }
        switch sendableInitialMetadata() {
        case .success(let metadata):
            headSent = true
            let head = GRPCResponseHead.headers(compression: responseCompression, metadata: metadata)
            try stream.sendHeaders(web?.head(head) ?? head, endStream: false)
        case .failure(let problem):
            finish(problem)
            task?.cancel()
            throw problem
        }
    }

    /// Sends one framed message on the loop if the stream has room (true), or does
    /// nothing (false: call `send`, which waits). Throws if the call ended.
    func sendNow(_ framed: ByteBuffer) throws -> Bool {
        guard !senderMustWait else { return false }
        try sendOnLoop(framed)
        return true
    }

    /// Sends one framed message; waits while too much is queued on the stream.
    func send(_ framed: ByteBuffer) async throws {
        let mustWait: Bool
        if loop.inEventLoop {
            try sendOnLoop(framed)
            mustWait = senderMustWait
        } else {
            // A handler that left the loop: the stream is read and written on the loop only.
            mustWait = try await onLoopThrowing(loop) { () throws -> Bool in
                try self.sendOnLoop(framed)
                return self.senderMustWait
            }
        }
        guard mustWait else { return }
        try await suspendThrowing { [self] (continuation: CheckedContinuation<Void, any Error>) in
            if finished {
                continuation.resume(throwing: failure ?? GRPCStatus(.cancelled, "the call already ended"))
            } else {
                parkWriter(continuation)
            }
        }
    }

    private func sendOnLoop(_ framed: ByteBuffer) throws {
        if finished { throw failure ?? GRPCStatus(.cancelled, "the call already ended") }
        try sendHeadIfNeeded()
        try stream.sendData(web?.body(framed) ?? framed, endStream: false)
    }

    /// Sends head, the one response message and the OK trailers in one go.
    func finishUnary(_ framed: ByteBuffer) async {
        await onLoop(loop) { self.finishUnaryOnLoop(framed) }
    }

    func finishUnaryOnLoop(_ framed: ByteBuffer) {
        guard !finished else { return }
        do {
            try sendHeadIfNeeded()
            try stream.sendData(web?.body(framed) ?? framed, endStream: false)
        } catch {
            finished = true
            ended(GRPCStatus(.cancelled, "the stream ended before the response was sent: \(error)"), withTrailingMetadata: false)
            return
        }
        finish(.ok)
    }

    /// The status the client gets, told to the metrics and the interceptors' observers alike.
    private func ended(_ status: GRPCStatus, withTrailingMetadata: Bool) {
        observer.ended(status.code)
        context.ended(status, withTrailingMetadata: withTrailingMetadata)
    }

    /// Ends the call with `status` (trailers, or a trailers-only response if no head was sent).
    func finish(_ status: GRPCStatus) {
        guard !finished else { return }
        finished = true
        // Nothing reads the request any more: an unfinished message's bytes and reservation
        // go back now, not when the stream closes (up to a second later, the stream-end rule).
        endInbound()
        deadlineTimer?.cancel()
        deadlineTimer = nil
        // A handler parked in `send` (ended from here by a deadline or a bad request).
        failWriter(status.code == .ok ? GRPCStatus(.cancelled, "the call already ended") : status)
        if let web { return finishWeb(status, web) }
        if headSent {
            try? stream.sendTrailers(trailers(for: status))
            ended(status, withTrailingMetadata: true)
            return
        }
        headSent = true
        let head: [HPACKHeader]
        switch sendableInitialMetadata() {
        case .success(let metadata):
            head = GRPCResponseHead.headers(compression: responseCompression, metadata: metadata, trailers: trailers(for: status))
            ended(status, withTrailingMetadata: true)
        case .failure(let problem):
            head = GRPCResponseHead.headers(compression: responseCompression, metadata: GRPCMetadata(),
                                            trailers: GRPCResponseHead.problemTrailers(problem))
            ended(GRPCStatus(.internal, problem.message), withTrailingMetadata: false)
        }
        try? stream.sendHeaders(head, endStream: true)
    }

    /// gRPC-Web's end: the head if none was sent (never trailers-only: HTTP/1.1 clients read
    /// the status from the body), then the trailer frame ending the stream.
    private func finishWeb(_ status: GRPCStatus, _ web: GRPCWebCallMode) {
        var trailers = trailers(for: status)
        if !headSent {
            headSent = true
            switch sendableInitialMetadata() {
            case .success(let metadata):
                try? stream.sendHeaders(web.head(GRPCResponseHead.headers(compression: responseCompression, metadata: metadata)), endStream: false)
            case .failure(let problem):
                try? stream.sendHeaders(web.head(GRPCResponseHead.headers(compression: responseCompression, metadata: GRPCMetadata())), endStream: false)
                trailers = GRPCResponseHead.problemTrailers(problem)
                try? stream.sendData(web.trailerFrame(trailers), endStream: true)
                return ended(GRPCStatus(.internal, problem.message), withTrailingMetadata: false)
            }
        }
        try? stream.sendData(web.trailerFrame(trailers), endStream: true)
        ended(status, withTrailingMetadata: true)
    }

    /// Ends the call with the status `error` stands for.
    func finish(error: any Error) async {
        let status = Self.status(for: error, context: context)
        await logHandlerError(error, becoming: status)
        await finishOnLoop(status)
    }

    /// Ends the call with `status`, from the handler's task (hopping to the loop if needed).
    func finishOnLoop(_ status: GRPCStatus) async {
        if loop.inEventLoop {
            finish(status)
        } else {
            await onLoop(loop) { self.finish(status) }
        }
    }

    /// A thrown error's status: its own if it is one, CANCELLED for cancellation, else UNKNOWN.
    static func status(for error: any Error, context: GRPCServerContext) -> GRPCStatus {
        if let status = error as? GRPCStatus { return status }
        if let convertible = error as? any GRPCStatusConvertible { return convertible.grpcStatus }
        if error is CancellationError || context.isCancelled { return GRPCStatus(.cancelled, "the call was cancelled") }
        return GRPCStatus(.unknown, "\(error)")
    }
}

/// An error that knows which gRPC status it stands for; a handler throwing one ends the
/// call with that status.
public protocol GRPCStatusConvertible: Error {
    var grpcStatus: GRPCStatus { get }
}
