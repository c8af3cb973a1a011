import Loop

/// HPACK's static Huffman code (RFC 7541 §5.2, Appendix B).
///
/// Decoding walks a table-driven state machine four bits at a time. The machine is derived
/// at start-up from the code table: each state is an internal node of the code tree, so
/// the table stays checkable against the RFC and the decoder needs no per-bit branching.
enum HuffmanCoding {
    /// Bytes needed to Huffman-encode `bytes`.
    static func encodedLength<C: Collection>(of bytes: C) -> Int where C.Element == UInt8 {
        var bits = 0
        for byte in bytes { bits += Int(huffmanCodes[Int(byte)].length) }
        return (bits + 7) / 8
    }

    /// Appends the Huffman encoding of `bytes` to `buffer`, padded with the EOS prefix
    /// (all ones), as RFC 7541 §5.2 requires.
    static func encode<C: Collection>(_ bytes: C, into buffer: inout ByteBuffer) where C.Element == UInt8 {
        var accumulator: UInt64 = 0
        var pending = 0
        for byte in bytes {
            let entry = huffmanCodes[Int(byte)]
            accumulator = (accumulator << UInt64(entry.length)) | UInt64(entry.code)
            pending += Int(entry.length)
            while pending >= 8 {
                pending -= 8
                buffer.writeInteger(UInt8(truncatingIfNeeded: accumulator >> UInt64(pending)))
            }
        }
        if pending > 0 {
            let padding = 8 - pending
            buffer.writeInteger(UInt8(truncatingIfNeeded: (accumulator << UInt64(padding)) | ((1 << UInt64(padding)) - 1)))
        }
    }

    /// Decodes `input` into `output`.
    /// - Throws: `HPACKError.huffmanEOS` when the EOS symbol appears, and
    ///   `HPACKError.invalidHuffmanPadding` when the last bits are not a valid padding
    ///   (longer than 7 bits, or not all ones) — both decoding errors per RFC 7541 §5.2.
    static func decode(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        let capacity = input.count * 8 / 5 + 1
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { scratch.deallocate() }
        let count = try HuffmanCoding.decode(input, writingTo: scratch)
        output.append(contentsOf: UnsafeBufferPointer(start: scratch, count: count))
    }

    /// Decodes `input` into `output`, which must have room for `input.count * 8 / 5 + 1`
    /// bytes; returns how many were written. Throws as the array form does.
    /// (A different label from the array form on purpose: `&array` converts implicitly to a
    /// pointer argument, and would silently pick this one.)
    static func decode(_ input: UnsafeRawBufferPointer, writingTo output: UnsafeMutablePointer<UInt8>) throws -> Int {
        let transitions = HuffmanDecodingMachine.shared.transitions
        var state = 0
        var accepting = true
        var written = 0
        for byte in input {
            var shift: UInt8 = 4
            while true {
                let transition = transitions[state &* 16 &+ Int((byte >> shift) & 0x0F)]
                if transition.flags & HuffmanDecodingMachine.failed != 0 { throw HPACKError.huffmanEOS }
                if transition.flags & HuffmanDecodingMachine.emits != 0 {
                    output[written] = transition.symbol
                    written += 1
                }
                state = Int(transition.nextState)
                accepting = transition.flags & HuffmanDecodingMachine.accepting != 0
                if shift == 0 { break }
                shift = 0
            }
        }
        guard accepting else { throw HPACKError.invalidHuffmanPadding }
        return written
    }
}

/// The four-bits-at-a-time decoding machine for the HPACK Huffman code.
struct HuffmanDecodingMachine: Sendable {
    struct Transition: Sendable {
        var nextState: UInt16
        var symbol: UInt8
        var flags: UInt8
    }

    static let emits: UInt8 = 1
    /// Ending here is valid: the bits since the last symbol are all ones and fewer than 8.
    static let accepting: UInt8 = 2
    /// The EOS symbol was decoded.
    static let failed: UInt8 = 4

    /// 16 transitions per state; state 0 is the root of the code tree.
    let transitions: [Transition]

    static let shared = HuffmanDecodingMachine()

    private init() {
        // Build the code tree: children[node] = (zero, one); a child >= 0 is an internal
        // node, a child < 0 is the leaf -(symbol + 1).
        var children: [(Int, Int)] = [(Int.min, Int.min)]
        for (symbol, entry) in huffmanCodes.enumerated() {
            var node = 0
            for bitIndex in stride(from: Int(entry.length) - 1, through: 0, by: -1) {
                let bit = (entry.code >> UInt32(bitIndex)) & 1
                let isLast = bitIndex == 0
                let current = bit == 0 ? children[node].0 : children[node].1
                let next: Int
                if isLast {
                    next = -(symbol + 1)
                } else if current == Int.min {
                    children.append((Int.min, Int.min))
                    next = children.count - 1
                } else {
                    next = current
                }
                if bit == 0 { children[node].0 = next } else { children[node].1 = next }
                node = next
            }
        }
        // Depth and "all ones so far" for every internal node (padding validity).
        var depth = [Int](repeating: 0, count: children.count)
        var allOnes = [Bool](repeating: true, count: children.count)
        for node in 0..<children.count {
            let (zero, one) = children[node]
            if zero >= 0 { depth[zero] = depth[node] + 1; allOnes[zero] = false }
            if one >= 0 { depth[one] = depth[node] + 1; allOnes[one] = allOnes[node] }
        }
        var table: [Transition] = []
        table.reserveCapacity(children.count * 16)
        for state in 0..<children.count {
            for nibble in 0..<16 {
                var node = state
                var transition = Transition(nextState: 0, symbol: 0, flags: 0)
                for shift in stride(from: 3, through: 0, by: -1) {
                    let bit = (nibble >> shift) & 1
                    let child = bit == 0 ? children[node].0 : children[node].1
                    if child < 0 {
                        let symbol = -child - 1
                        if symbol == 256 {
                            transition.flags |= HuffmanDecodingMachine.failed
                            break
                        }
                        transition.symbol = UInt8(symbol)
                        transition.flags |= HuffmanDecodingMachine.emits
                        node = 0
                    } else {
                        node = child
                    }
                }
                transition.nextState = UInt16(node)
                if node == 0 || (allOnes[node] && depth[node] < 8) {
                    transition.flags |= HuffmanDecodingMachine.accepting
                }
                table.append(transition)
            }
        }
        transitions = table
    }
}
