import Testing
@testable import Loop

@Suite struct ByteBufferTests {
    @Test func emptyBuffersShareOneStorageUntilTheirFirstWrite() {
        // Capacity 0 allocates nothing: every such buffer holds the shared empty storage, which
        // no buffer writes into (copy-on-write makes storage of its own first).
        var a = ByteBuffer(capacity: 0)
        var b = ByteBuffer(capacity: 0)
        #expect(a._storage === b._storage)
        let sharedBefore = !a.isStorageUnique()
        #expect(sharedBefore)
        a.writeString("hello")
        #expect(a._storage !== b._storage)
        let uniqueAfter = a.isStorageUnique()
        #expect(uniqueAfter)
        #expect(a.capacity >= 64, "grows as an empty buffer always did")
        #expect(String(decoding: a.readableBytesView, as: UTF8.self) == "hello")
        #expect(b.readableBytes == 0)
        b.clear()
        #expect(b._storage === ByteBuffer.Storage.empty)
        b.writeInteger(UInt8(7))
        #expect(b.readableBytes == 1 && b.getInteger(at: 0, as: UInt8.self) == 7)
        var c = ByteBuffer(capacity: 0)
        c.reserveCapacity(minimumWritableBytes: 200)
        #expect(c.capacity >= 200)
        #expect(ByteBuffer.Storage.empty.capacity == 0)
    }

    private func unique(_ buffer: inout ByteBuffer) -> Bool { buffer.isStorageUnique() }

    // MARK: Indices

    @Test func newBufferHasZeroIndicesAndRequestedCapacity() {
        let buffer = ByteBuffer(capacity: 16)
        #expect(buffer.readerIndex == 0)
        #expect(buffer.writerIndex == 0)
        #expect(buffer.readableBytes == 0)
        #expect(buffer.capacity == 16)
        #expect(buffer.writableBytes == 16)
    }

    @Test func writesAndReadsMoveTheirIndices() {
        var buffer = ByteBuffer(capacity: 16)
        #expect(buffer.writeString("hello") == 5)
        #expect(buffer.writerIndex == 5)
        #expect(buffer.writableBytes == 11)
        #expect(buffer.readInteger(as: UInt8.self) == UInt8(ascii: "h"))
        #expect(buffer.readerIndex == 1)
        #expect(buffer.readableBytes == 4)
        #expect(buffer.readString(length: 4) == "ello")
        #expect(buffer.readerIndex == 5)
        #expect(buffer.readableBytes == 0)
        // Nothing left: reads fail and leave the index alone.
        #expect(buffer.readString(length: 1) == nil)
        #expect(buffer.readInteger(as: UInt8.self) == nil)
        #expect(buffer.readBytes(length: 1) == nil)
        #expect(buffer.readSlice(length: 1) == nil)
        #expect(buffer.readerIndex == 5)
    }

    @Test func moveReaderAndWriterIndex() {
        var buffer = ByteBuffer(capacity: 8)
        buffer.writeBytes([1, 2, 3, 4, 5, 6])
        buffer.moveReaderIndex(forwardBy: 2)
        #expect(buffer.readerIndex == 2)
        #expect(buffer.readBytes(length: 2) == [3, 4])
        buffer.moveReaderIndex(to: 1)
        #expect(buffer.readBytes(length: 1) == [2])
        buffer.moveWriterIndex(to: 4)
        #expect(buffer.readableBytes == 2)
        #expect(buffer.readBytes(length: 3) == nil)
        #expect(buffer.readBytes(length: 2) == [3, 4])
        buffer.moveWriterIndex(forwardBy: 2)  // the bytes are still in the storage
        #expect(buffer.readBytes(length: 2) == [5, 6])
    }

    @Test func clearResetsIndicesButKeepsCapacityAndCopies() {
        var buffer = ByteBuffer(capacity: 32)
        buffer.writeString("abcdef")
        _ = buffer.readBytes(length: 2)
        let copy = buffer
        buffer.clear()
        #expect(buffer.readerIndex == 0)
        #expect(buffer.writerIndex == 0)
        #expect(buffer.capacity == 32)
        buffer.writeString("XY")
        #expect(buffer.string == "XY")
        #expect(copy.string == "cdef")
        #expect(copy.readerIndex == 2)
    }

