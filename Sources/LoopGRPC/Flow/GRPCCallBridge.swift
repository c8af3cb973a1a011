import Loop

/// The state a call keeps between its HTTP/2 stream and its async side (the server's
/// handler, the client's caller): received DATA deframed into queued messages with the
/// flow-control credit that goes with them (returned at once while the reader keeps up,
/// held back once it falls behind: docs/architecture.md, backpressure), the write water marks, and a
/// sender parked until the stream drains.
///
/// Bytes of a message not yet complete hold their credit too, until the message is
/// complete (then they count like any queued message), unless the message was granted a
/// reservation in the connection's ``GRPCPartialMessageBudget`` (a message larger than the
/// stream's window, or held bytes past the connection's limit): then its bytes' credit
/// goes back at once. The type comment of the budget says why. The server call and the client call each keep
/// one as a stored value (no allocation of its own); ``GRPCBridgedCall`` connects it to
/// the stream and the loop, once for both.
///
/// I/O-free: bytes in, messages and credit out; the owner hands the credit to its stream
/// after the mutation, so a stream callback that reaches the call again never finds the
/// bridge in the middle of a change.
///
/// ```swift
/// var bridge = GRPCCallBridge(maxReceiveMessageSize: 4 << 20, compression: nil, partialMessages: budget)
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

    /// The connection's budget for unfinished messages, shared by its calls.
    let partialMessages: GRPCPartialMessageBudget
    /// Bytes of the unfinished message whose credit is held.
    private(set) var heldPartialBytes = 0
    /// Bytes reserved in the budget for the unfinished message (0: none); while reserved,
    /// its bytes' credit goes back at once.
    private(set) var reservation = 0
    /// Whether the call waits in the budget's line.
    private var waitingForGrant = false
    /// What the owner is to do in the budget once this mutation ended (the budget's line
    /// holds calls, which the bridge does not know, and granting others reaches their streams).
    private(set) var budgetWork = BudgetWork()

    /// Budget steps left to the owner (``GRPCBridgedCall``).
    struct BudgetWork {
        /// Wait in line for a reservation of this many bytes.
        var enqueue: Int?
        /// Leave the line (the message completed or the call stopped reading).
        var leaveLine = false
        /// A reservation was given back while calls wait: grant them.
        var grantWaiters = false

        var isEmpty: Bool { enqueue == nil && !leaveLine && !grantWaiters }
    }

    init(maxReceiveMessageSize: Int, compression: GRPCCompression?, partialMessages: GRPCPartialMessageBudget) {
        self.deframer = GRPCMessageDeframer(maxMessageSize: maxReceiveMessageSize, compression: compression)
        self.partialMessages = partialMessages
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
    /// - Throws: also RESOURCE_EXHAUSTED when the connection's held bytes of unfinished
    ///   messages are past their limit and this call's message cannot be granted (see
    ///   ``GRPCPartialMessageBudget``).
    mutating func receive(_ data: ByteBuffer) throws(GRPCStatus) -> Int {
        let bytes = data.readableBytes
        guard bytes > 0 else { return 0 }
        deframer.append(data)
        var completed = false
        while let message = try deframer.next() {
            inbound.append(message)
            completed = true
        }
        let heldBefore = heldPartialBytes
        var credit = 0
        // Bytes of this payload left in the (new) unfinished message.
        var partial = bytes
        if completed {
            // The common case ends here: whole messages, nothing left over, nothing held.
            partial = deframer.bufferedBytes
            credit = inbound.received(heldPartialBytes + bytes - partial)
            endPartialMessage()
        }
        guard partial > 0 else { return credit }
        if reservation > 0 { return credit + partial }
        heldPartialBytes += partial
        partialMessages.held += partial
        do {
            return credit + (try admitPartialMessage(underPressure: partialMessages.heldOverLimit))
        } catch {
            // The owner gives back the payload's credit and then (endInbound) what is held:
            // held is what it was before this payload, so nothing is returned twice.
            partialMessages.held += heldBefore - heldPartialBytes
            heldPartialBytes = heldBefore
            throw error
        }
    }

    /// The oldest queued message and the held-back credit taking it frees (including that of
    /// an unfinished message granted now that the reader caught up); nil when none is queued.
    mutating func takeMessage() -> (message: ByteBuffer, credit: Int)? {
        guard var taken = inbound.take() else { return nil }
        if heldPartialBytes > 0, reservation == 0, !waitingForGrant {
            // Cannot throw: not under pressure.
            taken.credit += (try? admitPartialMessage(underPressure: false)) ?? 0
        }
        return taken
    }

    /// Whether the unfinished message needs a reservation, and gets one or a place in line;
    /// returns the held credit a reservation frees.
    private mutating func admitPartialMessage(underPressure: Bool) throws(GRPCStatus) -> Int {
        guard let messageBytes = deframer.currentMessageBytes else { return 0 }  // Prefix not in yet.
        guard messageBytes > partialMessages.windowLimit || underPressure else { return 0 }  // Fits the window.
        // A reader that fell behind holds the credit (GRPCInboundMessages); taking a message retries.
        guard inbound.queuedBytes <= GRPCInboundMessages.highWaterMark else { return 0 }
        if !waitingForGrant, partialMessages.reserve(messageBytes) {
            return granted(messageBytes)
        }
        if underPressure {
            throw GRPCStatus(.resourceExhausted, "unfinished messages on this connection hold more than \(partialMessages.heldLimit) bytes "
                + "and \(partialMessages.reserved) bytes are granted to others (maxPartialMessageBytesPerConnection \(partialMessages.limit))")
        }
        if !waitingForGrant {
            waitingForGrant = true
            budgetWork.enqueue = messageBytes
        }
        return 0
    }

    /// The budget steps to take now (see ``BudgetWork``), once.
    mutating func takeBudgetWork() -> BudgetWork {
        defer { budgetWork = BudgetWork() }
        return budgetWork
    }

    /// The budget reserved `bytes` for the unfinished message; returns the credit it frees.
    mutating func granted(_ bytes: Int) -> Int {
        waitingForGrant = false
        reservation = bytes
        deframer.reserveCapacityForCurrentMessage()
        let credit = heldPartialBytes
        partialMessages.held -= heldPartialBytes
        heldPartialBytes = 0
        return credit
    }

    /// The unfinished message is complete (or dropped): its held bytes and reservation leave
    /// the budget, and the call its line.
    private mutating func endPartialMessage() {
        if heldPartialBytes > 0 {
            partialMessages.held -= heldPartialBytes
            heldPartialBytes = 0
        }
        if reservation > 0 {
            partialMessages.release(reservation)
            reservation = 0
            if partialMessages.hasWaiters { budgetWork.grantWaiters = true }
        }
        if waitingForGrant {
            waitingForGrant = false
            if budgetWork.enqueue != nil {
                budgetWork.enqueue = nil  // Never entered the line.
            } else {
                budgetWork.leaveLine = true
                budgetWork.grantWaiters = true  // The first in line may have been this call.
            }
        }
    }

    /// The call stopped reading: the unfinished message is dropped. Returns its held credit
    /// (nothing will read it); the owner then takes ``budgetWork``.
    mutating func endInbound() -> Int {
        let credit = heldPartialBytes
        deframer.discardBuffered()
        endPartialMessage()
        return credit
    }

    // MARK: Outbound

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
