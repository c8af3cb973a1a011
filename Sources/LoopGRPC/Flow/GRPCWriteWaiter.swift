/// A sender parked until its stream's queued bytes drain (or the call ends). Loop-bound,
/// held by the call that owns the stream.
struct GRPCWriteWaiter {
    private var continuation: CheckedContinuation<Void, any Error>?

    mutating func park(_ continuation: CheckedContinuation<Void, any Error>) {
        self.continuation = continuation
    }

    /// The stream drained: the sender goes on.
    mutating func resume() {
        guard let continuation else { return }
        self.continuation = nil
        continuation.resume()
    }

    /// The call ended: the sender gets `status`. Typed, so nothing is boxed as an error
    /// unless a sender is actually parked (this runs at the end of every call).
    mutating func fail(_ status: GRPCStatus) {
        guard let continuation else { return }
        self.continuation = nil
        continuation.resume(throwing: status)
    }
}
