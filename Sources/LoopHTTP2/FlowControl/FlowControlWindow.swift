/// A send window (RFC 9113 §5.2, §6.9): how many DATA bytes we may still send. It can go
/// negative when the peer lowers SETTINGS_INITIAL_WINDOW_SIZE (§6.9.2).
struct SendWindow {
    static let maximum = 0x7FFF_FFFF
    private(set) var size: Int

    init(_ size: Int) { self.size = size }

    mutating func consume(_ count: Int) { size -= count }

    /// Applies a WINDOW_UPDATE increment or a settings delta; false when the result would
    /// exceed 2^31-1, which is a FLOW_CONTROL_ERROR (RFC 9113 §6.9.1).
    mutating func increase(by delta: Int) -> Bool {
        guard size + delta <= SendWindow.maximum else { return false }
        size += delta
        return true
    }
}

/// A receive window: what the peer may still send, and the credit to give back as the
/// application consumes (never on mere receipt, so a slow consumer stops the peer).
struct ReceiveWindow {
    /// Bytes the peer may still send before exceeding what we advertised.
    private(set) var available: Int
    /// The window we aim to keep open.
    private(set) var target: Int
    /// Bytes consumed by the application and not yet returned with WINDOW_UPDATE.
    private(set) var unreturned = 0

    init(_ size: Int) {
        available = size
        target = size
    }

    /// Accounts for `count` received bytes; false when the peer exceeded the window.
    mutating func receive(_ count: Int) -> Bool {
        available -= count
        return available >= 0
    }

    /// Records consumed bytes; returns the WINDOW_UPDATE increment to send, if it is time
    /// (half the target consumed: few updates, and the peer never stalls on a full window).
    mutating func consume(_ count: Int) -> UInt32? {
        unreturned += count
        guard unreturned >= target / 2 else { return nil }
        return takeCredit()
    }

    /// Grows the target (driven by measured bandwidth-delay); returns an increment to send now.
    mutating func grow(to newTarget: Int) -> UInt32? {
        guard newTarget > target else { return nil }
        unreturned += newTarget - target
        target = newTarget
        return takeCredit()
    }

    /// Raises the window by `delta` without a WINDOW_UPDATE: the peer learns of it through
    /// SETTINGS_INITIAL_WINDOW_SIZE (RFC 9113 §6.9.2).
    mutating func raise(by delta: Int) {
        available += delta
        target += delta
    }

    private mutating func takeCredit() -> UInt32? {
        guard unreturned > 0 else { return nil }
        let increment = unreturned
        available += increment
        unreturned = 0
        return UInt32(increment)
    }
}
