#if canImport(Glibc)
import Glibc
#endif

/// A growable, copy-on-write buffer of bytes with separate reader and writer indices.
///
/// Bytes between `readerIndex` and `writerIndex` are readable; bytes between
/// `writerIndex` and `capacity` are writable. Slices (`readSlice`, `getSlice`) share the
/// storage of the buffer they come from: nothing is copied until one of them is written to
/// while the storage is shared.
///
/// ```swift
/// var buffer = ByteBuffer(capacity: 64)
/// buffer.writeInteger(UInt16(0x0102))
/// buffer.writeString("hi")
/// let tag = buffer.readInteger(as: UInt16.self)   // 0x0102
/// let text = buffer.readString(length: 2)         // "hi"
/// ```
public struct ByteBuffer: Sendable {
    @usableFromInline var _storage: Storage
    @usableFromInline var _reader: UInt32
    @usableFromInline var _writer: UInt32
    /// Offset of this buffer's index 0 inside the storage (non-zero for slices).
    @usableFromInline var _base: UInt32

    /// Heap storage shared by a buffer and its slices. Mutated only while uniquely referenced.
    @usableFromInline
    // @unchecked Sendable: Immutable once shared: a buffer writes into storage only while it holds
    // the only reference (copy-on-write), so threads that share one only read.
    final class Storage: @unchecked Sendable {
        // Written only while uniquely referenced (growth), so no access can overlap one:
        // the dynamic exclusivity checks on every read of these would cost more than the read.
        @exclusivity(unchecked) @usableFromInline var bytes: UnsafeMutableRawPointer
        @exclusivity(unchecked) @usableFromInline var capacity: UInt32

        @inlinable
        init(capacity: UInt32) {
            self.capacity = capacity
            guard let raw = malloc(Int(max(capacity, 1))) else {
                fatalError("ByteBuffer: out of memory allocating \(capacity) bytes")
            }
            self.bytes = raw
        }

        @usableFromInline
        func grow(to newCapacity: UInt32) {
            guard let raw = realloc(bytes, Int(newCapacity)) else {
                fatalError("ByteBuffer: out of memory growing to \(newCapacity) bytes")
            }
            bytes = raw
            capacity = newCapacity
        }

        deinit { free(bytes) }

        /// The storage of every buffer made with capacity 0. Never written: a buffer writes
        /// only into storage it alone holds, and this one is always held here as well. So an
        /// empty buffer (a handler's "nothing pending yet", reset after each hand-over) costs
        /// no allocation until its first write, which makes storage of its own.
        @usableFromInline static let empty = Storage(capacity: 0)

        /// New storage, or the shared empty one for capacity 0.
        @inlinable
        static func make(capacity: UInt32) -> Storage {
            capacity == 0 ? empty : Storage(capacity: capacity)
        }
    }

    /// Creates an empty buffer that can hold `capacity` bytes before it grows.
    @inlinable
    public init(capacity: Int = 256) {
        precondition(capacity >= 0 && capacity <= Int(UInt32.max), "ByteBuffer capacity out of range")
        _storage = Storage.make(capacity: UInt32(capacity))
        _reader = 0
        _writer = 0
        _base = 0
    }

    /// Creates a buffer holding a copy of `bytes`.
    @inlinable
    public init<Bytes: Sequence>(bytes: Bytes) where Bytes.Element == UInt8 {
        self.init(capacity: bytes.underestimatedCount)
        writeBytes(bytes)
    }

    /// Creates a buffer holding the UTF-8 bytes of `string`.
    @inlinable
    public init(string: String) {
        self.init(capacity: string.utf8.count)
        writeString(string)
    }

    // MARK: Indices

    /// Index of the first readable byte.
    @inlinable public var readerIndex: Int { Int(_reader) }
    /// Index where the next write lands.
    @inlinable public var writerIndex: Int { Int(_writer) }
    /// Number of readable bytes (`writerIndex - readerIndex`).
    @inlinable public var readableBytes: Int { Int(_writer &- _reader) }
    /// Number of bytes that can be written without growing.
    @inlinable public var writableBytes: Int { capacity - Int(_writer) }
    /// Bytes this buffer can hold before it has to grow.
    @inlinable public var capacity: Int { Int(_storage.capacity &- _base) }

