import InteropTestSupport
import Testing
@testable import LoopHTTP2

@Suite struct HTTP2StreamTableTests {
    private func state(_ marker: Int) -> HTTP2Stream {
        var stream = HTTP2Stream(state: .open(local: .pending, remote: .final), sendWindow: marker, receiveWindow: 65_535)
        stream.receivedLength = marker
        return stream
    }

    @Test(arguments: [1, 2, 3, 4])
    func behavesLikeADictionaryUnderRandomOperations(seed: UInt64) {
        var generator = SeededRandom(seed: seed)
        var table = HTTP2StreamTable()
        var reference: [UInt32: Int] = [:]
        for step in 0..<20_000 {
            // Mostly sequential odd ids, as a client opens them, plus some scattered ones.
            let id = UInt32.random(in: 0..<3, using: &generator) == 0
                ? UInt32.random(in: 1...4_000_000, using: &generator)
                : UInt32(step % 2_000) * 2 + 1
            switch Int.random(in: 0..<4, using: &generator) {
            case 0, 1:
                table[id] = state(step)
                reference[id] = step
            case 2:
                #expect(table.removeValue(forKey: id)?.receivedLength == reference.removeValue(forKey: id))
            default:
                if table[id] != nil { table[id]!.receivedLength += 1 }
                if reference[id] != nil { reference[id]! += 1 }
            }
            #expect(table.count == reference.count)
        }
        for (id, marker) in reference { #expect(table[id]?.receivedLength == marker) }
        #expect(Set(table.ids) == Set(reference.keys))
    }

    @Test func modifyingAMissingEntryInsertsAndSettingNilRemoves() {
        var table = HTTP2StreamTable()
        table[5] = state(1)
        table[5]!.receivedLength = 9
        #expect(table[5]?.receivedLength == 9)
        table[5] = nil
        #expect(table[5] == nil && table.isEmpty)
    }
}
