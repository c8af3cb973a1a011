import Testing
@testable import LoopHTTP2

/// The flow-control building blocks (RFC 9113 §5.2, §6.9) and the scheduler's queues.
@Suite struct FlowControlTests {
    @Test func rfc9113Section6_9_1SendWindowRefusesToExceed2To31Minus1() {
        var window = SendWindow(65_535)
        let result1 = window.increase(by: 0x7FFF_FFFF - 65_535)
        #expect(result1)
        #expect(window.size == 0x7FFF_FFFF)
        let result2 = window.increase(by: 1)
        #expect(!result2)
        #expect(window.size == 0x7FFF_FFFF)  // unchanged by the refused increment
        window.consume(10)
        let result3 = window.increase(by: 10)
        #expect(result3)
    }

    @Test func rfc9113Section6_9_2SendWindowGoesNegativeAndComesBack() {
        var window = SendWindow(1000)
        window.consume(1000)
        let result4 = window.increase(by: -600)
        #expect(result4)  // SETTINGS_INITIAL_WINDOW_SIZE lowered by 600
        #expect(window.size == -600)
        let result5 = window.increase(by: 500)
        #expect(result5)
        #expect(window.size == -100)
        let result6 = window.increase(by: 101)
        #expect(result6)
        #expect(window.size == 1)
    }

    @Test func receiveWindowDetectsAPeerThatOversends() {
        var window = ReceiveWindow(100)
        let result7 = window.receive(60)
        #expect(result7)
        let result8 = window.receive(40)
        #expect(result8)
        #expect(window.available == 0)
        let result9 = window.receive(1)
        #expect(!result9)
    }

    @Test func receiveWindowReturnsCreditOnlyAsConsumedAndInHalves() {
        var window = ReceiveWindow(1000)
        let result10 = window.receive(1000)
        #expect(result10)
        let result11 = window.consume(499)
        #expect(result11 == nil)  // below half the target: held back
        #expect(window.unreturned == 499)
        let result12 = window.consume(1)
        #expect(result12 == 500)
        #expect(window.available == 500)
        #expect(window.unreturned == 0)
        let result13 = window.consume(500)
        #expect(result13 == 500)
        #expect(window.available == 1000)
    }

    @Test func receiveWindowGrowsTheTarget() {
        var window = ReceiveWindow(65_535)
        let result14 = window.grow(to: 1 << 20)
        #expect(result14 == UInt32((1 << 20) - 65_535))
        #expect(window.available == 1 << 20)
        #expect(window.target == 1 << 20)
        let result15 = window.grow(to: 1000)
        #expect(result15 == nil)  // never shrinks
        #expect(window.target == 1 << 20)
    }

    @Test func streamQueueIsFirstInFirstOutWithPushFront() {
        var queue = StreamQueue()
        for id in stride(from: UInt32(1), through: 99, by: 2) { queue.push(id) }  // grows past 16
        #expect(queue.count == 50)
        let result16 = queue.pop()
        #expect(result16 == 1)
        let result17 = queue.pop()
        #expect(result17 == 3)
        queue.pushFront(3)
        let result18 = queue.pop()
        #expect(result18 == 3)
        var rest: [UInt32] = []
        while let id = queue.pop() { rest.append(id) }
        #expect(rest == Array(stride(from: UInt32(5), through: 99, by: 2)))
        let result19 = queue.pop()
        #expect(result19 == nil)
        #expect(queue.count == 0)
    }

    @Test func streamQueueWrapsAroundItsRing() {
        var queue = StreamQueue()
        var expected: [UInt32] = []
        var popped: [UInt32] = []
        for round in UInt32(0)..<100 {
            queue.push(round * 2 + 1)
            expected.append(round * 2 + 1)
            if round % 3 == 0 { queue.pushFront(round * 2 + 1000); popped.append(queue.pop()!) }
            if round % 2 == 1, let id = queue.pop() { popped.append(id) }
        }
        while let id = queue.pop() { popped.append(id) }
        #expect(popped.filter { $0 < 1000 } == expected)
        #expect(popped.filter { $0 >= 1000 }.count == 34)
    }

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
