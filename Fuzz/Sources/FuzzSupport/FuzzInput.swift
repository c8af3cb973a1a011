import Loop

/// A cursor over one fuzz input. Targets read a few control bytes (role, chunk sizes,
/// limits) from the front and treat the rest as the bytes under test, so libFuzzer mutates
/// both. Reading past the end yields zeros: every input, however short, is a valid run.
public struct FuzzInput {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    public var remainingCount: Int { bytes.count - offset }

    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func uint16() -> UInt16 {
        UInt16(byte()) << 8 | UInt16(byte())
    }

    /// Up to `count` bytes as a ByteBuffer (fewer at the end of the input).
    public mutating func buffer(count: Int) -> ByteBuffer {
        let count = max(0, min(count, remainingCount))
        var buffer = ByteBuffer(capacity: count)
        buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
        offset += count
        return buffer
    }

    /// The rest of the input, split into chunks of `chunkSize` bytes (0: one chunk), as a
    /// socket might deliver it: the parsers must give the same answer however bytes arrive.
    public mutating func chunks(of chunkSize: Int) -> [ByteBuffer] {
        var chunks: [ByteBuffer] = []
        let size = chunkSize > 0 ? chunkSize : max(remainingCount, 1)
        while remainingCount > 0 { chunks.append(buffer(count: size)) }
        return chunks
    }
}
