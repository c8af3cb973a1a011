import Loop
import LoopHTTP2

/// One call on the client: the loop-bound state between its HTTP/2 stream and the caller's
/// task. The connection's delegate feeds it on the loop; the caller sends and reads through
/// it from anywhere (hopping to the loop when not already there). Deframing, credit, write
/// water marks and parked senders come from ``GRPCBridgedCall``, shared with the server call.
// @unchecked Sendable: Its mutable state is touched on its connection's loop only; the caller's
// task hops there (onLoop) for every send and read.
final class GRPCClientCall: GRPCBridgedCall, @unchecked Sendable {
    let loop: EventLoop
    let path: String
    private(set) var stream: HTTP2StreamHandle?
    private let requestCompression: GRPCCompression?
    private let maxSendMessageSize: Int
    var deadlineTimer: ScheduledCallback?
    /// Counts the call in its channel's method metrics (Observability/GRPCMetrics.swift).
    var observer = GRPCCallObserver.none
    /// Called once when the stream is done, to release the connection's slot.
    var onClosed: (() -> Void)?

    /// Queued response messages and their credit, a parked sender (see GRPCBridgedCall).
    var bridge: GRPCCallBridge
    var bridgedStream: HTTP2StreamHandle? { stream }

    // Inbound.
    private var initialMetadata: GRPCMetadata?
    private var status: GRPCStatus?
    private var messageWaiter: CheckedContinuation<ByteBuffer?, Never>?
    private var headWaiters: [CheckedContinuation<GRPCMetadata?, Never>] = []
    private var statusWaiters: [CheckedContinuation<GRPCStatus, Never>] = []

    // Outbound.
    private var sendingFinished = false

    init(loop: EventLoop, path: String, requestCompression: GRPCCompression?, maxReceiveMessageSize: Int, maxSendMessageSize: Int,
         partialMessages: GRPCPartialMessageBudget) {
        self.loop = loop
        self.path = path
        self.requestCompression = requestCompression
        self.maxSendMessageSize = maxSendMessageSize
        self.bridge = GRPCCallBridge(maxReceiveMessageSize: maxReceiveMessageSize, compression: nil, partialMessages: partialMessages)
    }

    var isFinished: Bool { status != nil }
    /// The final status if known (on the loop).
    var currentStatus: GRPCStatus? { status }

    /// Attaches the opened stream (on the loop).
    func attach(_ stream: HTTP2StreamHandle) {
        self.stream = stream
    }

    // MARK: From the stream (on the loop)

    func receiveHeaders(_ headers: [HPACKHeader], endStream: Bool) {
        guard status == nil else { return }
        if initialMetadata == nil {
            let head: GRPCResponseHead
            do {
                guard let parsed = try GRPCResponseHead(parsing: headers, endStream: endStream) else { return }  // informational
                head = parsed
            } catch {
                return fail(error)
            }
            if let compression = head.compression { bridge.compression = compression }
            completeHead(head.metadata)
            if let trailersOnly = head.trailersOnlyStatus { complete(trailersOnly) }
            return
        }
        // Trailers.
        if bridge.hasPartialMessage {
            return fail(GRPCStatus(.internal, "the response ended inside a message"))
        }
        complete(GRPCResponseHead.status(parsingTrailers: headers))
    }

    func receiveData(_ data: ByteBuffer, endStream: Bool) {
        guard status == nil, initialMetadata != nil else {
            discard(data)
            if status == nil { fail(GRPCStatus(.internal, "the server sent a message before its headers")) }
            return
        }
        do {
            try receiveMessages(data)
        } catch {
            return fail(error)
        }
        if endStream {
            fail(GRPCStatus(.internal, "the response ended without trailers"))
        }
        wakeReader()
    }

    /// RST_STREAM from the server. After complete trailers the call keeps their status
    /// (the stream-end rule, docs/architecture.md).
    func receiveReset(_ code: HTTP2ErrorCode) {
        guard status == nil else { return }
        fail(GRPCResponseHead.status(resetBy: code), resetStream: false)
    }

    /// The connection ended before the call completed (`error` says how).
    func connectionLost(_ error: HTTP2ProtocolError) {
        guard status == nil else { return }
        let why = error.code == .noError ? error.reason : "\(error.code): \(error.reason)"
        connectionLost(GRPCStatus(.unavailable, "the connection closed before the call completed (\(why))"))
    }

    /// The connection closed under the call for a reason of its own (the keepalive found the
    /// server unresponsive): the call ends with `status`, no reset (the connection is gone).
    func connectionLost(_ status: GRPCStatus) {
        guard self.status == nil else { return }
        fail(status, resetStream: false)
    }

    /// The stream is gone (closed normally or with the connection).
    func streamClosed() {
        endInbound()
        if status == nil { fail(GRPCStatus(.unavailable, "the connection closed before the call completed"), resetStream: false) }
        failWriter(status!)
        let onClosed = self.onClosed
        self.onClosed = nil
        onClosed?()
    }

