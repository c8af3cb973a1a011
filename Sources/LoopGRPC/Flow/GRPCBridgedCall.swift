import Loop
import LoopHTTP2

/// A call whose stream and async side meet in a ``GRPCCallBridge``: `GRPCServerCall` and
/// `GRPCClientCall`. This extension is the one piece of I/O between them: credit handed to
/// the stream, the write water marks checked against it, senders parked until it drains,
/// and the caller's task suspended until the loop has an answer. Everything here runs on
/// the call's loop (the suspend helpers hop there).
///
/// Stream calls are made after the bridge's mutation has ended: `consumed` may dispatch
/// stream events, which reach this call again (`writable`, `streamClosed`).
///
/// ```swift
/// final class MyCall: GRPCBridgedCall {
///     let loop: EventLoop
///     var bridge = GRPCCallBridge(maxReceiveMessageSize: 4 << 20, compression: nil, partialMessages: budget)
///     var bridgedStream: HTTP2StreamHandle? { stream }
///     ...
/// }
/// try call.receiveMessages(data)          // on DATA
/// let next = call.takeMessage()           // for the reader
/// ```
protocol GRPCBridgedCall: GRPCPartialMessageWaiter {
    var loop: EventLoop { get }
    /// The call's stream; nil on the client until it is opened.
    var bridgedStream: HTTP2StreamHandle? { get }
    var bridge: GRPCCallBridge { get set }
}

extension GRPCBridgedCall {
    // MARK: Inbound

    /// Deframes a DATA payload into the bridge and gives back the credit due now.
    /// - Throws: the status that ends the call for a bad message (the payload's credit is
    ///   given back first: nothing will read it).
    func receiveMessages(_ data: ByteBuffer) throws(GRPCStatus) {
        let credit: Int
        do {
            credit = try bridge.receive(data)
        } catch {
            discard(data)
            throw error
        }
        if credit > 0 { bridgedStream?.consumed(credit) }
        if !bridge.budgetWork.isEmpty { doBudgetWork() }
    }

    /// Gives back the credit of DATA the call no longer reads (it has ended), with that of
    /// an unfinished message it held.
    func discard(_ data: ByteBuffer) {
        endInbound()
        bridgedStream?.consumed(data.readableBytes)
    }

    /// The call stopped reading (it failed, ended, or its stream closed): an unfinished
    /// message is dropped, its held credit goes back and its place in the connection's
    /// budget is freed for other calls. Cheap when nothing is unfinished.
    func endInbound() {
        let credit = bridge.endInbound()
        if credit > 0 { bridgedStream?.consumed(credit) }
        if !bridge.budgetWork.isEmpty { doBudgetWork() }
    }

    /// The oldest queued message, giving back the credit held for it; nil when none is queued.
    func takeMessage() -> ByteBuffer? {
        guard let (message, credit) = bridge.takeMessage() else { return nil }
        if credit > 0 { bridgedStream?.consumed(credit) }
        if !bridge.budgetWork.isEmpty { doBudgetWork() }
        return message
    }

    /// The connection's budget reserved `bytes` for this call's unfinished message: its
    /// held credit goes back (GRPCPartialMessageWaiter).
    func partialMessageGranted(_ bytes: Int) {
        let credit = bridge.granted(bytes)
        if credit > 0 { bridgedStream?.consumed(credit) }
    }

    /// Carries out the budget steps the bridge left (after its mutation ended: granting
    /// other calls reaches their streams).
    private func doBudgetWork() {
        let work = bridge.takeBudgetWork()
        let budget = bridge.partialMessages
        if work.leaveLine { budget.remove(self) }
        if let bytes = work.enqueue { budget.enqueue(self, bytes: bytes) }
        if work.grantWaiters { budget.grantWaiters() }
    }

    // MARK: Outbound

    /// Whether more than the high-water mark is queued on the stream, or the connection's
    /// queued DATA is over its budget (`HTTP2Configuration.maxQueuedOutboundBytes`, so 1,000
    /// calls cannot each queue the per-stream mark): the sender waits (`parkWriter`).
    var senderMustWait: Bool {
        bridgedStream?.isAboveWaterMark(GRPCCallBridge.writeHighWaterMark) ?? false
    }

    /// Parks a sender until the stream drains to the low-water mark (`writable`) or the call
    /// ends (`failWriter`); resumes it at once if it already has.
    func parkWriter(_ continuation: CheckedContinuation<Void, any Error>) {
        guard let stream = bridgedStream, !stream.isBelowWaterMark(GRPCCallBridge.writeLowWaterMark) else {
            return continuation.resume()
        }
        bridge.parkWriter(continuation)
        stream.notifyWhenBuffered(atMost: GRPCCallBridge.writeLowWaterMark)
    }

    /// The stream drained below the low-water mark: a parked sender goes on.
    func writable() {
        bridge.writable()
    }

    /// The call ended: a parked sender gets `status`.
    func failWriter(_ status: GRPCStatus) {
        bridge.failWriter(status)
    }

    // MARK: Suspending for the loop

    /// Suspends the calling task until `park`, run on the loop (at once when already
    /// there), resumes the continuation it is handed (now, or later from a stream event).
    @inline(__always)
    func suspend<T>(_ park: @escaping (CheckedContinuation<T, Never>) -> Void) async -> T {
        let loop = self.loop
        return await withCheckedContinuation { continuation in
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
    func suspendThrowing<T>(_ park: @escaping (CheckedContinuation<T, any Error>) -> Void) async throws -> T {
        let loop = self.loop
        return try await withCheckedThrowingContinuation { continuation in
            if loop.inEventLoop {
                park(continuation)
            } else {
                let work = UncheckedTransfer { park(continuation) }
                loop.execute { work.value() }
            }
        }
    }
}