    @Test func growsWhenWritingPastCapacity() {
        var buffer = ByteBuffer(capacity: 1)
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(buffer.writeBytes(bytes) == 100_000)
        #expect(buffer.capacity >= 100_000)
        #expect(buffer.readableBytes == 100_000)
        #expect(buffer.readBytes(length: 100_000) == bytes)
    }

    // MARK: Integers

    private func checkInteger<T: FixedWidthInteger>(_ value: T, big: [UInt8]) {
        let size = MemoryLayout<T>.size
        for endianness in [Endianness.big, .little] {
            let expectedBytes = endianness == .big ? big : big.reversed()
            var buffer = ByteBuffer(capacity: 0)
            buffer.writeInteger(UInt8(0xEE))  // a leading byte, so indices are not all 0
            #expect(buffer.writeInteger(value, endianness: endianness) == size)
            #expect(buffer.writerIndex == 1 + size)
            #expect(buffer.getBytes(at: 1, length: size) == expectedBytes, "\(T.self) \(endianness)")
            #expect(buffer.getInteger(at: 1, endianness: endianness, as: T.self) == value)
            // Reading in the other byte order gives the byte-swapped value.
            let other: Endianness = endianness == .big ? .little : .big
            #expect(buffer.getInteger(at: 1, endianness: other, as: T.self) == value.byteSwapped)
            // A get does not move the reader index; a read does.
            #expect(buffer.readerIndex == 0)
            #expect(buffer.readInteger(as: UInt8.self) == 0xEE)
            #expect(buffer.readInteger(endianness: endianness, as: T.self) == value)
            #expect(buffer.readerIndex == 1 + size)
            #expect(buffer.readInteger(endianness: endianness, as: T.self) == nil)
            // set overwrites in place without moving any index.
            #expect(buffer.setInteger(T.max, at: 1, endianness: endianness) == size)
            #expect(buffer.writerIndex == 1 + size)
            buffer.moveReaderIndex(to: 1)
            #expect(buffer.getInteger(at: 1, endianness: endianness, as: T.self) == T.max)
            #expect(buffer.setInteger(value, at: 1, endianness: endianness) == size)
            #expect(buffer.readBytes(length: size) == expectedBytes)
        }
    }

    @Test func uint8() { checkInteger(UInt8(0xAB), big: [0xAB]) }
    @Test func uint16() { checkInteger(UInt16(0x0102), big: [0x01, 0x02]) }
    @Test func uint32() { checkInteger(UInt32(0x0102_0304), big: [0x01, 0x02, 0x03, 0x04]) }
    @Test func uint64() {
        checkInteger(UInt64(0x0102_0304_0506_0708), big: [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08])
    }
    @Test func signedIntegers() {
        checkInteger(Int16(-2), big: [0xFF, 0xFE])
        checkInteger(Int32(-16_909_061), big: [0xFE, 0xFD, 0xFC, 0xFB])
    }

