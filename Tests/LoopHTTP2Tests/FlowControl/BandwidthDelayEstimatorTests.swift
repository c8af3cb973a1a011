import Testing
@testable import LoopHTTP2

@Suite struct BandwidthDelayEstimatorTests {
    @Test func windowBoundTransferDoublesTheWindowUpToTheMaximum() {
        var estimator = BandwidthDelayEstimator(initialWindow: 65_536, maximumWindow: 1 << 20)
        var now: UInt64 = 0
        var windows: [Int] = []
        for _ in 0..<10 {
            #expect(estimator.dataReceived(estimator.window, now: now) || estimator.window == 1 << 20)
            now += 1_000_000  // 1 ms round trip, a full window each time: window-bound
            if let grown = estimator.probeAcknowledged(now: now) { windows.append(grown) }
        }
        #expect(windows == [131_072, 262_144, 524_288, 1_048_576])
        #expect(estimator.dataReceived(100, now: now) == false)  // at the maximum: no more probes
    }

    @Test func smallTrafficNeverGrowsTheWindow() {
        var estimator = BandwidthDelayEstimator(initialWindow: 65_536, maximumWindow: 1 << 20)
        var now: UInt64 = 0
        for _ in 0..<20 {
            _ = estimator.dataReceived(200, now: now)
            now += 500_000
            #expect(estimator.probeAcknowledged(now: now) == nil)
        }
        #expect(estimator.window == 65_536)
    }

    @Test func onlyOneProbeIsOutstanding() {
        var estimator = BandwidthDelayEstimator(initialWindow: 65_536, maximumWindow: 1 << 20)
        let small = estimator.dataReceived(1000, now: 0)
        #expect(!small)  // small frames start no probe
        let first = estimator.dataReceived(10_000, now: 0)
        #expect(first)
        let second = estimator.dataReceived(10_000, now: 10)
        #expect(!second)
        #expect(estimator.probeAcknowledged(now: 100) == nil)  // 20,000 bytes: not window-bound
        #expect(estimator.probeAcknowledged(now: 200) == nil)  // no probe out
    }
}
