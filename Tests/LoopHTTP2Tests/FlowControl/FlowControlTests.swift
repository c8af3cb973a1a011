import Testing
@testable import LoopHTTP2

/// The flow-control building blocks (RFC 9113 §5.2, §6.9) and the scheduler's queues.
@Suite struct FlowControlTests {
    @Test func rfc9113Section6_9_1SendWindowRefusesToExceed2To31Minus1() {
        var window = SendWindow(65_535)
        let toMaximum = window.increase(by: 0x7FFF_FFFF - 65_535)
        #expect(toMaximum)
        #expect(window.size == 0x7FFF_FFFF)
        let pastMaximum = window.increase(by: 1)
        #expect(!pastMaximum)
        #expect(window.size == 0x7FFF_FFFF)  // unchanged by the refused increment
        window.consume(10)
        let backToMaximum = window.increase(by: 10)
        #expect(backToMaximum)
    }

    @Test func rfc9113Section6_9_2SendWindowGoesNegativeAndComesBack() {
        var window = SendWindow(1000)
        window.consume(1000)
        let lowered = window.increase(by: -600)
        #expect(lowered)  // SETTINGS_INITIAL_WINDOW_SIZE lowered by 600
        #expect(window.size == -600)
        let stillNegative = window.increase(by: 500)
        #expect(stillNegative)
        #expect(window.size == -100)
        let positiveAgain = window.increase(by: 101)
        #expect(positiveAgain)
        #expect(window.size == 1)
    }

    @Test func receiveWindowDetectsAPeerThatOversends() {
        var window = ReceiveWindow(100)
        let first = window.receive(60)
        #expect(first)
        let fillsIt = window.receive(40)
        #expect(fillsIt)
        #expect(window.available == 0)
        let beyond = window.receive(1)
        #expect(!beyond)
    }

    @Test func receiveWindowReturnsCreditOnlyAsConsumedAndInHalves() {
        var window = ReceiveWindow(1000)
        let filled = window.receive(1000)
        #expect(filled)
        let heldBack = window.consume(499)
        #expect(heldBack == nil)  // below half the target: held back
        #expect(window.unreturned == 499)
        let atHalf = window.consume(1)
        #expect(atHalf == 500)
        #expect(window.available == 500)
        #expect(window.unreturned == 0)
        let secondHalf = window.consume(500)
        #expect(secondHalf == 500)
        #expect(window.available == 1000)
    }

    @Test func receiveWindowGrowsTheTarget() {
        var window = ReceiveWindow(65_535)
        let grown = window.grow(to: 1 << 20)
        #expect(grown == UInt32((1 << 20) - 65_535))
        #expect(window.available == 1 << 20)
        #expect(window.target == 1 << 20)
        let shrunk = window.grow(to: 1000)
        #expect(shrunk == nil)  // never shrinks
        #expect(window.target == 1 << 20)
    }

    @Test func streamQueueIsFirstInFirstOutWithPushFront() {
        var queue = StreamQueue()
        for id in stride(from: UInt32(1), through: 99, by: 2) { queue.push(id) }  // grows past 16
        #expect(queue.count == 50)
        let first = queue.pop()
        #expect(first == 1)
        let second = queue.pop()
        #expect(second == 3)
        queue.pushFront(3)
        let pushedFront = queue.pop()
        #expect(pushedFront == 3)
        var rest: [UInt32] = []
        while let id = queue.pop() { rest.append(id) }
        #expect(rest == Array(stride(from: UInt32(5), through: 99, by: 2)))
        let empty = queue.pop()
        #expect(empty == nil)
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
}