    /// Moves the reader index by `offset` bytes (which must stay within the readable bytes).
    @inlinable
    public mutating func moveReaderIndex(forwardBy offset: Int) {
        let newIndex = Int(_reader) + offset
        precondition(newIndex >= 0 && newIndex <= Int(_writer), "reader index out of range")
        _reader = UInt32(truncatingIfNeeded: newIndex)
    }

    /// Sets the reader index (which must not pass the writer index).
    @inlinable
    public mutating func moveReaderIndex(to index: Int) {
        precondition(index >= 0 && index <= Int(_writer), "reader index out of range")
        _reader = UInt32(truncatingIfNeeded: index)
    }

    /// Sets the writer index (between the reader index and the capacity).
    @inlinable
    public mutating func moveWriterIndex(to index: Int) {
        precondition(index >= Int(_reader) && index <= capacity, "writer index out of range")
        _writer = UInt32(truncatingIfNeeded: index)
    }

    /// Moves the writer index forward after bytes were written through
    /// `withUnsafeMutableWritableBytes`.
    @inlinable
    public mutating func moveWriterIndex(forwardBy offset: Int) {
        moveWriterIndex(to: Int(_writer) + offset)
    }

    /// Resets both indices to zero, keeping the capacity. Does not copy.
    @inlinable
    public mutating func clear() {
        if !isKnownUniquelyReferenced(&_storage) {
            _storage = Storage.make(capacity: UInt32(capacity))
        }
        _reader = 0
        _writer = 0
        _base = 0
    }

    /// Moves the readable bytes to the front, so the space already read can be written again.
    public mutating func discardReadBytes() {
        guard _reader > 0 else { return }
        let count = readableBytes
        if isKnownUniquelyReferenced(&_storage) {
            // Also rebases a uniquely owned slice to the start of its storage.
            memmove(_storage.bytes, _storage.bytes + Int(_base) + Int(_reader), count)
        } else {
            let fresh = Storage.make(capacity: UInt32(max(capacity, count)))
            fresh.bytes.copyMemory(from: _storage.bytes + Int(_base) + Int(_reader), byteCount: count)
            _storage = fresh
        }
        _base = 0
        _reader = 0
        _writer = UInt32(count)
    }

    /// Makes sure at least `minimumWritableBytes` can be written, growing and un-sharing the
    /// storage when needed.
    @inlinable
    public mutating func reserveCapacity(minimumWritableBytes: Int) {
        if _slowPath(!isKnownUniquelyReferenced(&_storage)) {
            _copyStorage(minimumWritableBytes: minimumWritableBytes)
        } else if _slowPath(minimumWritableBytes > writableBytes) {
            _grow(minimumWritableBytes: minimumWritableBytes)
        }
    }

    @usableFromInline
    mutating func _copyStorage(minimumWritableBytes: Int) {
        let used = Int(_writer)
        let needed = used + max(minimumWritableBytes, 0)
        var newCapacity = max(capacity, needed)
        if capacity == 0, needed > 0 {
            // Out of the shared empty storage: grow as `_grow` would from an empty buffer.
            newCapacity = 64
            while newCapacity < needed { newCapacity &*= 2 }
        }
        precondition(newCapacity <= Int(UInt32.max), "ByteBuffer larger than 4 GiB")
        let fresh = Storage.make(capacity: UInt32(newCapacity))
        fresh.bytes.copyMemory(from: _storage.bytes + Int(_base), byteCount: used)
        _storage = fresh
        _base = 0
    }

