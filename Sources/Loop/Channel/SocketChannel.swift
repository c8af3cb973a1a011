import CLibev
import Glibc
import Synchronization

/// A TCP or Unix domain stream connection driven by libev read and write watchers on its loop.
// @unchecked Sendable: What other threads read (active, writable, the addresses) is in Atomics and
// a Mutex; everything else is touched on the channel's loop only, and the public operations hop
// there.
final class SocketChannel: Channel, ChannelCore, ClosableChannel, @unchecked Sendable {
    let eventLoop: EventLoop
    let pipeline: ChannelPipeline
    @exclusivity(unchecked) private(set) var fd: Int32
    private let readWatcher: UnsafeMutablePointer<ev_io>
    private let writeWatcher: UnsafeMutablePointer<ev_io>
    private let evLoop: OpaquePointer
    private let closePromise: EventLoopPromise<Void>

    // The mutable state below belongs to the loop thread, and no method re-enters while it
    // holds an access to one of these properties (calls out to handlers pass copies), so
    // the dynamic exclusivity checks Swift would otherwise make on every message — a third
    // of the per-message instructions — are turned off for them.
    enum State { case idle, connecting, active, closed }
    @exclusivity(unchecked) private var state: State = .idle
    private let activeFlag = Atomic<Bool>(false)
    private let writableFlag = Atomic<Bool>(true)
    private let addresses = Mutex<(local: SocketAddress?, remote: SocketAddress?)>((nil, nil))

    // Reading.
    @exclusivity(unchecked) private var receiveBuffer: ByteBuffer
    @exclusivity(unchecked) private var receiveSize = 2048
    private static let maximumReceiveSize = 64 * 1024
    @exclusivity(unchecked) private var autoRead = true
    @exclusivity(unchecked) private var readRequested = false
    @exclusivity(unchecked) private var maxReadsPerEvent = 4
    @exclusivity(unchecked) private var allowRemoteHalfClosure = false
    @exclusivity(unchecked) private var inputClosed = false

    // Writing.
    @exclusivity(unchecked) private var pending = PendingWrites()
    @exclusivity(unchecked) private var completedWrites: [EventLoopPromise<Void>] = []
    @exclusivity(unchecked) private var isWritable_ = true
    @exclusivity(unchecked) private var lowWaterMark = 32 * 1024
    @exclusivity(unchecked) private var highWaterMark = 64 * 1024
    @exclusivity(unchecked) private var outputClosed = false
    @exclusivity(unchecked) private var outputShutdownPromise: EventLoopPromise<Void>??

    // Connecting.
    private var connectPromise: EventLoopPromise<Void>?
    private var connectTimer: LoopTimer?
    private var connectTimeout: Duration = .seconds(10)
    private var connectAddress: SocketAddress?
    private var activateOnConnect = true

    /// Wraps `fd` (already non-blocking) on `eventLoop`; call on that loop.
    init(fd: Int32, eventLoop: EventLoop) {
        guard case .libev(let evLoop) = eventLoop.driver else {
            preconditionFailure("socket channels need a libev event loop (from an EventLoopGroup)")
        }
        self.fd = fd
        self.eventLoop = eventLoop
        self.evLoop = evLoop
        self.closePromise = eventLoop.makePromise(of: Void.self)
        self.readWatcher = .allocate(capacity: 1)
        self.writeWatcher = .allocate(capacity: 1)
        self.receiveBuffer = ByteBuffer(capacity: receiveSize)
        self.pipeline = ChannelPipeline(eventLoop: eventLoop, transport: SocketChannel.self)
        pipeline.attach(channel: self, core: self)
        let me = Unmanaged.passUnretained(self).toOpaque()
        clibev_io_init(readWatcher, socketChannelReadCallback, fd, Int32(EV_READ))
        readWatcher.pointee.data = me
        clibev_io_init(writeWatcher, socketChannelWriteCallback, fd, Int32(EV_WRITE))
        writeWatcher.pointee.data = me
        eventLoop.register(self)
    }

