import CLibev

/// A one-shot timer on a loop: an `ev_timer` for libev loops, an entry on the manual clock
/// for embedded ones. Armed, fired and cancelled on the loop thread only; while armed the
/// loop's list of armed timers keeps it alive (a doubly linked list through the timers
/// themselves: arming and disarming cost two pointer writes, no hashing, no allocation).
// @unchecked Sendable: armed, fired and cancelled on its loop's thread only (as said above).
final class LoopTimer: @unchecked Sendable {
    let loop: EventLoop
    private var fire: (() -> Void)?
    private var onCancel: (() -> Void)?
    private var watcher: UnsafeMutablePointer<ev_timer>?
    /// Neighbours in the loop's list of armed timers (`EventLoop.armedTimers`); the list
    /// holds each strongly through `next`.
    private var next: LoopTimer?
    private unowned(unsafe) var previous: LoopTimer?
    private var isListed = false

    init(loop: EventLoop, fire: @escaping () -> Void, onCancel: @escaping () -> Void) {
        self.loop = loop
        self.fire = fire
        self.onCancel = onCancel
    }

    deinit { watcher?.deallocate() }

    func arm(after delay: Duration) {
        guard fire != nil else { return }  // cancelled before it was armed
        list()
        switch loop.driver {
        case .libev(let evLoop):
            let w = UnsafeMutablePointer<ev_timer>.allocate(capacity: 1)
            watcher = w
            let (wholeSeconds, attoseconds) = delay.components  // computed, not stored: read once
            let seconds = max(0, Double(wholeSeconds) + Double(attoseconds) / 1e18)
            clibev_timer_init(w, loopTimerCallback, seconds, 0)
            w.pointee.data = Unmanaged.passUnretained(self).toOpaque()
            // libev counts from the time it cached when the loop woke; after long work on
            // the loop that is stale and the timer would fire early.
            ev_now_update(evLoop)
            ev_timer_start(evLoop, w)
        case .embedded:
            loop.addEmbeddedTimer(self, at: loop.embeddedNow + delay)
        }
    }

    /// Runs the task (once).
    func fired() {
        unlist()
        guard let body = fire else { return }
        fire = nil
        onCancel = nil
        body()
    }

    /// Stops the timer; its cancel handler runs if it had not fired.
    func cancel() {
        guard fire != nil else { return }
        switch loop.driver {
        case .libev(let evLoop):
            if let w = watcher { ev_timer_stop(evLoop, w) }
        case .embedded:
            loop.removeEmbeddedTimer(self)
        }
        let handler = onCancel
        fire = nil
        onCancel = nil
        unlist()
        handler?()
    }

    /// Cancels every timer still pending on `loop` (at shutdown).
    static func cancelAll(on loop: EventLoop) {
        var armed: [LoopTimer] = []
        var cursor = loop.armedTimers
        while let timer = cursor {
            armed.append(timer)
            cursor = timer.next
        }
        for timer in armed { timer.cancel() }
    }

    private func list() {
        guard !isListed else { return }
        isListed = true
        next = loop.armedTimers
        next?.previous = self
        previous = nil
        loop.armedTimers = self
    }

    private func unlist() {
        guard isListed else { return }
        isListed = false
        // Keep self alive until it is out of the list (the list may hold the last reference).
        withExtendedLifetime(self) {
            let following = next
            if let previous { previous.next = following } else { loop.armedTimers = following }
            following?.previous = previous
            next = nil
            previous = nil
        }
    }
}

let loopTimerCallback: clibev_timer_cb = { _, watcher, _ in
    // A strong local: firing removes the timer from the table that kept it alive.
    let timer = Unmanaged<LoopTimer>.fromOpaque(watcher!.pointee.data).takeUnretainedValue()
    timer.fired()
}

/// A timer on an embedded loop's manual clock.
struct EmbeddedTimer {
    let deadline: Duration
    let sequence: Int
    let timer: LoopTimer
}
