import Loop

/// An incoming body as an async sequence of buffers. Each buffer handed out returns its
/// flow-control credit to the peer, so a slow consumer slows the sender instead of growing
/// memory (docs/architecture.md, backpressure).
///
/// ```swift
/// for try await chunk in request.body { total += chunk.readableBytes }
/// let whole = try await request.body.collect(upTo: 1 << 20)
/// ```
public struct HTTP2Body: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let storage: HTTP2BodyStorage

    public struct AsyncIterator: AsyncIteratorProtocol {
        let storage: HTTP2BodyStorage
        public mutating func next() async throws -> ByteBuffer? {
            try await storage.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(storage: storage) }

    /// Reads the whole body into one buffer.
    /// - Throws: `HTTP2BodyTooLargeError` past `limit` bytes (the stream is then reset with
    ///   CANCEL), or the stream's reset error.
    public func collect(upTo limit: Int) async throws -> ByteBuffer {
        var whole = ByteBuffer()
        for try await var chunk in self {
            guard whole.readableBytes + chunk.readableBytes <= limit else {
                await storage.cancel()
                throw HTTP2BodyTooLargeError(limit: limit)
            }
            whole.writeBuffer(&chunk)
        }
        return whole
    }

    /// The trailers, once the body has been read to its end (nil if none were sent).
    public var trailers: [HPACKHeader]? {
        get async { await storage.trailersValue() }
    }
}

/// The loop-bound queue behind an ``HTTP2Body``. Touched on the loop only; async callers
/// that are elsewhere hop there.
// @unchecked Sendable: Touched on its connection's loop only; async readers elsewhere hop there.
final class HTTP2BodyStorage: @unchecked Sendable {
    private let stream: HTTP2StreamHandle
    private let loop: EventLoop
    private var chunks: [ByteBuffer] = []
    private var firstChunk = 0
    private var ended = false
    private var failure: (any Error)?
    private var trailers: [HPACKHeader]?
    private var waiter: CheckedContinuation<ByteBuffer?, any Error>?

    init(stream: HTTP2StreamHandle, loop: EventLoop) {
        self.stream = stream
        self.loop = loop
    }

    // Called by the delegate, on the loop.

    func append(_ chunk: ByteBuffer) {
        if let waiter {
            self.waiter = nil
            stream.consumed(chunk.readableBytes)
            waiter.resume(returning: chunk)
        } else {
            chunks.append(chunk)
        }
    }

    /// Takes a DATA frame's payload and END_STREAM flag.
    func receive(_ data: ByteBuffer, endStream: Bool) {
        if data.readableBytes > 0 { append(data) }
        if endStream { finish(trailers: nil) }
    }

    func finish(trailers: [HPACKHeader]?) {
        ended = true
        self.trailers = trailers
        if let waiter, firstChunk == chunks.count {
            self.waiter = nil
            waiter.resume(returning: nil)
        }
    }

    /// Whether the body can still end otherwise than it did (not ended, not failed): checked
    /// before making an error that `fail` would drop (an error is an allocation).
    var isOpen: Bool { !ended && failure == nil }

    /// Ends the body with an error unless it already ended (the stream-end rule (docs/architecture.md): a
    /// complete body stays complete whatever reset follows).
    func fail(_ error: any Error) {
        guard !ended, failure == nil else { return }
        failure = error
        if let waiter {
            self.waiter = nil
            waiter.resume(throwing: error)
        }
    }

    // Called by the application.

    func next() async throws -> ByteBuffer? {
        if loop.inEventLoop, let immediate = try takeAvailable() { return immediate }
        return try await withCheckedThrowingContinuation { continuation in
            let transfer = UncheckedTransfer(continuation)
            let work = { [self] in
                do {
                    if let ready = try takeAvailable() {
                        transfer.value.resume(returning: ready)
                    } else {
                        waiter = transfer.value
                    }
                } catch {
                    transfer.value.resume(throwing: error)
                }
            }
            if loop.inEventLoop {
                work()
            } else {
                let transferWork = UncheckedTransfer(work)
                loop.execute { transferWork.value() }
            }
        }
    }

    /// A chunk, the end (`.some(nil)`), or nil when the caller must wait.
    private func takeAvailable() throws -> ByteBuffer?? {
        if firstChunk < chunks.count {
            let chunk = chunks[firstChunk]
            firstChunk += 1
            if firstChunk == chunks.count {
                chunks.removeAll(keepingCapacity: true)
                firstChunk = 0
            }
            stream.consumed(chunk.readableBytes)
            return .some(chunk)
        }
        if let failure { throw failure }
        if ended { return .some(nil) }
        return nil
    }

    func cancel() async {
        await onLoop(loop) { [self] in
            if !ended { stream.reset(.cancel) }
            fail(HTTP2StreamResetError(code: .cancel))
        }
    }

    func trailersValue() async -> [HPACKHeader]? {
        await onLoop(loop) { [self] in trailers }
    }
}