    deinit {
        readWatcher.deallocate()
        writeWatcher.deallocate()
        _ = pending.removeAll()
        pending.deallocate()
    }

    var closeFuture: EventLoopFuture<Void> { closePromise.futureResult }
    var isActive: Bool { activeFlag.load(ordering: .relaxed) }
    var isWritable: Bool { writableFlag.load(ordering: .relaxed) }
    var localAddress: SocketAddress? { addresses.withLock { $0.local } }
    var remoteAddress: SocketAddress? { addresses.withLock { $0.remote } }

    func setOption(_ option: ChannelOption) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        let apply = { [self] in
            do {
                try applyOption(option)
                promise.succeed(())
            } catch {
                promise.fail(error)
            }
        }
        if eventLoop.inEventLoop { apply() } else { eventLoop.executeOnLoop(apply) }
        return promise.futureResult
    }

    /// Applies an option on the loop.
    func applyOption(_ option: ChannelOption) throws {
        guard state != .closed else { throw ChannelError.ioOnClosedChannel }
        if try Socket.apply(option, to: fd) { return }
        switch option {
        case .autoRead(let on):
            autoRead = on
            if state == .active { updateReadInterest() }
        case .allowRemoteHalfClosure(let on): allowRemoteHalfClosure = on
        case .writeBufferWaterMark(let low, let high):
            precondition(low >= 0 && low <= high, "writeBufferWaterMark needs 0 <= low <= high")
            lowWaterMark = low
            highWaterMark = high
        case .maxReadsPerEvent(let count):
            precondition(count > 0, "maxReadsPerEvent must be positive")
            maxReadsPerEvent = count
        case .connectTimeout(let limit): connectTimeout = limit
        case .backlog: break  // listening sockets only
        default: break
        }
    }

    // MARK: Becoming active

    /// Starts a non-blocking connect; `promise` completes once connected. With `activate`
    /// false the channel stays inactive until the caller calls `becomeActive` (a bootstrap
    /// sets up the pipeline of the connection that succeeded first).
    func connect(to address: SocketAddress, activate: Bool = true, promise: EventLoopPromise<Void>) {
        connectAddress = address
        activateOnConnect = activate
        let rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        if rc == 0 {
            state = .connecting
            if activate { becomeActive() }
            promise.succeed(())
            return
        }
        let code = errno
        guard code == EINPROGRESS else {
            promise.fail(IOError(errnoCode: code, operation: "connect to \(address)"))
            closeNow(error: nil, promise: nil)
            return
        }
        state = .connecting
        connectPromise = promise
        ev_io_start(evLoop, writeWatcher)
        let limit = connectTimeout
        connectTimer = eventLoop.scheduleOnLoop(in: limit) { [self] in
            guard state == .connecting, let promise = connectPromise else { return }
            connectPromise = nil
            promise.fail(ChannelError.connectTimeout(limit))
            closeNow(error: nil, promise: nil)
        }
    }

    private func finishConnect() {
        ev_io_stop(evLoop, writeWatcher)
        connectTimer?.cancel()
        connectTimer = nil
        guard let promise = connectPromise else { return }
        connectPromise = nil
        let code = Socket.pendingError(fd)
        if code == 0 {
            if activateOnConnect { becomeActive() }
            promise.succeed(())
        } else {
            promise.fail(IOError(errnoCode: code, operation: "connect to \(connectAddress.map { "\($0)" } ?? "peer")"))
            closeNow(error: nil, promise: nil)
        }
    }

    /// Marks the channel active, fires channelActive and starts reading (if autoRead).
    func becomeActive() {
        state = .active
        activeFlag.store(true, ordering: .relaxed)
        let local = Socket.localAddress(fd)
        let remote = Socket.peerAddress(fd)
        addresses.withLock { $0 = (local, remote) }
        pipeline.head.fireChannelActive()
        if state == .active { updateReadInterest() }
    }

    private func updateReadInterest() {
        let wanted = !inputClosed && (autoRead || readRequested)
        let active = clibev_is_active(readWatcher) != 0
        if wanted && !active {
            ev_io_start(evLoop, readWatcher)
        } else if !wanted && active {
            ev_io_stop(evLoop, readWatcher)
        }
    }

    // MARK: Reading

    func readable() {
        // This event uses up a pending read() request; handlers may ask again while reading.
        if !autoRead { readRequested = false }
        var reads = 0
        var readAnything = false
        readLoop: while state == .active && !inputClosed {
            // Reuse the receive buffer when no handler kept it: no allocation per read.
            if receiveBuffer.isStorageUnique() && receiveBuffer.capacity >= receiveSize {
                receiveBuffer.clear()
            } else {
                receiveBuffer = ByteBuffer(capacity: receiveSize)
            }
            let capacity = receiveBuffer.writableBytes
            let count = receiveBuffer.withUnsafeMutableWritableBytes { raw in
                Glibc.read(fd, raw.baseAddress, raw.count)
            }
            if count > 0 {
                receiveBuffer.moveWriterIndex(forwardBy: count)
                readAnything = true
                reads += 1
                pipeline.head.fireChannelRead(receiveBuffer)
                if count < capacity || reads >= maxReadsPerEvent { break readLoop }
                if receiveSize < SocketChannel.maximumReceiveSize { receiveSize *= 2 }
            } else if count == 0 {
                if readAnything { pipeline.head.fireChannelReadComplete(); readAnything = false }
                peerClosedInput()
                break readLoop
            } else {
                let code = errno
                switch code {
                case EINTR: continue readLoop
                case EAGAIN, EWOULDBLOCK: break readLoop
                default:
                    if readAnything { pipeline.head.fireChannelReadComplete(); readAnything = false }
                    let error = IOError(errnoCode: code, operation: "read")
                    pipeline.head.fireErrorCaught(error)
                    closeNow(error: error, promise: nil)
                    return
                }
            }
        }
        if readAnything { pipeline.head.fireChannelReadComplete() }
        if !autoRead && state == .active { updateReadInterest() }
    }

    private func peerClosedInput() {
        guard allowRemoteHalfClosure, !outputClosed else {
            closeNow(error: nil, promise: nil)
            return
        }
        inputClosed = true
        updateReadInterest()
        pipeline.head.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }

    func coreRead() {
        guard state == .active, !inputClosed else { return }
        readRequested = true
        updateReadInterest()
    }

    // MARK: Writing

    func coreWrite(_ message: PipelineMessage, promise: EventLoopPromise<Void>?) {
        guard state == .active || state == .connecting else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        guard !outputClosed, outputShutdownPromise == nil else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        guard case .bytes(let buffer) = message.storage else {
            promise?.fail(ChannelError.unsupportedMessageType(message.typeName))
            return
        }
        pending.append(buffer, promise: promise)
        if isWritable_ && pending.totalBytes > highWaterMark {
            isWritable_ = false
            writableFlag.store(false, ordering: .relaxed)
            pipeline.head.fireChannelWritabilityChanged()
        }
    }

    func coreFlush() {
        pending.markFlushed()
        guard state == .active, clibev_is_active(writeWatcher) == 0 else { return }
        writeFlushed()
    }

    private func writeFlushed() {
        let result = pending.writeFlushed(fd: fd, iovecs: eventLoop.iovecs, iovecCapacity: eventLoop.iovecCapacity,
                                          completed: &completedWrites)
        switch result {
        case .drained:
            if clibev_is_active(writeWatcher) != 0 { ev_io_stop(evLoop, writeWatcher) }
        case .wouldBlock:
            if clibev_is_active(writeWatcher) == 0 { ev_io_start(evLoop, writeWatcher) }
        case .failed(let error):
            succeedCompletedWrites()
            pipeline.head.fireErrorCaught(error)
            closeNow(error: error, promise: nil)
            return
        }
        succeedCompletedWrites()
        if !isWritable_ && pending.totalBytes < lowWaterMark && state == .active {
            isWritable_ = true
            writableFlag.store(true, ordering: .relaxed)
            pipeline.head.fireChannelWritabilityChanged()
        }
        if case .drained = result, pending.isEmpty, let promise = outputShutdownPromise {
            outputShutdownPromise = nil
            shutdownOutput(promise: promise)
        }
    }

    private func succeedCompletedWrites() {
        guard !completedWrites.isEmpty else { return }
        let done = completedWrites
        completedWrites.removeAll(keepingCapacity: true)
        for promise in done { promise.succeed(()) }
    }

    func writable() {
        if state == .connecting {
            finishConnect()
        } else if state == .active {
            writeFlushed()
        }
    }

    // MARK: Closing

    func coreClose(mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard state != .closed else {
            promise?.fail(ChannelError.alreadyClosed)
            return
        }
        switch mode {
        case .all:
            closeNow(error: nil, promise: promise)
        case .output:
            guard !outputClosed, outputShutdownPromise == nil else {
                promise?.fail(ChannelError.outputClosed)
                return
            }
            pending.markFlushed()
            if pending.isEmpty {
                shutdownOutput(promise: promise)
            } else {
                // Sent once everything written so far is out.
                outputShutdownPromise = .some(promise)
                if state == .active && clibev_is_active(writeWatcher) == 0 { writeFlushed() }
            }
        case .input:
            shutdown(fd, Int32(SHUT_RD))
            inputClosed = true
            updateReadInterest()
            promise?.succeed(())
        }
    }

    private func shutdownOutput(promise: EventLoopPromise<Void>?) {
        if Glibc.shutdown(fd, Int32(SHUT_WR)) != 0 && errno != ENOTCONN {
            let error = IOError(errnoCode: errno, operation: "shutdown(output)")
            promise?.fail(error)
            pipeline.head.fireErrorCaught(error)
            closeNow(error: error, promise: nil)
            return
        }
        outputClosed = true
        promise?.succeed(())
        pipeline.head.fireUserInboundEventTriggered(ChannelEvent.outputClosed)
        if inputClosed { closeNow(error: nil, promise: nil) }
    }

    func closeForShutdown() {
        if state != .closed { closeNow(error: nil, promise: nil) }
    }

    /// Closes the socket, fails what was not written, fires channelInactive, removes the
    /// handlers and completes `closeFuture`.
    private func closeNow(error: (any Error)?, promise: EventLoopPromise<Void>?) {
        guard state != .closed else {
            promise?.fail(ChannelError.alreadyClosed)
            return
        }
        let wasActive = state == .active
        state = .closed
        activeFlag.store(false, ordering: .relaxed)
        ev_io_stop(evLoop, readWatcher)
        ev_io_stop(evLoop, writeWatcher)
        Glibc.close(fd)
        fd = -1
        connectTimer?.cancel()
        connectTimer = nil
        if let connect = connectPromise {
            connectPromise = nil
            connect.fail(error ?? ChannelError.ioOnClosedChannel)
        }
        succeedCompletedWrites()
        for unwritten in pending.removeAll() {
            unwritten.fail(error ?? ChannelError.ioOnClosedChannel)
        }
        if let shutdownPromise = outputShutdownPromise {
            outputShutdownPromise = nil
            shutdownPromise?.fail(ChannelError.ioOnClosedChannel)
        }
        promise?.succeed(())
        if wasActive { pipeline.head.fireChannelInactive() }
        pipeline.tearDown()
        // Deregistering later keeps this channel alive until the caller's stack unwinds.
        eventLoop.executeOnLoop { [self] in
            eventLoop.deregister(self)
            closePromise.succeed(())
        }
    }
}

let socketChannelReadCallback: clibev_io_cb = { _, watcher, _ in
    Unmanaged<SocketChannel>.fromOpaque(watcher!.pointee.data)._withUnsafeGuaranteedRef { $0.readable() }
}

let socketChannelWriteCallback: clibev_io_cb = { _, watcher, _ in
    Unmanaged<SocketChannel>.fromOpaque(watcher!.pointee.data)._withUnsafeGuaranteedRef { $0.writable() }
}
