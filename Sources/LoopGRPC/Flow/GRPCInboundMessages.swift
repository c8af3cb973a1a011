import Loop

/// The received messages of one call, not yet taken by the application, and the HTTP/2
/// flow-control credit that goes with them. Credit for received bytes is returned at once
/// while little is queued and held back once the application falls behind, so a slow
/// reader slows the sender instead of growing memory (docs/architecture.md, backpressure). I/O-free:
/// the owner passes the returned credit to its stream.
struct GRPCInboundMessages {
    /// Credit is returned at once while at most this many message bytes are queued.
    static let highWaterMark = 1 << 20

    /// The oldest message; most calls never need `later` (no array is allocated).
    private var first: ByteBuffer?
    private var later: [ByteBuffer] = []
    private var nextLater = 0
    private(set) var queuedBytes = 0
    private var heldCredit = 0

    var isEmpty: Bool { first == nil && nextLater == later.count }

    /// Whether exactly one message is queued.
    var hasSingleMessage: Bool { first != nil && nextLater == later.count }

    mutating func append(_ message: ByteBuffer) {
        queuedBytes += message.readableBytes
        if first == nil && nextLater == later.count {
            first = message
        } else {
            later.append(message)
        }
    }

    /// Records `bytes` of DATA received; returns the credit to return now.
    mutating func received(_ bytes: Int) -> Int {
        guard queuedBytes <= Self.highWaterMark else {
            heldCredit += bytes
            return 0
        }
        defer { heldCredit = 0 }
        return bytes + heldCredit
    }

    /// The oldest message and the credit to return now, or nil when none is queued.
    mutating func take() -> (message: ByteBuffer, credit: Int)? {
        let message: ByteBuffer
        if let oldest = first {
            first = nil
            message = oldest
        } else if nextLater < later.count {
            message = later[nextLater]
            nextLater += 1
            if nextLater == later.count {
                later.removeAll(keepingCapacity: true)
                nextLater = 0
            }
        } else {
            return nil
        }
        queuedBytes -= message.readableBytes
        var credit = 0
        if heldCredit > 0, queuedBytes <= Self.highWaterMark {
            credit = heldCredit
            heldCredit = 0
        }
        return (message, credit)
    }
}