    @Test func networkByteOrderIsTheDefault() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(0xDEAD_BEEF))
        #expect(buffer.readBytes(length: 4) == [0xDE, 0xAD, 0xBE, 0xEF])
    }

    @Test func integerNotEntirelyReadableIsNil() {
        var buffer = ByteBuffer()
        buffer.writeBytes([1, 2, 3, 4, 5])
        #expect(buffer.getInteger(at: 2, as: UInt32.self) == nil)   // needs bytes 2...5
        #expect(buffer.getInteger(at: 1, as: UInt32.self) == 0x0203_0405)
        #expect(buffer.getInteger(at: 5, as: UInt8.self) == nil)    // at the writer index
        #expect(buffer.getInteger(at: -1, as: UInt8.self) == nil)
        _ = buffer.readBytes(length: 2)
        #expect(buffer.getInteger(at: 1, as: UInt8.self) == nil)    // already read
        #expect(buffer.getInteger(at: 2, as: UInt8.self) == 3)
        #expect(buffer.readInteger(as: UInt32.self) == nil)         // only 3 bytes left
        #expect(buffer.readerIndex == 2)
    }

    // MARK: Strings and bytes

    @Test func stringsRoundTripAsUTF8() {
        var buffer = ByteBuffer()
        let text = "héllo ✓"
        #expect(buffer.writeString(text) == text.utf8.count)
        #expect(buffer.readableBytes == 10)
        #expect(buffer.getString(at: 0, length: 10) == text)
        #expect(buffer.getString(at: 0, length: 11) == nil)
        #expect(buffer.readString(length: 6) == "héllo")
        #expect(buffer.readString(length: 4) == " ✓")
        #expect(ByteBuffer(string: "abc").string == "abc")
    }

    @Test func invalidUTF8IsRepaired() {
        var buffer = ByteBuffer(bytes: [0x61, 0xFF, 0x62])
        #expect(buffer.readString(length: 3) == "a\u{FFFD}b")
    }

    @Test func bytesInitializersAndRepeatingByte() {
        #expect(ByteBuffer(bytes: [1, 2, 3]).getBytes(at: 0, length: 3) == [1, 2, 3])
        // A sequence without contiguous storage goes byte by byte.
        let lazy = (1...4).lazy.map { UInt8($0 * 10) }
        #expect(ByteBuffer(bytes: lazy).getBytes(at: 0, length: 4) == [10, 20, 30, 40])
        var buffer = ByteBuffer(capacity: 2)
        #expect(buffer.writeRepeatingByte(7, count: 5) == 5)
        #expect(buffer.readBytes(length: 5) == [7, 7, 7, 7, 7])
    }

    @Test func setBytesOverwritesInPlace() {
        var buffer = ByteBuffer(string: "abcdef")
        #expect(buffer.setBytes(Array("XY".utf8), at: 2) == 2)
        #expect(buffer.string == "abXYef")
        #expect(buffer.writerIndex == 6)
    }

    @Test func writeBufferConsumesTheSourceWriteImmutableBufferDoesNot() {
        var source = ByteBuffer(string: "xyz")
        var target = ByteBuffer(string: "a")
        #expect(target.writeImmutableBuffer(source) == 3)
        #expect(source.readableBytes == 3)
        #expect(target.writeBuffer(&source) == 3)
        #expect(source.readableBytes == 0)
        #expect(source.readerIndex == 3)
        #expect(target.string == "axyzxyz")
    }

    @Test func appendingABufferToItselfDoublesItsContent() {
        var buffer = ByteBuffer(string: "ab")
        buffer.writeImmutableBuffer(buffer)
        #expect(buffer.string == "abab")
        buffer.writeBytes(buffer.readableBytesView)
        #expect(buffer.string == "abababab")
    }

    @Test func writeWithUnsafeMutableBytesAdvancesByWhatWasWritten() {
        var buffer = ByteBuffer(capacity: 0)
        let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 3) { raw in
            #expect(raw.count >= 3)
            raw[0] = 9
            raw[1] = 8
            return 2
        }
        #expect(written == 2)
        #expect(buffer.writerIndex == 2)
        #expect(buffer.readBytes(length: 2) == [9, 8])
    }

    @Test func descriptionShowsIndicesAndHexBytes() {
        let buffer = ByteBuffer(bytes: [0x01, 0xFF])
        #expect(buffer.description == "ByteBuffer(readerIndex: 0, writerIndex: 2, capacity: 2, bytes: [01 ff])")
        let long = ByteBuffer(bytes: [UInt8](repeating: 0xA0, count: 40))
        #expect(long.description.hasSuffix("a0 a0 …])"))
    }

    // MARK: Copy on write and slices

    @Test func mutatingACopyDoesNotChangeTheOriginal() {
        var original = ByteBuffer(string: "abc")
        var copy = original
        copy.writeString("d")
        copy.setInteger(UInt8(ascii: "X"), at: 0)
        #expect(original.string == "abc")
        #expect(original.writerIndex == 3)
        #expect(copy.string == "Xbcd")
        // And the other way round.
        original.setInteger(UInt8(ascii: "Z"), at: 2)
        #expect(original.string == "abZ")
        #expect(copy.string == "Xbcd")
        // Reading from a copy only moves its own index.
        var reader = original
        _ = reader.readBytes(length: 2)
        #expect(original.readerIndex == 0)
    }

    @Test func slicesShareStorageUntilWritten() throws {
        var buffer = ByteBuffer(string: "hello world")
        var slice = try #require(buffer.getSlice(at: 6, length: 5))
        #expect(slice.string == "world")
        #expect(slice.readerIndex == 0)
        #expect(slice.writerIndex == 5)
        // Same bytes in memory: nothing was copied.
        let bufferBase = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let sliceBase = slice.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(sliceBase == bufferBase + 6)
        #expect(!unique(&slice))
        #expect(!unique(&buffer))

        slice.setInteger(UInt8(ascii: "W"), at: 0)
        #expect(slice.string == "World")
        #expect(buffer.string == "hello world")
        #expect(unique(&slice))
        #expect(unique(&buffer))
    }

    @Test func appendingToASliceDoesNotOverwriteTheBytesAfterIt() throws {
        let buffer = ByteBuffer(string: "hello world")
        var slice = try #require(buffer.getSlice(at: 0, length: 5))
        slice.writeString("XYZ")
        #expect(slice.string == "helloXYZ")
        #expect(buffer.string == "hello world")
    }

    @Test func readSliceMovesTheReaderIndexAndSharesStorage() throws {
        var buffer = ByteBuffer(string: "headbody")
        let readSlice = buffer.readSlice(length: 4)
        let head = try #require(readSlice)
        #expect(head.string == "head")
        #expect(buffer.readerIndex == 4)
        #expect(buffer.string == "body")
        let headBase = head.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let bodyBase = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(bodyBase == headBase + 4)
        #expect(buffer.getSlice(at: 4, length: 5) == nil)
        #expect(buffer.getSlice(at: 0, length: 1) == nil)  // before the reader index
    }

    @Test func sliceOfASliceUsesRelativeIndices() throws {
        let buffer = ByteBuffer(string: "0123456789")
        let outer = try #require(buffer.getSlice(at: 2, length: 6))   // "234567"
        let inner = try #require(outer.getSlice(at: 1, length: 3))    // "345"
        #expect(inner.string == "345")
        #expect(inner.getInteger(at: 0, as: UInt8.self) == UInt8(ascii: "3"))
    }

    @Test func uniqueSliceKeepsItsBytesWhenTheParentIsGone() throws {
        var slice: ByteBuffer
        do {
            let parent = ByteBuffer(string: "abcdefgh")
            slice = try #require(parent.getSlice(at: 2, length: 3))
        }
        #expect(unique(&slice))
        slice.writeString("!")
        #expect(slice.string == "cde!")
    }

    // MARK: discardReadBytes and reserveCapacity

    @Test func discardReadBytesMovesReadableBytesToTheFront() {
        var buffer = ByteBuffer(capacity: 16)
        buffer.writeString("abcdef")
        _ = buffer.readBytes(length: 2)
        let writableBefore = buffer.writableBytes
        buffer.discardReadBytes()
        #expect(buffer.readerIndex == 0)
        #expect(buffer.writerIndex == 4)
        #expect(buffer.string == "cdef")
        #expect(buffer.capacity == 16)
        #expect(buffer.writableBytes == writableBefore + 2)
    }

    @Test func discardReadBytesWithNothingReadChangesNothing() {
        var buffer = ByteBuffer(string: "abc")
        buffer.discardReadBytes()
        #expect(buffer.readerIndex == 0)
        #expect(buffer.writerIndex == 3)
        #expect(buffer.string == "abc")
    }

    @Test func discardReadBytesDoesNotChangeACopy() {
        var buffer = ByteBuffer(string: "abcdef")
        _ = buffer.readBytes(length: 2)
        let copy = buffer
        buffer.discardReadBytes()
        buffer.writeString("gh")
        #expect(buffer.string == "cdefgh")
        #expect(copy.readerIndex == 2)
        #expect(copy.string == "cdef")
        #expect(copy.getBytes(at: 0, length: 2) == nil)
        #expect(copy.getString(at: 2, length: 4) == "cdef")
    }

    @Test func discardReadBytesOnAUniqueSlice() throws {
        var slice: ByteBuffer
        do {
            let parent = ByteBuffer(string: "0123456789")
            slice = try #require(parent.getSlice(at: 4, length: 4))  // "4567"
        }
        _ = slice.readBytes(length: 1)
        slice.discardReadBytes()
        #expect(slice.readerIndex == 0)
        #expect(slice.string == "567")
    }

    @Test func reserveCapacityGrowsAndKeepsContentAndIndices() {
        var buffer = ByteBuffer(capacity: 4)
        buffer.writeString("abcd")
        _ = buffer.readBytes(length: 1)
        buffer.reserveCapacity(minimumWritableBytes: 100)
        #expect(buffer.writableBytes >= 100)
        #expect(buffer.readerIndex == 1)
        #expect(buffer.writerIndex == 4)
        #expect(buffer.string == "bcd")
    }

    @Test func reserveCapacityUnsharesStorage() {
        var buffer = ByteBuffer(string: "abc")
        let copy = buffer
        #expect(!unique(&buffer))
        buffer.reserveCapacity(minimumWritableBytes: 0)
        #expect(unique(&buffer))
        let bufferBase = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let copyBase = copy.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(bufferBase != copyBase)
        #expect(buffer.string == "abc")
        #expect(copy.string == "abc")
    }

    @Test func reserveCapacityWithEnoughRoomDoesNotReallocate() {
        var buffer = ByteBuffer(capacity: 64)
        buffer.writeString("abc")
        let base = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        buffer.reserveCapacity(minimumWritableBytes: 10)
        #expect(buffer.capacity == 64)
        #expect(buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } == base)
    }

    // MARK: Views, search, equality

    @Test func readableBytesViewCoversExactlyTheReadableBytes() {
        var buffer = ByteBuffer(bytes: [10, 20, 30, 40])
        _ = buffer.readInteger(as: UInt8.self)
        let view = buffer.readableBytesView
        #expect(view.startIndex == 1)
        #expect(view.endIndex == 4)
        #expect(view.count == 3)
        #expect(Array(view) == [20, 30, 40])
        #expect(view[2] == 30)
        #expect(view.first == 20)
        #expect(view.withContiguousStorageIfAvailable { Array($0) } == [20, 30, 40])
    }

    @Test func readableBytesViewIsNotChangedByLaterWrites() {
        var buffer = ByteBuffer(string: "abc")
        let view = buffer.readableBytesView
        buffer.setInteger(UInt8(ascii: "X"), at: 0)
        buffer.writeString("d")
        #expect(String(decoding: view, as: UTF8.self) == "abc")
        #expect(buffer.string == "Xbcd")
    }

    @Test func firstIndexReturnsAnAbsoluteIndexWithinTheReadableBytes() {
        var buffer = ByteBuffer(string: "ab\ncd\nef")
        #expect(buffer.firstIndex(of: UInt8(ascii: "\n")) == 2)
        _ = buffer.readBytes(length: 3)
        #expect(buffer.firstIndex(of: UInt8(ascii: "\n")) == 5)
        #expect(buffer.firstIndex(of: UInt8(ascii: "a")) == nil)   // before the reader index
        #expect(buffer.firstIndex(of: UInt8(ascii: "z")) == nil)
        buffer.moveWriterIndex(to: 5)                              // "\nef" is no longer readable
        #expect(buffer.firstIndex(of: UInt8(ascii: "\n")) == nil)
        #expect(ByteBuffer().firstIndex(of: 0) == nil)
    }

    @Test func firstIndexInASliceIsRelativeToTheSlice() throws {
        let buffer = ByteBuffer(string: "xx;yy;")
        let slice = try #require(buffer.getSlice(at: 3, length: 3))  // "yy;"
        #expect(slice.firstIndex(of: UInt8(ascii: ";")) == 2)
    }

    @Test func equalityComparesReadableBytesOnly() {
        var consumed = ByteBuffer(string: "_xy")
        _ = consumed.readBytes(length: 1)
        var bigger = ByteBuffer(capacity: 1000)
        bigger.writeString("xy")
        #expect(consumed == ByteBuffer(string: "xy"))
        #expect(bigger == ByteBuffer(string: "xy"))
        #expect(ByteBuffer(string: "xy") != ByteBuffer(string: "xz"))
        #expect(ByteBuffer(string: "xy") != ByteBuffer(string: "xyz"))
        #expect(ByteBuffer() == ByteBuffer(capacity: 0))
        #expect(ByteBuffer() != ByteBuffer(bytes: [0]))
    }
}
