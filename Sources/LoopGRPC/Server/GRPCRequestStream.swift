import Loop
import LoopHTTP2

/// The request messages of a client-streaming or bidirectional call, as they arrive.
/// Taking a message returns its flow-control credit, so a slow handler slows the client.
///
/// ```swift
/// var total = 0
/// for try await request in requests { total += request.payload.body.count }
/// ```
public struct GRPCRequestStream<Message: Sendable>: AsyncSequence, Sendable {
    public typealias Element = Message
    let call: GRPCServerCall
    let decode: @Sendable (ByteBuffer) throws -> Message

    public struct AsyncIterator: AsyncIteratorProtocol {
        let call: GRPCServerCall
        let decode: @Sendable (ByteBuffer) throws -> Message

        public mutating func next() async throws -> Message? {
            guard let bytes = try await call.nextMessage() else { return nil }
            return try decode(bytes)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(call: call, decode: decode) }
}

/// Sends the response messages of a server-streaming or bidirectional call. The response
/// headers go out with the first message. `send` waits while more than 256 KiB are queued
/// on the stream (flow control or a slow client), so memory stays bounded.
///
/// ```swift
/// for size in sizes { try await response.send(Reply.with { $0.size = size }) }
/// ```
public struct GRPCResponseWriter<Message: Sendable>: Sendable {
    /// The call's stream, or nil for an in-process call (``GRPCLocalCaller``), whose messages
    /// go to `local` as they are.
    let call: GRPCServerCall?
    let encode: @Sendable (Message) throws(GRPCStatus) -> ByteBuffer
    let local: (@Sendable (Message) async throws -> Void)?

    init(call: GRPCServerCall, encode: @escaping @Sendable (Message) throws(GRPCStatus) -> ByteBuffer) {
        self.call = call
        self.encode = encode
        self.local = nil
    }

    /// A writer handing each message to `local` (in-process calls: nothing is serialized).
    init(local: @escaping @Sendable (Message) async throws -> Void) {
        self.call = nil
        self.encode = { _ throws(GRPCStatus) in throw GRPCStatus(.internal, "an in-process call's messages are not encoded") }
        self.local = local
    }

    /// Sends one message.
    /// - Throws: `GRPCStatus(.cancelled)` once the client went away, `.resourceExhausted`
    ///   past the send limit.
    public func send(_ message: Message) async throws {
        guard let call else { return try await local!(message) }
        let framed = try encode(message)
        // On the loop with room in the stream: no further async call (each one costs an
        // executor check in the concurrency runtime).
        if call.loop.inEventLoop, try call.sendNow(framed) { return }
        try await call.send(framed)
    }

    /// Sends the response headers now, before any message (they carry the initial metadata
    /// added to the context so far).
    public func sendHeaders() async throws {
        guard let call else { return }
        try await onLoopThrowing(call.loop) { try call.sendHeadIfNeeded() }
    }
}
