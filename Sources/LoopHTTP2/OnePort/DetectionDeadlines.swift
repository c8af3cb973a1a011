import Loop

/// The one-port fronts' deadlines on one loop. Every front of a server waits the same
/// time (`HTTP1Options.detectionTimeout`, or the TLS handshake's limit if shorter), so they
/// expire in the order they started: one first-in-first-out list through the fronts
/// themselves and one loop timer for the list's head, re-armed only when it fires — instead
/// of a timer armed and cancelled for every connection (which cost about a third of the
/// front's price per connection). Adding and removing a front is a few pointer writes.
///
/// Loop-confined: made per loop by ``HTTP2Server``, used only from that loop's channels.
///
/// ```
/// accept → add(front)   (deadline = now + timeout, appended)
/// decided / closed → remove(front)
/// timer → every front whose deadline passed is removed and told (`deadlinePassed()`);
///         the timer is armed again for the new head, if any
/// ```
final class DetectionDeadlines: @unchecked Sendable {
    let loop: EventLoop
    let timeout: Duration
    private let timeoutNanoseconds: UInt64
    /// The list holds its fronts (so none dangles); each is removed when it decides, when
    /// its handler is removed, or when its deadline passes.
    @exclusivity(unchecked) private var first: OnePortFront?
    @exclusivity(unchecked) private unowned(unsafe) var last: OnePortFront?
    @exclusivity(unchecked) private var timer: ScheduledCallback?

    init(loop: EventLoop, timeout: Duration) {
        self.loop = loop
        self.timeout = timeout
        let (seconds, attoseconds) = timeout.components
        timeoutNanoseconds = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds / 1_000_000_000))
    }

    /// Starts `front`'s wait. On the loop.
    func add(_ front: OnePortFront) {
        guard !front.isWaiting else { return }
        front.isWaiting = true
        front.deadline = HTTP2ConnectionHandler.clock.nanoseconds() + timeoutNanoseconds
        front.nextWaiting = nil
        front.previousWaiting = last
        if let last { last.nextWaiting = front } else { first = front }
        last = front
        if timer == nil { arm(in: timeout) }
    }

    /// Ends `front`'s wait (it decided, or went away). On the loop.
    func remove(_ front: OnePortFront) {
        guard front.isWaiting else { return }
        front.isWaiting = false
        withExtendedLifetime(front) {
            let next = front.nextWaiting
            let previous = front.previousWaiting
            if let previous { previous.nextWaiting = next } else { first = next }
            if let next { next.previousWaiting = previous } else { last = previous }
            front.nextWaiting = nil
            front.previousWaiting = nil
        }
        // The timer stays: when it fires for a head that left, it re-arms for the new one.
    }

    private func arm(in delay: Duration) {
        timer = loop.scheduleCallback(in: delay) { [self] in expire() }
    }

    private func expire() {
        timer = nil
        let now = HTTP2ConnectionHandler.clock.nanoseconds()
        while let head = first, head.deadline <= now {
            remove(head)
            head.deadlinePassed()
        }
        if let head = first { arm(in: .nanoseconds(Int64(head.deadline - now))) }
    }
}
