import Loop

/// The state a call keeps between its HTTP/2 stream and its async side (the server's
/// handler, the client's caller): received DATA deframed into queued messages with the
/// flow-control credit that goes with them (returned at once while the reader keeps up,
/// held back once it falls behind: docs/architecture.md, backpressure), the write water marks, and a
/// sender parked until the stream drains. The server call and the client call each keep
/// one as a stored value (no allocation of its own); ``GRPCBridgedCall`` connects it to
/// the stream and the loop, once for both.
///
/// I/O-free: bytes in, messages and credit out; the owner hands the credit to its stream
/// after the mutation, so a stream callback that reaches the call again never finds the
/// bridge in the middle of a change.
///
/// ```swift
/// var bridge = GRPCCallBridge(maxReceiveMessageSize: 4 << 20, compression: nil)
/// let credit = try bridge.receive(data)              // on DATA
/// if credit > 0 { stream.consumed(credit) }
/// if let (message, more) = bridge.takeMessage() { ... }
/// ```
struct GRPCCallBridge {
    /// A sender waits while more than this many bytes are queued on its stream...
    static let writeHighWaterMark = 256 * 1024
    /// ...and goes on once they drained to this many.
    static let writeLowWaterMark = 64 * 1024

    private var deframer: GRPCMessageDeframer
    private var inbound = GRPCInboundMessages()
    private var writeWaiter = GRPCWriteWaiter()

    init(maxReceiveMessageSize: Int, compression: GRPCCompression?) {
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

    /// Deframes a DATA payload and queues its messages. Returns the credit to give back
    /// now (none while the queue is past its high-water mark: it is held for `takeMessage`).
    /// - Throws: the status that ends the call for a bad message (invalid prefix, over the
    ///   size limit, undecodable); the payload's credit is then the owner's to return.
    mutating func receive(_ data: ByteBuffer) throws(GRPCStatus) -> Int {
        let bytes = data.readableBytes
        guard bytes > 0 else { return 0 }
        deframer.append(data)
        while let message = try deframer.next() { inbound.append(message) }
        return inbound.received(bytes)
    }

    /// The oldest queued message and the held-back credit taking it frees; nil when none is queued.
    mutating func takeMessage() -> (message: ByteBuffer, credit: Int)? {
        inbound.take()
    }

    // MARK: Outbound

    /// Whether a sender should wait after sending, with `bufferedBytes` queued on its stream.
    static func senderMustWait(bufferedBytes: Int) -> Bool {
        bufferedBytes > writeHighWaterMark
    }

    /// Whether a waiting sender may go on, with `bufferedBytes` queued on its stream.
    static func senderMayGoOn(bufferedBytes: Int) -> Bool {
        bufferedBytes <= writeLowWaterMark
    }

    /// Parks a sender until `writable` or `failWriter`.
    mutating func parkWriter(_ continuation: CheckedContinuation<Void, any Error>) {
        writeWaiter.park(continuation)
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
}
