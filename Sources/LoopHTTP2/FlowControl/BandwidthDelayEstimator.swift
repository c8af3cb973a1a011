/// Grows receive windows to the connection's bandwidth-delay product, as grpc-go does with
/// its BDP pings: when DATA arrives and no probe is out, send a PING and count the bytes
/// received until its ACK. If that count fills most of the current window while the
/// measured bandwidth is still rising, the window is what limits the transfer: double it
/// (up to a maximum). Small request/response traffic never moves the window.
struct BandwidthDelayEstimator {
    /// The window (per stream) the estimate currently recommends.
    private(set) var window: Int
    let maximumWindow: Int
    private var probeSentAt: UInt64?
    private var sample = 0
    private var bestBandwidth: Double = 0

    /// Opaque data of probe PINGs, so their ACKs are told apart.
    static let pingData: UInt64 = 0x4C6F_6F70_4244_5021  // "LoopBDP!"

    init(initialWindow: Int, maximumWindow: Int) {
        self.window = initialWindow
        self.maximumWindow = min(maximumWindow, 0x7FFF_FFFF)  // no window may pass 2^31-1 (RFC 9113 §6.9.1)
    }

    /// Only frames at least this large start a probe: small-message traffic cannot be
    /// window-bound and pays no PING.
    static let probeTriggerSize = 8192

    /// Accounts for received DATA; true when a probe PING should be sent now.
    mutating func dataReceived(_ bytes: Int, now: UInt64) -> Bool {
        guard window < maximumWindow else { return false }
        sample += bytes
        guard probeSentAt == nil, bytes >= BandwidthDelayEstimator.probeTriggerSize else { return false }
        probeSentAt = now
        sample = bytes
        return true
    }

    /// The probe's ACK arrived; returns a larger window when the transfer is window-bound.
    mutating func probeAcknowledged(now: UInt64) -> Int? {
        guard let sentAt = probeSentAt else { return nil }
        probeSentAt = nil
        let elapsed = max(now &- sentAt, 1_000)  // at least 1 µs: loopback RTTs are tiny
        let bandwidth = Double(sample) / Double(elapsed)
        defer { sample = 0 }
        guard Double(sample) >= Double(window) * 0.66, bandwidth > bestBandwidth else {
            bestBandwidth = max(bestBandwidth, bandwidth)
            return nil
        }
        bestBandwidth = bandwidth
        let grown = min(max(sample * 2, window * 2), maximumWindow)
        guard grown > window else { return nil }
        window = grown
        return grown
    }
}
