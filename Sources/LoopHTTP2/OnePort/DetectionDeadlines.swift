import Loop

/// The one-port detectors' deadlines on one loop. Every detector of a server waits the same
/// time (`HTTP1Options.detectionTimeout`, or the TLS handshake's limit if shorter), so they
/// expire in the order they started: one first-in-first-out list through the detectors
/// themselves and one loop timer for the list's head, re-armed only when it fires — instead
/// of a timer armed and cancelled for every connection (which cost about a third of the
/// detector's price per connection). Adding and removing a detector is a few pointer writes.
///
/// Loop-confined: made per loop by ``HTTP2Server``, used only from that loop's channels.
///
/// ```
/// accept → add(detector)   (deadline = now + timeout, appended)
/// decided / closed → remove(detector)
/// timer → every detector whose deadline passed is removed and told (`deadlinePassed()`);
///         the timer is armed again for the new head, if any
/// ```
final class DetectionDeadlines: @unchecked Sendable {
    let loop: EventLoop
    let timeout: Duration
    private let timeoutNanoseconds: UInt64
    /// The list holds its detectors (so none dangles); each is removed when it decides, when
    /// its handler is removed, or when its deadline passes.
    @exclusivity(unchecked) private var first: HTTPProtocolDetectorHandler?
    @exclusivity(unchecked) private unowned(unsafe) var last: HTTPProtocolDetectorHandler?
    @exclusivity(unchecked) private var timer: ScheduledCallback?

    init(loop: EventLoop, timeout: Duration) {
        self.loop = loop
        self.timeout = timeout
        let (seconds, attoseconds) = timeout.components
        timeoutNanoseconds = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds / 1_000_000_000))
    }

    /// Starts `detector`'s wait. On the loop.
    func add(_ detector: HTTPProtocolDetectorHandler) {
        guard !detector.isWaiting else { return }
        detector.isWaiting = true
        detector.deadline = HTTP2ConnectionHandler.clock.nanoseconds() + timeoutNanoseconds
        detector.nextWaiting = nil
        detector.previousWaiting = last
        if let last { last.nextWaiting = detector } else { first = detector }
        last = detector
        if timer == nil { arm(in: timeout) }
    }

    /// Ends `detector`'s wait (it decided, or went away). On the loop.
    func remove(_ detector: HTTPProtocolDetectorHandler) {
        guard detector.isWaiting else { return }
        detector.isWaiting = false
        withExtendedLifetime(detector) {
            let next = detector.nextWaiting
            let previous = detector.previousWaiting
            if let previous { previous.nextWaiting = next } else { first = next }
            if let next { next.previousWaiting = previous } else { last = previous }
            detector.nextWaiting = nil
            detector.previousWaiting = nil
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
