import Testing
import Loop
@testable import LoopGRPC

/// Unfinished messages and flow control (issue #9, item 6), I/O-free: DATA in, credit out,
/// through calls that share one connection's ``GRPCPartialMessageBudget``. The credit of an
/// unfinished message's bytes is held until it is complete; a message larger than the stream
/// window is granted within the connection's budget (and so completes); calls past the budget
/// wait in line; held bytes past the connection's limit are granted or end the call.
@Suite struct GRPCPartialMessageBudgetTests {
    /// One call on the connection: a bridge plus the owner's budget steps, as
    /// GRPCBridgedCall does them, with the credit given back added up instead of sent.
    final class Call: GRPCPartialMessageWaiter {
        var bridge: GRPCCallBridge
        /// Credit the call gave back to its stream so far.
        var credit = 0

        init(_ budget: GRPCPartialMessageBudget, maxMessage: Int = 8 << 20) {
            bridge = GRPCCallBridge(maxReceiveMessageSize: maxMessage, compression: nil, partialMessages: budget)
        }

        func receive(_ data: ByteBuffer) throws(GRPCStatus) {
            credit += try bridge.receive(data)
            settle()
        }

        func take() -> ByteBuffer? {
            guard let (message, credit) = bridge.takeMessage() else { return nil }
            self.credit += credit
            settle()
            return message
        }

        func end() {
            credit += bridge.endInbound()
            settle()
        }

        func partialMessageGranted(_ bytes: Int) {
            credit += bridge.granted(bytes)
        }

        private func settle() {
            let work = bridge.takeBudgetWork()
            if work.leaveLine { bridge.partialMessages.remove(self) }
            if let bytes = work.enqueue { bridge.partialMessages.enqueue(self, bytes: bytes) }
            if work.grantWaiters { bridge.partialMessages.grantWaiters() }
        }
    }

    /// A framed message of `size` payload bytes (prefix included in its readable bytes).
    func message(_ size: Int, byte: UInt8 = 7) -> ByteBuffer {
        var framed = ByteBuffer(capacity: size + 5)
        framed.writeInteger(UInt8(0))
        framed.writeInteger(UInt32(size))
        framed.writeBytes([UInt8](repeating: byte, count: size))
        return framed
    }

    /// `buffer` cut into DATA payloads of at most 16 KiB (the default SETTINGS_MAX_FRAME_SIZE).
    func frames(_ buffer: ByteBuffer, size: Int = 16_384) -> [ByteBuffer] {
        stride(from: 0, to: buffer.readableBytes, by: size).map {
            buffer.getSlice(at: buffer.readerIndex + $0, length: min(size, buffer.readableBytes - $0))!
        }
    }

    @Test func unfinishedMessageHoldsItsCreditUntilComplete() throws {
        let budget = GRPCPartialMessageBudget(limit: 32 << 20, streamWindow: 1 << 20, connectionWindow: 16 << 20)
        let call = Call(budget)
        let whole = message(200_000)
        let parts = frames(whole)
        for (index, part) in parts.dropLast().enumerated() {
            try call.receive(part)
            // Nothing comes back while the message is unfinished: the stream holds at most its window.
            #expect(call.credit == 0)
            #expect(budget.held == 16_384 * (index + 1))
        }
        #expect(budget.reserved == 0)  // 200 KB fits half the 1 MiB window: no reservation.
        try call.receive(parts.last!)
        #expect(call.credit == whole.readableBytes)  // Complete: all of it at once.
        #expect(budget.held == 0)
        #expect(call.take()?.readableBytes == 200_000)
    }

    /// A message larger than the window completes: granted once its prefix is in (the budget
    /// is smaller than the message, but one message is always granted when it is alone).
    /// The peer is modelled with the stream's window and our WINDOW_UPDATE rule (credit goes
    /// out once half the window is consumed); it must never stall.
    @Test func messageLargerThanTheWindowCompletes() throws {
        let window = 1 << 20
        let budget = GRPCPartialMessageBudget(limit: 4 << 20, streamWindow: window, connectionWindow: 16 << 20)
        let call = Call(budget, maxMessage: 8 << 20)
        let whole = message(8 << 20)
        var available = window
        var unreturned = 0
        var returned = 0
        for part in frames(whole) {
            try #require(available >= part.readableBytes, "the peer stalled: \(available) bytes of window left")
            available -= part.readableBytes
            try call.receive(part)
            unreturned += call.credit - returned
            returned = call.credit
            if unreturned >= window / 2 {
                available += unreturned
                unreturned = 0
            }
            #expect(budget.reserved <= whole.readableBytes)
        }
        #expect(budget.reserved == 0 && budget.held == 0)
        // The last frame's credit waits for the reader (8 MiB queued is past the queue's mark).
        #expect(call.credit < whole.readableBytes)
        #expect(call.take()?.readableBytes == 8 << 20)
        #expect(call.credit == whole.readableBytes)
    }