    @usableFromInline
    mutating func _grow(minimumWritableBytes: Int) {
        let needed = Int(_base) + Int(_writer) + minimumWritableBytes
        precondition(needed <= Int(UInt32.max), "ByteBuffer larger than 4 GiB")
        var newCapacity = max(Int(_storage.capacity), 64)
        while newCapacity < needed { newCapacity &*= 2 }
        _storage.grow(to: UInt32(min(newCapacity, Int(UInt32.max))))
    }

    /// True when no other buffer or slice shares this buffer's storage.
    @inlinable
    public mutating func isStorageUnique() -> Bool {
        isKnownUniquelyReferenced(&_storage)
    }

    // MARK: Raw access

    /// Calls `body` with the readable bytes.
    @inlinable
    public func withUnsafeReadableBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: _storage.bytes + Int(_base) + Int(_reader), count: readableBytes))
    }

    /// Calls `body` with the readable bytes to change them in place (the storage is made
    /// unique first, so no other buffer sees the change).
    @inlinable
    public mutating func withUnsafeMutableReadableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        reserveCapacity(minimumWritableBytes: 0)
        return try body(UnsafeMutableRawBufferPointer(start: _storage.bytes + Int(_base) + Int(_reader), count: readableBytes))
    }

    /// Calls `body` with the writable bytes; move the writer index afterwards by what was written.
    @inlinable
    public mutating func withUnsafeMutableWritableBytes<R>(
        _ body: (UnsafeMutableRawBufferPointer) throws -> R
    ) rethrows -> R {
        reserveCapacity(minimumWritableBytes: 0)
        return try body(UnsafeMutableRawBufferPointer(start: _storage.bytes + Int(_base) + Int(_writer), count: writableBytes))
    }

    /// Writes through `body`, which returns how many bytes it wrote into the buffer it is given
    /// (at least `minimumWritableBytes` long).
    @inlinable
    public mutating func writeWithUnsafeMutableBytes(
        minimumWritableBytes: Int,
        _ body: (UnsafeMutableRawBufferPointer) throws -> Int
    ) rethrows -> Int {
        reserveCapacity(minimumWritableBytes: minimumWritableBytes)
        let written = try body(UnsafeMutableRawBufferPointer(start: _storage.bytes + Int(_base) + Int(_writer), count: writableBytes))
        precondition(written >= 0 && written <= writableBytes, "wrote outside the buffer")
        _writer &+= UInt32(truncatingIfNeeded: written)
        return written
    }

    @inlinable
    func _pointer(at index: Int) -> UnsafeMutableRawPointer {
        _storage.bytes + Int(_base) + index
    }

    @inlinable
    func _inReadableRange(_ index: Int, _ length: Int) -> Bool {
        index >= Int(_reader) && length >= 0 && index <= Int(_writer) - length
    }

    // MARK: Writing

    /// Appends `bytes` and returns how many were written.
    @inlinable
    @discardableResult
    public mutating func writeBytes<Bytes: Sequence>(_ bytes: Bytes) -> Int where Bytes.Element == UInt8 {
        if let written = bytes.withContiguousStorageIfAvailable({ writeBytes(UnsafeRawBufferPointer($0)) }) {
            return written
        }
        var count = 0
        for byte in bytes {
            writeInteger(byte)
            count += 1
        }
        return count
    }

    /// Appends the bytes in `pointer`.
    @inlinable
    @discardableResult
    public mutating func writeBytes(_ pointer: UnsafeRawBufferPointer) -> Int {
        let count = pointer.count
        reserveCapacity(minimumWritableBytes: count)
        if count > 0 {
            _pointer(at: Int(_writer)).copyMemory(from: pointer.baseAddress!, byteCount: count)
        }
        _writer &+= UInt32(truncatingIfNeeded: count)
        return count
    }

    /// Appends the readable bytes of `other`, leaving `other` untouched.
    @inlinable
    @discardableResult
    public mutating func writeImmutableBuffer(_ other: ByteBuffer) -> Int {
        other.withUnsafeReadableBytes { writeBytes($0) }
    }

    /// Appends the readable bytes of `other` and consumes them from `other`.
    @inlinable
    @discardableResult
    public mutating func writeBuffer(_ other: inout ByteBuffer) -> Int {
        let written = writeImmutableBuffer(other)
        other.moveReaderIndex(forwardBy: written)
        return written
    }

    /// Appends the UTF-8 bytes of `string`.
    @inlinable
    @discardableResult
    public mutating func writeString(_ string: String) -> Int {
        var string = string
        return string.withUTF8 { writeBytes(UnsafeRawBufferPointer($0)) }
    }

    /// Appends `count` copies of `byte`.
    @inlinable
    @discardableResult
    public mutating func writeRepeatingByte(_ byte: UInt8, count: Int) -> Int {
        reserveCapacity(minimumWritableBytes: count)
        _pointer(at: Int(_writer)).initializeMemory(as: UInt8.self, repeating: byte, count: count)
        _writer &+= UInt32(truncatingIfNeeded: count)
        return count
    }

    /// Appends `value` in the given byte order (network order, big-endian, by default).
    @inlinable
    @discardableResult
    public mutating func writeInteger<T: FixedWidthInteger>(_ value: T, endianness: Endianness = .big) -> Int {
        let size = MemoryLayout<T>.size
        reserveCapacity(minimumWritableBytes: size)
        _pointer(at: Int(_writer)).storeBytes(of: endianness == .big ? value.bigEndian : value.littleEndian, as: T.self)
        _writer &+= UInt32(truncatingIfNeeded: size)
        return size
    }

    /// Overwrites the bytes at `index` (inside the buffer's written part) with `value`.
    @inlinable
    @discardableResult
    public mutating func setInteger<T: FixedWidthInteger>(_ value: T, at index: Int, endianness: Endianness = .big) -> Int {
        let size = MemoryLayout<T>.size
        precondition(index >= 0 && index + size <= Int(_writer), "setInteger outside the written bytes")
        reserveCapacity(minimumWritableBytes: 0)
        _pointer(at: index).storeBytes(of: endianness == .big ? value.bigEndian : value.littleEndian, as: T.self)
        return size
    }

    /// Overwrites the bytes at `index` (inside the buffer's written part) with `bytes`.
    @inlinable
    @discardableResult
    public mutating func setBytes<Bytes: Collection>(_ bytes: Bytes, at index: Int) -> Int where Bytes.Element == UInt8 {
        precondition(index >= 0 && index + bytes.count <= Int(_writer), "setBytes outside the written bytes")
        reserveCapacity(minimumWritableBytes: 0)
        var offset = index
        for byte in bytes {
            _pointer(at: offset).storeBytes(of: byte, as: UInt8.self)
            offset += 1
        }
        return bytes.count
    }

    // MARK: Reading without moving the reader index

    /// The integer at `index`, or nil if it is not entirely readable.
    @inlinable
    public func getInteger<T: FixedWidthInteger>(at index: Int, endianness: Endianness = .big, as: T.Type = T.self) -> T? {
        guard _inReadableRange(index, MemoryLayout<T>.size) else { return nil }
        let raw = _pointer(at: index).loadUnaligned(as: T.self)
        return endianness == .big ? T(bigEndian: raw) : T(littleEndian: raw)
    }

    /// A copy of `length` bytes at `index`, or nil if they are not readable.
    @inlinable
    public func getBytes(at index: Int, length: Int) -> [UInt8]? {
        guard _inReadableRange(index, length) else { return nil }
        return Array(UnsafeRawBufferPointer(start: _pointer(at: index), count: length))
    }

    /// `length` bytes at `index` decoded as UTF-8 (invalid bytes repaired), or nil.
    @inlinable
    public func getString(at index: Int, length: Int) -> String? {
        guard _inReadableRange(index, length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: _pointer(at: index), count: length), as: UTF8.self)
    }

    /// A buffer sharing this one's storage whose readable bytes are `length` bytes at `index`.
    @inlinable
    public func getSlice(at index: Int, length: Int) -> ByteBuffer? {
        guard _inReadableRange(index, length) else { return nil }
        var slice = self
        slice._base = _base &+ UInt32(truncatingIfNeeded: index)
        slice._reader = 0
        slice._writer = UInt32(truncatingIfNeeded: length)
        return slice
    }

    // MARK: Reading and consuming

    /// Reads an integer and moves the reader index past it; nil if not enough bytes.
    @inlinable
    public mutating func readInteger<T: FixedWidthInteger>(endianness: Endianness = .big, as: T.Type = T.self) -> T? {
        guard let value = getInteger(at: Int(_reader), endianness: endianness, as: T.self) else { return nil }
        _reader &+= UInt32(truncatingIfNeeded: MemoryLayout<T>.size)
        return value
    }

    /// Reads `length` bytes into an array; nil if not enough bytes.
    @inlinable
    public mutating func readBytes(length: Int) -> [UInt8]? {
        guard let bytes = getBytes(at: Int(_reader), length: length) else { return nil }
        _reader &+= UInt32(truncatingIfNeeded: length)
        return bytes
    }

    /// Reads `length` bytes as a UTF-8 string; nil if not enough bytes.
    @inlinable
    public mutating func readString(length: Int) -> String? {
        guard let string = getString(at: Int(_reader), length: length) else { return nil }
        _reader &+= UInt32(truncatingIfNeeded: length)
        return string
    }

    /// Reads `length` bytes as a slice sharing storage; nil if not enough bytes.
    @inlinable
    public mutating func readSlice(length: Int) -> ByteBuffer? {
        guard let slice = getSlice(at: Int(_reader), length: length) else { return nil }
        _reader &+= UInt32(truncatingIfNeeded: length)
        return slice
    }

    /// The readable bytes as a collection, without copying.
    @inlinable
    public var readableBytesView: ByteBufferView { ByteBufferView(self) }

    /// The index of the first `byte` among the readable bytes, or nil.
    @inlinable
    public func firstIndex(of byte: UInt8) -> Int? {
        withUnsafeReadableBytes { raw -> Int? in
            guard let base = raw.baseAddress, raw.count > 0,
                  let hit = memchr(base, Int32(byte), raw.count) else { return nil }
            return Int(_reader) + (UnsafeRawPointer(hit) - base)
        }
    }
}

