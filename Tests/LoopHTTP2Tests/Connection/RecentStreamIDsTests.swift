import Testing
@testable import LoopHTTP2

/// Closed-stream memory (RFC 9113 §5.1, "closed"): a bounded ring of recent ids.
@Suite struct RecentStreamIDsTests {
    @Test func recentStreamIDsRemembersTheLastFew() {
        var recent = RecentStreamIDs(capacity: 4)
        #expect(!recent.contains(0))  // 0 is never a stream
        for id in [UInt32(1), 3, 5, 7] { recent.insert(id) }
        #expect([UInt32(1), 3, 5, 7].allSatisfy(recent.contains))
        recent.insert(9)
        #expect(!recent.contains(1))  // the oldest made room
        #expect(recent.contains(9))
        #expect(!recent.contains(0))
    }
}
