import Loop

/// The sending side of one stream for async code: head, body with backpressure, trailers.
/// Loop-bound state; async callers elsewhere hop to the loop.
// @unchecked Sendable: Touched on its connection's loop only; async writers elsewhere hop there.
final class HTTP2WriterStorage: @unchecked Sendable {
    let stream: HTTP2StreamHandle
    let loop: EventLoop
    private(set) var headSent = false
    private(set) var finished = false
    private var failure: (any Error)?
    private var waiter: CheckedContinuation<Void, any Error>?
    /// A write waits while more than this is queued on the stream...
    static let highWaterMark = 256 * 1024
    /// ...until it drains to this.
    static let lowWaterMark = 64 * 1024

    init(stream: HTTP2StreamHandle, loop: EventLoop) {
        self.stream = stream
        self.loop = loop
    }

    /// Records a head sent by other means (a client's request head).
    func markHeadSent(finished: Bool) {
        headSent = true
        self.finished = finished
    }

    func sendHead(_ headers: [HPACKHeader], endStream: Bool) async throws {
        let work = { [self] () throws -> Void in
            try checkOpen()
            guard !headSent else { throw HTTP2WriterError.headAlreadySent }
            headSent = true
            if endStream { finished = true }
            try stream.sendHeaders(headers, endStream: endStream)
        }
        if loop.inEventLoop { return try work() }
        try await onLoopThrowing(loop) { try work() }
    }

    /// A whole response: the head and, if any, the body with END_STREAM, in one hop.
    func respond(_ headers: [HPACKHeader], body: ByteBuffer?) async throws {
        let work = { [self] () throws -> Void in
            try checkOpen()
            guard !headSent else { throw HTTP2WriterError.headAlreadySent }
            headSent = true
            finished = true
            guard let body, body.readableBytes > 0 else {
                return try stream.sendHeaders(headers, endStream: true)
            }
            try stream.sendHeaders(headers, endStream: false)
            try stream.sendData(body, endStream: true)
        }
        if loop.inEventLoop { return try work() }
        try await onLoopThrowing(loop) { try work() }
    }

    func write(_ data: ByteBuffer) async throws {
        let mustWait = try await onLoopThrowing(loop) { [self] () throws -> Bool in
            try checkOpen()
            guard headSent else { throw HTTP2WriterError.headNotSent }
            try stream.sendData(data, endStream: false)
            return stream.isAboveWaterMark(HTTP2WriterStorage.highWaterMark)
        }
        guard mustWait else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let transfer = UncheckedTransfer(continuation)
            let wait = UncheckedTransfer { [self] in
                if let failure {
                    transfer.value.resume(throwing: failure)
                } else if stream.isBelowWaterMark(HTTP2WriterStorage.lowWaterMark) {
                    transfer.value.resume()
                } else {
                    waiter = transfer.value
                    stream.notifyWhenBuffered(atMost: HTTP2WriterStorage.lowWaterMark)
                }
            }
            if loop.inEventLoop { wait.value() } else { loop.execute { wait.value() } }
        }
    }

    /// Ends the stream: trailers if given, else an empty DATA with END_STREAM. Sends a head
    /// of `defaultStatus` first if none was sent.
    func finish(trailers: [HPACKHeader]?, defaultStatus: Int?) async throws {
        // On the loop already (handlers run there): no hop, nothing allocated.
        if loop.inEventLoop { return try finishOnLoop(trailers: trailers, defaultStatus: defaultStatus) }
        try await onLoopThrowing(loop) { [self] in
            try finishOnLoop(trailers: trailers, defaultStatus: defaultStatus)
        }
    }

    func finishOnLoop(trailers: [HPACKHeader]?, defaultStatus: Int?) throws {
        guard !finished else { return }
        try checkOpen()
        if !headSent {
            // Made only when needed: most handlers sent their head already.
            guard let defaultHead = defaultStatus.map({ HTTP2ResponseHead(status: $0).headerList }) else { throw HTTP2WriterError.headNotSent }
            headSent = true
            finished = true
            if let trailers, !trailers.isEmpty {
                try stream.sendHeaders(defaultHead, endStream: false)
                try stream.sendTrailers(trailers)
            } else {
                try stream.sendHeaders(defaultHead, endStream: true)
            }
            return
        }
        finished = true
        if let trailers, !trailers.isEmpty {
            try stream.sendTrailers(trailers)
        } else {
            try stream.sendData(ByteBuffer(capacity: 0), endStream: true)
        }
    }

    private func checkOpen() throws {
        if let failure { throw failure }
        guard !finished else { throw HTTP2WriterError.alreadyFinished }
    }

    // From the delegate.

    func writable() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        }
    }

    func fail(_ error: any Error) {
        if failure == nil { failure = error }
        if let waiter {
            self.waiter = nil
            waiter.resume(throwing: error)
        }
    }

    /// Marks the stream done without sending (it closed normally).
    func closed() {
        finished = true
        writable()
    }
}

/// Misuse of a stream writer.
public enum HTTP2WriterError: Error, Equatable, CustomStringConvertible {
    case headAlreadySent
    case headNotSent
    case alreadyFinished

    public var description: String {
        switch self {
        case .headAlreadySent: return "HTTP2WriterError.headAlreadySent: the head was already sent; send trailers with finish(trailers:)"
        case .headNotSent: return "HTTP2WriterError.headNotSent: send the head before the body"
        case .alreadyFinished: return "HTTP2WriterError.alreadyFinished: the stream was already finished"
        }
    }
}
