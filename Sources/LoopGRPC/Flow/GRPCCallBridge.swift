import Loop
import LoopHTTP2

/// What a call's HTTP/2 stream and its async side (the server's handler, the client's
/// caller) share, on the loop: received DATA deframed into queued messages, with the
/// flow-control credit returned as they are taken (held back while the reader falls
/// behind, DESIGN.md principle 5); and sends bounded by water marks, a sender parked while
/// more than `writeHighWaterMark` bytes are queued on the stream until they drain to
/// `writeLowWaterMark`. What the call's status means for its readers and writers stays
/// with the call (the server and the client end calls differently).
///
/// Both `GRPCServerCall` and `GRPCClientCall` keep one as a stored value: it allocates
/// nothing of its own. Loop-bound like its owner.
///
/// ```swift
/// var bridge = GRPCCallBridge(stream: stream, maxReceiveMessageSize: 4 << 20, compression: nil)
/// try bridge.receive(data)                       // on DATA; credit goes back as due
/// let message = bridge.takeMessage()             // for the reader
/// try stream.sendData(framed, endStream: false)
/// if bridge.senderMustWait { /* park the sender with parkWriter */ }
/// ```
struct GRPCCallBridge {
    /// A sender waits while more than this many bytes are queued on its stream...
    static let writeHighWaterMark = 256 * 1024
    /// ...and goes on once they drained to this many.
    static let writeLowWaterMark = 64 * 1024

    /// The call's stream; nil on the client until the stream is opened.
    var stream: HTTP2StreamHandle?
    private var deframer: GRPCMessageDeframer
    private var inbound = GRPCInboundMessages()
    private var writeWaiter = GRPCWriteWaiter()

    init(stream: HTTP2StreamHandle?, maxReceiveMessageSize: Int, compression: GRPCCompression?) {
        self.stream = stream
        self.deframer = GRPCMessageDeframer(maxMessageSize: maxReceiveMessageSize, compression: compression)
    }

    // MARK: Inbound

    /// The peer's `grpc-encoding` (the client learns it from the response head).
    var compression: GRPCCompression? {
        get { deframer.compression }
        set { deframer.compression = newValue }
    }

    /// Whether bytes of an incomplete message are buffered (an error at the end of the stream).
    var hasPartialMessage: Bool { deframer.hasPartialMessage }

    /// Whether exactly one message is queued.
    var hasSingleMessage: Bool { inbound.hasSingleMessage }

    /// Deframes a DATA payload and queues its messages; the payload's credit goes back to
    /// the stream now unless the queue is past its high-water mark.
    /// - Throws: the status that ends the call for a bad message (invalid prefix, over the
    ///   size limit, undecodable); the payload's credit is returned first, as nothing will
    ///   read it.
    mutating func receive(_ data: ByteBuffer) throws(GRPCStatus) {
        let bytes = data.readableBytes
        guard bytes > 0 else { return }
        deframer.append(data)
        do {
            while let message = try deframer.next() { inbound.append(message) }
        } catch {
            stream?.consumed(bytes)
            throw error
        }
        let credit = inbound.received(bytes)
        if credit > 0 { stream?.consumed(credit) }
    }

    /// Returns the credit of DATA the call no longer reads (it has ended).
    func discard(_ data: ByteBuffer) {
        stream?.consumed(data.readableBytes)
    }

    /// The oldest queued message, returning the credit held back for it; nil when none is queued.
    mutating func takeMessage() -> ByteBuffer? {
        guard let (message, credit) = inbound.take() else { return nil }
        if credit > 0 { stream?.consumed(credit) }
        return message
    }

    // MARK: Outbound

    /// Whether more than the high-water mark is queued on the stream: the sender should
    /// wait (`parkWriter`) before sending more.
    var senderMustWait: Bool { (stream?.bufferedBytes ?? 0) > Self.writeHighWaterMark }

    /// Parks a sender until the stream drains to the low-water mark (`writable`) or the call
    /// ends (`failWriter`); resumes it at once if it already has.
    mutating func parkWriter(_ continuation: CheckedContinuation<Void, any Error>) {
        guard let stream, stream.bufferedBytes > Self.writeLowWaterMark else { return continuation.resume() }
        writeWaiter.park(continuation)
        stream.notifyWhenBuffered(atMost: Self.writeLowWaterMark)
    }

    /// The stream drained to the low-water mark: a parked sender goes on.
    mutating func writable() {
        writeWaiter.resume()
    }

    /// The call ended: a parked sender gets `status` (nothing happens when none is parked,
    /// which is every call's usual end).
    mutating func failWriter(_ status: GRPCStatus) {
        writeWaiter.fail(status)
    }

    // MARK: Suspending for the loop

    /// Suspends the calling task until `park`, run on `loop` (at once when already there),
    /// resumes the continuation it is handed (now, or later from a stream event).
    @inline(__always)
    static func suspend<T>(on loop: EventLoop, _ park: @escaping (CheckedContinuation<T, Never>) -> Void) async -> T {
        await withCheckedContinuation { continuation in
            if loop.inEventLoop {
                park(continuation)
            } else {
                let work = UncheckedTransfer { park(continuation) }
                loop.execute { work.value() }
            }
        }
    }

    /// `suspend` for a continuation that may be resumed with an error.
    @inline(__always)
    static func suspendThrowing<T>(on loop: EventLoop, _ park: @escaping (CheckedContinuation<T, any Error>) -> Void) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            if loop.inEventLoop {
                park(continuation)
            } else {
                let work = UncheckedTransfer { park(continuation) }
                loop.execute { work.value() }
            }
        }
    }
}
