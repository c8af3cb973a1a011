import Testing
@testable import LoopHTTP2

/// Round-robin choice and upstream health with backoff (HTTP2UpstreamBalancer,
/// HTTP2UpstreamHealth): values in, choices out.
@Suite struct HTTP2UpstreamBalancerTests {
    private static let second: UInt64 = 1_000_000_000

    @Test func roundRobinOverHealthyUpstreams() {
        var balancer = HTTP2UpstreamBalancer(count: 3)
        let picks = (0..<6).map { _ in balancer.next(now: 0, excluding: HTTP2UpstreamSet())! }
        #expect(picks == [0, 1, 2, 0, 1, 2])
    }

    @Test func aDownUpstreamIsSkippedUntilItsBackoffEnds() {
        var balancer = HTTP2UpstreamBalancer(count: 3, initialBackoff: .seconds(1), maximumBackoff: .seconds(30))
        balancer.failed(1, now: 0)
        let picks = (0..<4).map { _ in balancer.next(now: Self.second / 2, excluding: HTTP2UpstreamSet())! }
        #expect(picks == [0, 2, 0, 2])
        // Backoff over: it is tried again (the re-probe); a success makes it up.
        let again = (0..<3).map { _ in balancer.next(now: Self.second, excluding: HTTP2UpstreamSet())! }
        #expect(again == [0, 1, 2])
        balancer.succeeded(1)
        #expect(balancer.health[1].isUp)
    }

    @Test func backoffDoublesPerFailureUpToTheMaximum() {
        var health = HTTP2UpstreamHealth(initialBackoff: .seconds(1), maximumBackoff: .seconds(5))
        let expected: [UInt64] = [1, 2, 4, 5, 5]
        for seconds in expected {
            health.failed(now: 100 * Self.second)
            #expect(health.state == .down(retryAt: (100 + seconds) * Self.second))
        }
        #expect(health.consecutiveFailures == 5)
        health.succeeded()
        #expect(health.state == .up && health.consecutiveFailures == 0)
    }

    @Test func aRequestTriesEachUpstreamOnceThenNone() {
        var balancer = HTTP2UpstreamBalancer(count: 3)
        var tried = HTTP2UpstreamSet()
        var order: [Int] = []
        while let next = balancer.next(now: 0, excluding: tried) {
            order.append(next)
            tried.insert(next)
        }
        #expect(order == [0, 1, 2])
        #expect(tried.count == 3)
    }

    @Test func whenEveryUntriedUpstreamIsDownTheOneBackSoonestIsTried() {
        var balancer = HTTP2UpstreamBalancer(count: 3, initialBackoff: .seconds(1), maximumBackoff: .seconds(30))
        balancer.failed(0, now: 0)
        balancer.failed(0, now: 0)   // back at 2 s
        balancer.failed(1, now: 0)   // back at 1 s
        balancer.failed(2, now: 0)
        balancer.failed(2, now: 0)
        balancer.failed(2, now: 0)   // back at 4 s
        #expect(balancer.next(now: 0, excluding: HTTP2UpstreamSet()) == 1)
        var tried = HTTP2UpstreamSet()
        tried.insert(1)
        #expect(balancer.next(now: 0, excluding: tried) == 0)
    }
}