    /// Grants are limited per connection: with 8 MiB, one 6 MiB message is granted at a time,
    /// the others wait in line (holding their credit) and are granted as earlier ones complete.
    @Test func grantsAreLimitedPerConnectionAndCallsWaitInLine() throws {
        let budget = GRPCPartialMessageBudget(limit: 8 << 20, streamWindow: 1 << 20, connectionWindow: 16 << 20)
        let (a, b, c) = (Call(budget), Call(budget), Call(budget))
        let whole = message(6 << 20)
        let parts = frames(whole)
        try a.receive(parts[0])
        #expect(a.credit == 16_384 && budget.reserved == whole.readableBytes)
        try b.receive(parts[0])
        try b.receive(parts[1])
        try c.receive(parts[0])
        #expect(b.credit == 0 && c.credit == 0)
        #expect(budget.held == 3 * 16_384 && budget.hasWaiters)
        for part in parts.dropFirst() { try a.receive(part) }
        // A completed: B, first in line, is granted and gets back what it held; C still waits.
        #expect(a.take()?.readableBytes == 6 << 20)
        #expect(a.credit == whole.readableBytes)
        #expect(b.credit == 2 * 16_384 && c.credit == 0)
        #expect(budget.reserved == whole.readableBytes && budget.held == 16_384)
        for part in parts.dropFirst(2) { try b.receive(part) }
        #expect(b.take()?.readableBytes == 6 << 20)
        #expect(b.credit == whole.readableBytes && c.credit == 16_384)
        for part in parts.dropFirst() { try c.receive(part) }
        #expect(c.take()?.readableBytes == 6 << 20)
        #expect(c.credit == whole.readableBytes)
        #expect(budget.reserved == 0 && budget.held == 0 && !budget.hasWaiters)
    }

    /// A granted call that ends (reset, deadline) frees its reservation for the next in line,
    /// and one that ends while waiting leaves the line and gives back what it held.
    @Test func endedCallsFreeTheBudget() throws {
        let budget = GRPCPartialMessageBudget(limit: 8 << 20, streamWindow: 1 << 20, connectionWindow: 16 << 20)
        let (a, b, c) = (Call(budget), Call(budget), Call(budget))
        let first = frames(message(6 << 20))[0]
        try a.receive(first)
        try b.receive(first)
        try c.receive(first)
        b.end()
        #expect(b.credit == 16_384 && budget.held == 16_384)
        a.end()
        #expect(c.credit == 16_384)  // Granted in B's place.
        #expect(budget.reserved == (6 << 20) + 5 && budget.held == 0 && !budget.hasWaiters)
        c.end()
        #expect(budget.reserved == 0)
    }

    /// Held bytes past the held limit (half the connection window less one stream window, at
    /// least a quarter of it): the call whose bytes go past it is granted while the budget
    /// allows, and ends with RESOURCE_EXHAUSTED after, so held bytes can never stall the
    /// connection window (which would hang every call on it).
    @Test func heldBytesPastTheLimitAreGrantedOrEndTheCall() throws {
        // Held limit 1 MiB (4 MiB connection window), budget 1 MiB, window limit 512 KiB.
        #expect(GRPCPartialMessageBudget(limit: 0, streamWindow: 1 << 20, connectionWindow: 16 << 20).heldLimit == 7 << 20)
        let budget = GRPCPartialMessageBudget(limit: 1 << 20, streamWindow: 1 << 20, connectionWindow: 4 << 20)
        let start = frames(message(300_000), size: 200_000)[0]
        var calls: [Call] = []
        for _ in 0..<5 {
            let call = Call(budget)
            try call.receive(start)
            calls.append(call)
        }
        #expect(budget.held == 1_000_000 && budget.reserved == 0)
        for _ in 0..<3 {
            let call = Call(budget)
            try call.receive(start)
            #expect(call.credit == 200_000)  // Granted: 300,005 bytes each.
        }
        #expect(budget.held == 1_000_000 && budget.reserved == 900_015)
        let refused = Call(budget)
        #expect(throws: GRPCStatus(.resourceExhausted, "unfinished messages on this connection hold more than 1048576 bytes "
                + "and 900015 bytes are granted to others (maxPartialMessageBytesPerConnection 1048576)")) {
            try refused.receive(start)
        }
        // The refused call's bytes are not counted (its owner gives back the payload's credit).
        #expect(budget.held == 1_000_000)
        refused.end()
        #expect(refused.credit == 0 && budget.held == 1_000_000)
        calls[0].end()
        #expect(calls[0].credit == 200_000 && budget.held == 800_000)
    }

    /// A reader that fell behind: the unfinished message is not granted (its bytes would pile
    /// up behind the queue); taking the queued message grants it.
    @Test func slowReaderDefersTheGrant() throws {
        let budget = GRPCPartialMessageBudget(limit: 32 << 20, streamWindow: 1 << 20, connectionWindow: 16 << 20)
        let call = Call(budget)
        let queued = message(GRPCInboundMessages.highWaterMark + 1)
        try call.receive(queued)
        #expect(call.credit == 0)  // Held for the reader (GRPCInboundMessages).
        let big = frames(message(4 << 20))[0]
        try call.receive(big)
        #expect(call.credit == 0 && budget.reserved == 0 && !budget.hasWaiters)
        #expect(call.take()?.readableBytes == GRPCInboundMessages.highWaterMark + 1)
        #expect(call.credit == queued.readableBytes + big.readableBytes)
        #expect(budget.reserved == (4 << 20) + 5 && budget.held == 0)
    }

    /// A message over the maximum receive size is still refused at its prefix, before any of
    /// it is buffered or reserved.
    @Test func oversizedMessageIsRefusedAtItsPrefix() throws {
        let budget = GRPCPartialMessageBudget(limit: 32 << 20, streamWindow: 1 << 20, connectionWindow: 16 << 20)
        let call = Call(budget, maxMessage: 4 << 20)
        let prefix = message(4 << 20 + 1).getSlice(at: 0, length: 5)!
        #expect(throws: GRPCStatus(.resourceExhausted, "received message of 4194305 bytes exceeds the limit of 4194304 bytes")) {
            try call.receive(prefix)
        }
        #expect(budget.held == 0 && budget.reserved == 0)
    }
}
