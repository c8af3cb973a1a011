import Testing
@testable import LoopGRPC

/// grpc-timeout (PROTOCOL-HTTP2.md: "Timeout → TimeoutValue TimeoutUnit", at most 8 digits).
@Suite struct GRPCTimeoutTests {
    @Test func parsesEveryUnit() {
        #expect(GRPCTimeout.parse("2H") == .seconds(7200))
        #expect(GRPCTimeout.parse("3M") == .seconds(180))
        #expect(GRPCTimeout.parse("4S") == .seconds(4))
        #expect(GRPCTimeout.parse("250m") == .milliseconds(250))
        #expect(GRPCTimeout.parse("99999999u") == .microseconds(99_999_999))
        #expect(GRPCTimeout.parse("1n") == .nanoseconds(1))
    }

    @Test func rejectsMalformedValues() {
        #expect(GRPCTimeout.parse("") == nil)
        #expect(GRPCTimeout.parse("m") == nil)
        #expect(GRPCTimeout.parse("100") == nil)           // no unit
        #expect(GRPCTimeout.parse("100x") == nil)          // unknown unit
        #expect(GRPCTimeout.parse("123456789S") == nil)    // nine digits
        #expect(GRPCTimeout.parse("-1S") == nil)
        #expect(GRPCTimeout.parse("1 S") == nil)
    }

    @Test func encodesTheFinestUnitThatFitsEightDigits() {
        #expect(GRPCTimeout.encode(.nanoseconds(500)) == "500n")
        #expect(GRPCTimeout.encode(.milliseconds(100)) == "100000u")  // 10^8 ns has nine digits
        #expect(GRPCTimeout.encode(.seconds(1)) == "1000000u")
        #expect(GRPCTimeout.encode(.seconds(100)) == "100000m")
        #expect(GRPCTimeout.encode(.seconds(200_000)) == "200000S")
        #expect(GRPCTimeout.encode(.zero) == "1n")
        #expect(GRPCTimeout.encode(.seconds(-5)) == "1n")
    }

    @Test func encodingRoundsUpAndRoundTrips() {
        for duration: Duration in [.nanoseconds(1), .microseconds(1234567), .milliseconds(99_999_999), .seconds(3600 * 1000)] {
            let parsed = GRPCTimeout.parse(GRPCTimeout.encode(duration))!
            #expect(parsed >= duration)
        }
    }
}
