import CLibev

/// A one-shot timer on a loop: an `ev_timer` for libev loops, an entry on the manual clock
/// for embedded ones. Armed, fired and cancelled on the loop thread only; while armed the
/// loop's `activeTimers` table keeps it alive.
// @unchecked Sendable: armed, fired and cancelled on its loop's thread only (as said above).
final class LoopTimer: @unchecked Sendable {
    let loop: EventLoop
    private var fire: (() -> Void)?
    private var onCancel: (() -> Void)?
    private var watcher: UnsafeMutablePointer<ev_timer>?

    init(loop: EventLoop, fire: @escaping () -> Void, onCancel: @escaping () -> Void) {
        self.loop = loop
        self.fire = fire
        self.onCancel = onCancel
    }

    deinit { watcher?.deallocate() }

    func arm(after delay: Duration) {
        guard fire != nil else { return }  // cancelled before it was armed
        loop.activeTimers[ObjectIdentifier(self)] = self
        switch loop.driver {
        case .libev(let evLoop):
            let w = UnsafeMutablePointer<ev_timer>.allocate(capacity: 1)
            watcher = w
            let seconds = max(0, Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
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
        loop.activeTimers.removeValue(forKey: ObjectIdentifier(self))
        guard let body = fire else { return }
        fire = nil
        onCancel = nil
        body()
    }

    /// Stops the timer; its cancel handler runs if it had not fired.
    func cancel() {
        guard fire != nil else { return }
        if case .libev(let evLoop) = loop.driver, let w = watcher {
            ev_timer_stop(evLoop, w)
        }
        loop.removeEmbeddedTimer(self)
        let handler = onCancel
        fire = nil
        onCancel = nil
        loop.activeTimers.removeValue(forKey: ObjectIdentifier(self))
        handler?()
    }

    /// Cancels every timer still pending on `loop` (at shutdown).
    static func cancelAll(on loop: EventLoop) {
        for timer in Array(loop.activeTimers.values) { timer.cancel() }
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
