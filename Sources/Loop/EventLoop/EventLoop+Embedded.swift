/// The manual clock of embedded loops (used by `EmbeddedChannel` and handler tests).
extension EventLoop {
    /// A loop driven by the calling thread: queued work runs on `run()`, timers on
    /// `advanceTime(by:)`. For tests; never give it to a bootstrap.
    public static func makeEmbedded(name: String = "embedded") -> EventLoop {
        EventLoop(embeddedNamed: name)
    }

    /// True for loops made by `makeEmbedded`.
    public var isEmbedded: Bool {
        if case .embedded = driver { return true }
        return false
    }

    /// Runs everything queued with `execute` (embedded loops only).
    public func run() {
        precondition(isEmbedded, "run() is for embedded loops")
        runQueuedJobs()
    }

    /// The manual clock's current time (embedded loops only).
    public var embeddedTime: Duration { embeddedNow }

    /// Moves the manual clock forward, firing due timers in deadline order (embedded only).
    public func advanceTime(by amount: Duration) {
        precondition(isEmbedded, "advanceTime(by:) is for embedded loops")
        let target = embeddedNow + amount
        runQueuedJobs()
        while let first = embeddedTimers.first, first.deadline <= target {
            embeddedTimers.removeFirst()
            embeddedNow = first.deadline
            first.timer.fired()
            runQueuedJobs()
        }
        embeddedNow = target
    }

    func addEmbeddedTimer(_ timer: LoopTimer, at deadline: Duration) {
        embeddedTimerSequence += 1
        let entry = EmbeddedTimer(deadline: deadline, sequence: embeddedTimerSequence, timer: timer)
        let index = embeddedTimers.firstIndex {
            ($0.deadline, $0.sequence) > (entry.deadline, entry.sequence)
        } ?? embeddedTimers.endIndex
        embeddedTimers.insert(entry, at: index)
    }

    func removeEmbeddedTimer(_ timer: LoopTimer) {
        embeddedTimers.removeAll { $0.timer === timer }
    }
}
