/// Streams waiting to send, served round-robin: a ring buffer of stream ids.
struct StreamQueue {
    private var slots: [UInt32] = []
    private var head = 0
    private(set) var count = 0

    mutating func push(_ id: UInt32) {
        if count == slots.count { grow() }
        slots[(head + count) % slots.count] = id
        count += 1
    }

    mutating func pushFront(_ id: UInt32) {
        if count == slots.count { grow() }
        head = (head - 1 + slots.count) % slots.count
        slots[head] = id
        count += 1
    }

    mutating func pop() -> UInt32? {
        guard count > 0 else { return nil }
        let id = slots[head]
        head = (head + 1) % slots.count
        count -= 1
        return id
    }

    private mutating func grow() {
        var grown = [UInt32](repeating: 0, count: max(16, slots.count * 2))
        for index in 0..<count { grown[index] = slots[(head + index) % slots.count] }
        slots = grown
        head = 0
    }
}
