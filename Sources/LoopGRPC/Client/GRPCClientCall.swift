import Loop
import LoopHTTP2

/// One call on the client: the loop-bound state between its HTTP/2 stream and the caller's
/// task. The connection's delegate feeds it on the loop; the caller sends and reads through
/// it from anywhere (hopping to the loop when not already there).
final class GRPCClientCall: @unchecked Sendable {
    let loop: EventLoop
    let path: String
    private(set) var stream: HTTP2StreamHandle?
    private let requestCompression: GRPCCompression?
    private let maxSendMessageSize: Int
    var deadlineTimer: ScheduledCallback?
    /// Called once when the stream is done, to release the connection's slot.
    var onClosed: (() -> Void)?

    // Inbound.
    private var deframer: GRPCMessageDeframer
    private var inbound = GRPCInboundMessages()
    private var initialMetadata: GRPCMetadata?
    private var status: GRPCStatus?
    private var messageWaiter: CheckedContinuation<ByteBuffer?, Never>?
    private var headWaiters: [CheckedContinuation<GRPCMetadata?, Never>] = []
    private var statusWaiters: [CheckedContinuation<GRPCStatus, Never>] = []

    // Outbound.
    private var sendingFinished = false
    private var writeWaiter = GRPCWriteWaiter()
    static let writeHighWaterMark = 256 * 1024
    static let writeLowWaterMark = 64 * 1024

