import Glibc

/// Buffers written to a socket channel and not yet accepted by the kernel, with their
/// promises. Flushed buffers go out gathered into one `writev` (at most IOV_MAX at a time).
struct PendingWrites {
    private(set) var buffers: [ByteBuffer] = []
    private var promises: [EventLoopPromise<Void>?] = []
    /// Index of the first buffer not completely written.
    private var first = 0
    /// Buffers before this index have been flushed.
    private var flushedEnd = 0
    /// Bytes queued, flushed or not.
    private(set) var totalBytes = 0

    var hasFlushed: Bool { first < flushedEnd }
    var isEmpty: Bool { first == buffers.count }

    mutating func append(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?) {
        buffers.append(buffer)
        promises.append(promise)
        totalBytes += buffer.readableBytes
    }

    mutating func markFlushed() { flushedEnd = buffers.count }

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
        while first < flushedEnd {
            var count = 0
            var index = first
            while index < flushedEnd && count < iovecCapacity {
                buffers[index].withUnsafeReadableBytes { raw in
                    iovecs[count] = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress), iov_len: raw.count)
                }
                count += 1
                index += 1
            }
            let written = count == 1
                ? Glibc.send(fd, iovecs[0].iov_base, iovecs[0].iov_len, Int32(MSG_NOSIGNAL))
                : writev(fd, iovecs, Int32(count))
            if written < 0 {
                let code = errno
                if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
                if code == EINTR { continue }
                return .failed(IOError(errnoCode: code, operation: "write"))
            }
            consume(written, completed: &completed)
            if first < index { return .wouldBlock }  // partial write: the kernel buffer is full
        }
        if first == buffers.count {
            buffers.removeAll(keepingCapacity: true)
            promises.removeAll(keepingCapacity: true)
            first = 0
            flushedEnd = 0
        }
        return .drained
    }

    private mutating func consume(_ written: Int, completed: inout [EventLoopPromise<Void>]) {
        var remaining = written
        totalBytes -= written
        while remaining > 0 || (first < flushedEnd && buffers[first].readableBytes == 0) {
            let size = buffers[first].readableBytes
            if remaining >= size {
                remaining -= size
                // Drop the reference now so the read buffer it may share can be reused.
                buffers[first] = PendingWrites.empty
                if let promise = promises[first] { completed.append(promise) }
                promises[first] = nil
                first += 1
                if first == flushedEnd { break }
            } else {
                buffers[first].moveReaderIndex(forwardBy: remaining)
                remaining = 0
            }
        }
    }

    /// Empties the queue, handing back the promises of everything not written.
    mutating func removeAll() -> [EventLoopPromise<Void>] {
        let failed = promises[first...].compactMap { $0 }
        buffers.removeAll()
        promises.removeAll()
        first = 0
        flushedEnd = 0
        totalBytes = 0
        return failed
    }

    private static let empty = ByteBuffer(capacity: 0)
}