    /// Ends the call locally with `status` (deadline, the caller's cancellation or error).
    func cancel(_ status: GRPCStatus) {
        fail(status)
    }

    /// Ends the call with `failure`. A failure found on this side resets the stream with
    /// CANCEL so the server stops; the status is set first, because the reset closes the
    /// stream at once and a close without a status would read as UNAVAILABLE.
    private func fail(_ failure: GRPCStatus, resetStream: Bool = true) {
        guard status == nil else { return }
        complete(failure)
        sendingFinished = true
        if resetStream { stream?.reset(.cancel) }
    }

    private func completeHead(_ metadata: GRPCMetadata) {
        initialMetadata = metadata
        let waiters = headWaiters
        headWaiters.removeAll()
        for waiter in waiters { waiter.resume(returning: metadata) }
    }

    private func complete(_ final: GRPCStatus) {
        status = final
        observer.ended(final.code)
        endInbound()
        deadlineTimer?.cancel()
        deadlineTimer = nil
        if initialMetadata == nil {
            let waiters = headWaiters
            headWaiters.removeAll()
            for waiter in waiters { waiter.resume(returning: nil) }
        }
        let waiters = statusWaiters
        statusWaiters.removeAll()
        for waiter in waiters { waiter.resume(returning: final) }
        wakeReader()
        failWriter(final.code == .ok ? GRPCStatus(.cancelled, "the call already ended with OK") : final)
    }

    private func wakeReader() {
        guard let waiter = messageWaiter, let ready = takeAvailable() else { return }
        messageWaiter = nil
        waiter.resume(returning: ready)
    }

    /// A message, the end (`.some(nil)`: read `status`), or nil when the caller must wait.
    private func takeAvailable() -> ByteBuffer?? {
        if let message = takeMessage() { return .some(message) }
        if status != nil { return .some(nil) }
        return nil
    }

    // MARK: For the caller

    /// The next response message; nil once the response ended (then read `finalStatus()`).
    func nextMessage() async -> ByteBuffer? {
        if loop.inEventLoop, let ready = takeAvailable() { return ready }
        return await suspend { [self] continuation in
            if let ready = takeAvailable() { continuation.resume(returning: ready) } else { messageWaiter = continuation }
        }
    }

    /// The response headers' metadata; nil if the call failed before any arrived.
    func headMetadata() async -> GRPCMetadata? {
        await suspend { [self] continuation in
            if let initialMetadata { continuation.resume(returning: initialMetadata) } else if status != nil {
                continuation.resume(returning: nil)
            } else { headWaiters.append(continuation) }
        }
    }

    /// The call's final status, once it is known.
    func finalStatus() async -> GRPCStatus {
        await suspend { [self] continuation in
            if let status { continuation.resume(returning: status) } else { statusWaiters.append(continuation) }
        }
    }

    /// Sends one message; waits while too much is queued on the stream.
    func send<S: GRPCSerializer>(_ message: S.Message, serializer: S) async throws {
        let framed = try GRPCMessageFramer.frame(message, serializer: serializer, compression: requestCompression,
                                                 maxMessageSize: maxSendMessageSize)
        let mustWait = try await onLoopThrowing(loop) { [self] () throws -> Bool in
            try checkCanSend()
            try stream!.sendData(framed, endStream: false)
            return senderMustWait
        }
        guard mustWait else { return }
        try await suspendThrowing { [self] (continuation: CheckedContinuation<Void, any Error>) in
            if let status, status.code != .ok {
                continuation.resume(throwing: status)
            } else if status != nil {
                continuation.resume()
            } else {
                parkWriter(continuation)
            }
        }
    }

    /// Sends the one request of a unary or server-streaming call and ends the request side.
    func sendOnly<S: GRPCSerializer>(_ message: S.Message, serializer: S) async throws {
        let framed = try GRPCMessageFramer.frame(message, serializer: serializer, compression: requestCompression,
                                                 maxMessageSize: maxSendMessageSize)
        try await onLoopThrowing(loop) { [self] in
            try checkCanSend()
            sendingFinished = true
            try stream!.sendData(framed, endStream: true)
        }
    }

    /// Ends the request side (half-close).
    func finishSending() async throws {
        try await onLoopThrowing(loop) { [self] in
            guard !sendingFinished else { return }
            sendingFinished = true
            guard status == nil, let stream else { return }
            try stream.sendData(ByteBuffer(capacity: 0), endStream: true)
        }
    }

    private func checkCanSend() throws {
        if let status {
            throw status.code == .ok ? GRPCStatus(.internal, "the call already ended with OK; nothing more can be sent") : status
        }
        guard !sendingFinished else { throw GRPCStatus(.internal, "the request side of this call was already finished") }
    }
}
