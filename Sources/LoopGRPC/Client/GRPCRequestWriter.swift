import Loop
import LoopHTTP2

/// Sends the request messages of a client-streaming or bidirectional call. `send` waits
/// while more than 256 KiB are queued (flow control or a slow server).
///
/// ```swift
/// for chunk in chunks { try await requests.send(chunk) }
/// try await requests.finish()   // optional: done for you when the closure returns
/// ```
public struct GRPCRequestWriter<Message: Sendable>: Sendable {
    let call: GRPCClientCall
    let send: @Sendable (GRPCClientCall, Message) async throws -> Void

    /// Sends one message.
    /// - Throws: the call's status once it ended (e.g. cancelled, deadline exceeded).
    public func send(_ message: Message) async throws {
        try await send(call, message)
    }

    /// Ends the request stream (half-close): the server sees the end of its requests.
    public func finish() async throws {
        try await call.finishSending()
    }
}

/// The response messages of a server-streaming or bidirectional call. Iterating ends
/// normally when the call ends with OK and throws its `GRPCStatus` otherwise.
///
/// ```swift
/// for try await reply in responses { print(reply) }
/// let trailers = try await responses.trailingMetadata
/// ```
public struct GRPCResponseStream<Message: Sendable>: AsyncSequence, Sendable {
    public typealias Element = Message
    let call: GRPCClientCall
    let decode: @Sendable (ByteBuffer) throws -> Message

    public struct AsyncIterator: AsyncIteratorProtocol {
        let call: GRPCClientCall
        let decode: @Sendable (ByteBuffer) throws -> Message

        public mutating func next() async throws -> Message? {
            if let bytes = await call.nextMessage() {
                do {
                    return try decode(bytes)
                } catch {
                    let status = GRPCStatus(.internal, "could not parse the response message: \(error)")
                    await call.cancelFromCaller(status)
                    throw status
                }
            }
            let status = await call.finalStatus()
            guard status.code == .ok else { throw status }
            return nil
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(call: call, decode: decode) }

    /// Metadata from the response headers (waits for them).
    /// - Throws: the call's status if it failed before any headers arrived.
    public var initialMetadata: GRPCMetadata {
        get async throws {
            if let metadata = await call.headMetadata() { return metadata }
            throw await call.finalStatus()
        }
    }

    /// Metadata from the trailers (waits for the end of the call; also available when it
    /// failed).
    public var trailingMetadata: GRPCMetadata {
        get async { await call.finalStatus().trailingMetadata }
    }

    /// The call's final status (waits for the end of the call).
    public var status: GRPCStatus {
        get async { await call.finalStatus() }
    }
}

extension GRPCClientCall {
    /// Cancels from the caller's side, hopping to the loop.
    func cancelFromCaller(_ status: GRPCStatus) async {
        await onLoop(loop) { self.cancel(status) }
    }
}
