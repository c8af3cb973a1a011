/// The bytes of unfinished messages one HTTP/2 connection may make us keep, shared by its
/// calls (one per `GRPCServerConnection` / `GRPCClientConnection`, on the connection's loop:
/// no lock).
///
/// Why: a deframer keeps the bytes of a message until the message is complete. If their
/// flow-control credit went back on receipt, a peer could open 1,000 streams and leave an
/// unfinished maximum-size message on each: 1,000 × 4 MiB buffered per connection. So the
/// credit of an unfinished message's bytes is *held* (``GRPCCallBridge``): a stream then keeps
/// at most its window, and all streams together at most the connection window, which is the
/// bound HTTP/2 already sets for unread bytes.
///
/// Held credit alone would deadlock two legitimate cases, and this type resolves both:
/// - **A message larger than the stream's window** can never arrive whole. Like grpc-go
///   (which widens the stream's window to the announced size), the call *reserves* the
///   message's size here once its 5-byte prefix is in; from then on its bytes' credit goes
///   back at once. Reservations are limited by ``limit`` per connection, so N streams × the
///   maximum message size cannot all be granted at once; a call past the limit waits in
///   line (first come, first served, so a big message is not starved by small ones) and is
///   granted when others complete or end. A message larger than the limit is granted when
///   nothing else is reserved: one message within `maxReceiveMessageSize` always completes.
///   "Larger than the window" means over half the stream's initial window: the stream's own
///   WINDOW_UPDATE waits until half its window is consumed, so only that half is sure to
///   be open when a message starts.
/// - **Held bytes filling the connection window**: the peer sends on every stream within its
///   window, so many waiting streams together can hold the whole connection window, and then
///   not even granted messages get connection credit to complete (our connection
///   WINDOW_UPDATE goes out once half the window is consumed: held bytes past half stall
///   it). So held bytes are limited too (``heldLimit``: half the connection window less one
///   stream window, 7 MiB by default, leaving room for messages queued for readers that fell
///   behind): a call whose bytes go past it is granted if the budget allows, and otherwise
///   ends with RESOURCE_EXHAUSTED (naming the limit) instead of hanging every call of the
///   connection. Stream windows grown by bandwidth-delay estimation let each waiting stream
///   hold more, so fewer calls can wait on a fast link; raising the budget lets more in.
///
/// Memory for unfinished messages per connection is thus at most about `heldLimit` (held,
/// 7 MiB) + `limit` (granted), whatever the peer does.
///
/// ```swift
/// let budget = GRPCPartialMessageBudget(limit: 32 << 20, streamWindow: 1 << 20, connectionWindow: 16 << 20)
/// var bridge = GRPCCallBridge(maxReceiveMessageSize: 4 << 20, compression: nil, partialMessages: budget)
/// ```
final class GRPCPartialMessageBudget {
    /// Bytes of unfinished messages that may be granted (reserved) at once.
    let limit: Int
    /// Unfinished messages larger than this (prefix included) need a reservation to complete.
    let windowLimit: Int
    /// Held bytes past this make a call take a reservation or end (see the type's comment).
    let heldLimit: Int
    /// Bytes reserved by granted messages.
    private(set) var reserved = 0
    /// Bytes of unfinished messages whose credit is held, over all calls of the connection
    /// (kept by ``GRPCCallBridge``).
    var held = 0
    /// Calls waiting for a reservation, oldest first (slow path: allocated only when one waits).
    private var waiters: [(call: any GRPCPartialMessageWaiter, bytes: Int)] = []

    /// - Parameters:
    ///   - limit: bytes of unfinished messages that may be granted at once.
    ///   - streamWindow: the stream window announced (SETTINGS_INITIAL_WINDOW_SIZE).
    ///   - connectionWindow: the connection window opened at start.
    init(limit: Int, streamWindow: Int, connectionWindow: Int) {
        self.limit = limit
        self.windowLimit = streamWindow / 2
        // Half the connection window less one stream window: the connection's WINDOW_UPDATE
        // waits until half its window is consumed, so held bytes past half would stall it;
        // the stream window left is for messages queued for readers that fell behind.
        self.heldLimit = max(connectionWindow / 4, connectionWindow / 2 - streamWindow)
    }

    /// Whether held bytes are past ``heldLimit``.
    var heldOverLimit: Bool { held > heldLimit }

    /// Whether calls wait for a reservation.
    var hasWaiters: Bool { !waiters.isEmpty }

    /// Reserves `bytes` for one message if no call waits before it and they fit (or nothing
    /// is reserved: one message always fits).
    func reserve(_ bytes: Int) -> Bool {
        guard waiters.isEmpty, fits(bytes) else { return false }
        reserved += bytes
        return true
    }

    /// Gives back a reservation (its message completed or its call ended). Waiting calls are
    /// granted by ``grantWaiters()``, which the caller runs once its own state is settled.
    func release(_ bytes: Int) {
        reserved -= bytes
    }

    /// Puts `call` in line for a reservation of `bytes`.
    func enqueue(_ call: any GRPCPartialMessageWaiter, bytes: Int) {
        waiters.append((call, bytes))
    }

    /// Takes `call` out of the line (its call ended).
    func remove(_ call: any GRPCPartialMessageWaiter) {
        waiters.removeAll { $0.call === call }
    }

    /// Grants waiting calls, oldest first, while their messages fit.
    func grantWaiters() {
        while let first = waiters.first, fits(first.bytes) {
            waiters.removeFirst()
            reserved += first.bytes
            first.call.partialMessageGranted(first.bytes)
        }
    }

    private func fits(_ bytes: Int) -> Bool {
        reserved == 0 || bytes <= limit - reserved
    }
}

/// A call that can wait in a ``GRPCPartialMessageBudget``'s line.
protocol GRPCPartialMessageWaiter: AnyObject {
    /// `bytes` were reserved for the call's unfinished message: its held credit may go back.
    func partialMessageGranted(_ bytes: Int)
}
