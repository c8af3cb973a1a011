import Glibc

/// Buffers written to a socket channel and not yet accepted by the kernel, with their
/// promises: a ring of entries in manually managed memory (no array bookkeeping per write).
/// Flushed buffers go out gathered into one `writev` (at most IOV_MAX at a time).
struct PendingWrites {
    private struct Entry {
        var buffer: ByteBuffer
        var promise: EventLoopPromise<Void>?
    }

    private var entries: UnsafeMutablePointer<Entry>
    private var capacity: Int
    /// Ring index of the first entry not completely written.
    private var head = 0
    /// Entries in the ring.
    private(set) var count = 0
    /// Entries (from the head) that have been flushed.
    private var flushedCount = 0
    /// Bytes queued, flushed or not.
    private(set) var totalBytes = 0

    init() {
        capacity = 16
        entries = .allocate(capacity: capacity)
    }

    /// Frees the ring; the owner calls it once, after `removeAll()`.
    func deallocate() {
        entries.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    mutating func append(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?) {
        if count == capacity { grow() }
        (entries + (head + count) % capacity).initialize(to: Entry(buffer: buffer, promise: promise))
        count += 1
        totalBytes += buffer.readableBytes
    }

    mutating func markFlushed() { flushedCount = count }

    enum WriteResult {
        /// Everything flushed was written.
        case drained
        /// The kernel took no more; wait for writability.
        case wouldBlock
        case failed(IOError)
    }

    /// Writes flushed buffers until they are all written or the socket would block. Promises
    /// of written buffers go to `completed`, to be succeeded once the channel's state is
    /// consistent (their callbacks may write again).
    mutating func writeFlushed(fd: Int32, iovecs: UnsafeMutablePointer<iovec>, iovecCapacity: Int,
                               completed: inout [EventLoopPromise<Void>]) -> WriteResult {
        while flushedCount > 0 {
            let batch = min(flushedCount, iovecCapacity)
            var batchBytes = 0
            for offset in 0..<batch {
                entries[(head + offset) % capacity].buffer.withUnsafeReadableBytes { raw in
                    iovecs[offset] = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress), iov_len: raw.count)
                    batchBytes += raw.count
                }
            }
            let written = batch == 1
                ? Glibc.send(fd, iovecs[0].iov_base, iovecs[0].iov_len, Int32(MSG_NOSIGNAL))
                : writev(fd, iovecs, Int32(batch))
            if written < 0 {
                let code = errno
                if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
                if code == EINTR { continue }
                return .failed(IOError(errnoCode: code, operation: "write"))
            }
            consume(written, completed: &completed)
            if written < batchBytes { return .wouldBlock }  // the kernel buffer is full
        }
        return .drained
    }

    /// Removes `written` bytes from the front, releasing each buffer once fully written (so
    /// a read buffer it shares can be reused at once).
    private mutating func consume(_ written: Int, completed: inout [EventLoopPromise<Void>]) {
        var remaining = written
        totalBytes -= written
        while flushedCount > 0 {
            let entry = entries + head
            let size = entry.pointee.buffer.readableBytes
            guard remaining >= size else {
                entry.pointee.buffer.moveReaderIndex(forwardBy: remaining)
                return
            }
            remaining -= size
            let done = entry.move()
            if let promise = done.promise { completed.append(promise) }
            head = (head + 1) % capacity
            count -= 1
            flushedCount -= 1
        }
    }

    /// Empties the queue, handing back the promises of everything not written.
    mutating func removeAll() -> [EventLoopPromise<Void>] {
        var failed: [EventLoopPromise<Void>] = []
        while count > 0 {
            let entry = (entries + head).move()
            if let promise = entry.promise { failed.append(promise) }
            head = (head + 1) % capacity
            count -= 1
        }
        head = 0
        flushedCount = 0
        totalBytes = 0
        return failed
    }

    private mutating func grow() {
        let newCapacity = capacity * 2
        let grown = UnsafeMutablePointer<Entry>.allocate(capacity: newCapacity)
        for offset in 0..<count {
            (grown + offset).moveInitialize(from: entries + (head + offset) % capacity, count: 1)
        }
        entries.deallocate()
        entries = grown
        capacity = newCapacity
        head = 0
    }
}