/// Byte order for integer reads and writes.
public enum Endianness: Sendable {
    case big
    case little
}

/// A read-only, random-access view of a buffer's readable bytes that shares its storage.
public struct ByteBufferView: RandomAccessCollection, Sendable {
    @usableFromInline let buffer: ByteBuffer

    @inlinable
    init(_ buffer: ByteBuffer) { self.buffer = buffer }

    @inlinable public var startIndex: Int { buffer.readerIndex }
    @inlinable public var endIndex: Int { buffer.writerIndex }

    @inlinable
    public subscript(position: Int) -> UInt8 {
        precondition(position >= startIndex && position < endIndex, "index out of range")
        return buffer._pointer(at: position).load(as: UInt8.self)
    }

    @inlinable
    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        try buffer.withUnsafeReadableBytes { try body($0.bindMemory(to: UInt8.self)) }
    }
}

extension ByteBuffer: Equatable {
    /// Two buffers are equal when their readable bytes are equal.
    public static func == (lhs: ByteBuffer, rhs: ByteBuffer) -> Bool {
        guard lhs.readableBytes == rhs.readableBytes else { return false }
        return lhs.withUnsafeReadableBytes { l in
            rhs.withUnsafeReadableBytes { r in
                l.count == 0 || memcmp(l.baseAddress!, r.baseAddress!, l.count) == 0
            }
        }
    }
}

extension ByteBuffer: CustomStringConvertible {
    public var description: String {
        let preview = readableBytesView.prefix(32).map { byte -> String in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined(separator: " ")
        return "ByteBuffer(readerIndex: \(readerIndex), writerIndex: \(writerIndex), capacity: \(capacity), bytes: [\(preview)\(readableBytes > 32 ? " …" : "")])"
    }
}