    init(loop: EventLoop, path: String, requestCompression: GRPCCompression?, maxReceiveMessageSize: Int, maxSendMessageSize: Int) {
        self.loop = loop
        self.path = path
        self.requestCompression = requestCompression
        self.maxSendMessageSize = maxSendMessageSize
        self.deframer = GRPCMessageDeframer(maxMessageSize: maxReceiveMessageSize, compression: nil)
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
            var httpStatus = 0
            var contentType: String?
            var encoding: String?
            var grpcStatus: String?
            var grpcMessage: String?
            for header in headers {
                switch header.name {
                case ":status": httpStatus = Int(header.value) ?? 0
                case "content-type": contentType = header.value
                case "grpc-encoding": encoding = header.value
                case "grpc-status": grpcStatus = header.value
                case "grpc-message": grpcMessage = header.value
                default: break
                }
            }
            if httpStatus >= 100 && httpStatus < 200 && !endStream { return }  // informational
            let metadata = GRPCMetadata(headers: headers)
            if grpcStatus == nil {
                guard httpStatus == 200 else { return fail(GRPCStatus.mapping(httpStatus: httpStatus)) }
                guard let contentType, contentType.hasPrefix("application/grpc") else {
                    return fail(GRPCStatus(.unknown, "the response's content-type \(contentType.map { "\"\($0)\"" } ?? "(none)") is not gRPC"))
                }
            }
            if let encoding, encoding != "identity" {
                guard let compression = GRPCCompression(headerValue: encoding) else {
                    return fail(GRPCStatus(.internal, "the server used grpc-encoding \"\(encoding)\", which this client does not support"))
                }
                deframer.compression = compression
            }
            if endStream {
                // Trailers-only response.
                completeHead(metadata)
                complete(status(grpcStatus: grpcStatus, grpcMessage: grpcMessage, httpStatus: httpStatus, metadata: metadata))
                return
            }
            completeHead(metadata)
            return
        }
        // Trailers.
        var grpcStatus: String?
        var grpcMessage: String?
        for header in headers {
            if header.name == "grpc-status" { grpcStatus = header.value } else if header.name == "grpc-message" { grpcMessage = header.value }
        }
        if deframer.hasPartialMessage {
            return fail(GRPCStatus(.internal, "the response ended inside a message"))
        }
        complete(status(grpcStatus: grpcStatus, grpcMessage: grpcMessage, httpStatus: 200, metadata: GRPCMetadata(headers: headers)))
    }

    private func status(grpcStatus: String?, grpcMessage: String?, httpStatus: Int, metadata: GRPCMetadata) -> GRPCStatus {
        guard let grpcStatus else {
            var mapped = GRPCStatus.mapping(httpStatus: httpStatus)
            if httpStatus == 200 { mapped = GRPCStatus(.internal, "the response ended without grpc-status") }
            mapped.trailingMetadata = metadata
            return mapped
        }
        return GRPCStatus(GRPCStatus.code(parsing: grpcStatus), grpcMessage.map(GRPCStatusMessage.decode) ?? "", trailingMetadata: metadata)
    }

    func receiveData(_ data: ByteBuffer, endStream: Bool) {
        guard status == nil, initialMetadata != nil else {
            stream?.consumed(data.readableBytes)
            if status == nil { fail(GRPCStatus(.internal, "the server sent a message before its headers")) }
            return
        }
        deframer.append(data)
        do {
            while let message = try deframer.next() { inbound.append(message) }
        } catch {
            stream?.consumed(data.readableBytes)
            return fail(error)
        }
        let credit = inbound.received(data.readableBytes)
        if credit > 0 { stream?.consumed(credit) }
        if endStream {
            fail(GRPCStatus(.internal, "the response ended without trailers"))
        }
        wakeReader()
    }

    /// RST_STREAM from the server (PROTOCOL-HTTP2.md "Errors": HTTP/2 code → gRPC status).
    /// After complete trailers the call keeps their status (DESIGN.md's stream-end rule).
    func receiveReset(_ code: HTTP2ErrorCode) {
        guard status == nil else { return }
        let mapped: GRPCStatus.Code
        switch code {
        case .cancel: mapped = .cancelled
        case .refusedStream: mapped = .unavailable
        case .enhanceYourCalm: mapped = .resourceExhausted
        case .inadequateSecurity: mapped = .permissionDenied
        default: mapped = .internal
        }
        fail(GRPCStatus(mapped, "the server reset the stream with \(code)"), resetStream: false)
    }

    /// The stream is gone (closed normally or with the connection).
    func streamClosed() {
        if status == nil { fail(GRPCStatus(.unavailable, "the connection closed before the call completed"), resetStream: false) }
        writeWaiter.fail(status!)
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
        writeWaiter.fail(final.code == .ok ? GRPCStatus(.cancelled, "the call already ended with OK") : final)
    }

    private func wakeReader() {
        guard let waiter = messageWaiter, let ready = takeAvailable() else { return }
        messageWaiter = nil
        waiter.resume(returning: ready)
    }

    /// A message, the end (`.some(nil)`: read `status`), or nil when the caller must wait.
    private func takeAvailable() -> ByteBuffer?? {
        if let (message, credit) = inbound.take() {
            if credit > 0 { stream?.consumed(credit) }
            return .some(message)
        }
        if status != nil { return .some(nil) }
        return nil
    }

    // MARK: For the caller

    /// The next response message; nil once the response ended (then read `finalStatus()`).
    func nextMessage() async -> ByteBuffer? {
        if loop.inEventLoop, let ready = takeAvailable() { return ready }
        return await withCheckedContinuation { continuation in
            let transfer = UncheckedTransfer(continuation)
            let work = UncheckedTransfer { [self] in
                if let ready = takeAvailable() { transfer.value.resume(returning: ready) } else { messageWaiter = transfer.value }
            }
            if loop.inEventLoop { work.value() } else { loop.execute { work.value() } }
        }
    }

    /// The response headers' metadata; nil if the call failed before any arrived.
    func headMetadata() async -> GRPCMetadata? {
        await withCheckedContinuation { continuation in
            let transfer = UncheckedTransfer(continuation)
            let work = UncheckedTransfer { [self] in
                if let initialMetadata { transfer.value.resume(returning: initialMetadata) } else if status != nil {
                    transfer.value.resume(returning: nil)
                } else { headWaiters.append(transfer.value) }
            }
            if loop.inEventLoop { work.value() } else { loop.execute { work.value() } }
        }
    }

    /// The call's final status, once it is known.
    func finalStatus() async -> GRPCStatus {
        await withCheckedContinuation { continuation in
            let transfer = UncheckedTransfer(continuation)
            let work = UncheckedTransfer { [self] in
                if let status { transfer.value.resume(returning: status) } else { statusWaiters.append(transfer.value) }
            }
            if loop.inEventLoop { work.value() } else { loop.execute { work.value() } }
        }
    }

    /// Sends one message; waits while too much is queued on the stream.
    func send<S: GRPCSerializer>(_ message: S.Message, serializer: S) async throws {
        let framed = try GRPCMessageFramer.frame(message, serializer: serializer, compression: requestCompression,
                                                 maxMessageSize: maxSendMessageSize)
        let mustWait = try await onLoopThrowing(loop) { [self] () throws -> Bool in
            try checkCanSend()
            try stream!.sendData(framed, endStream: false)
            return stream!.bufferedBytes > Self.writeHighWaterMark
        }
        guard mustWait else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let transfer = UncheckedTransfer(continuation)
            let wait = UncheckedTransfer { [self] in
                if let status, status.code != .ok {
                    transfer.value.resume(throwing: status)
                } else if stream == nil || status != nil || stream!.bufferedBytes <= Self.writeLowWaterMark {
                    transfer.value.resume()
                } else {
                    writeWaiter.park(transfer.value)
                    stream!.notifyWhenBuffered(atMost: Self.writeLowWaterMark)
                }
            }
            if loop.inEventLoop { wait.value() } else { loop.execute { wait.value() } }
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

    /// The stream drained below the low-water mark.
    func writable() {
        writeWaiter.resume()
    }
}
