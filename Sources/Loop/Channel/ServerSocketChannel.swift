import CLibev
import Glibc
import Synchronization

/// A listening TCP or Unix domain socket. Accepted connections become `SocketChannel`s on
/// the child group's loops; the server channel's pipeline sees each one as a read of
/// `any Channel`. A Unix domain socket's file is removed when the channel closes, if it is
/// still the one this channel created.
// @unchecked Sendable: What other threads read (active, the bound address) is in an Atomic and a
// Mutex; the socket and watcher are touched on the channel's loop only.
final class ServerSocketChannel: Channel, ChannelCore, ClosableChannel, @unchecked Sendable {
    let eventLoop: EventLoop
    let pipeline: ChannelPipeline
    private var fd: Int32
    private let acceptWatcher: UnsafeMutablePointer<ev_io>
    private let evLoop: OpaquePointer
    private let closePromise: EventLoopPromise<Void>
    private let activeFlag = Atomic<Bool>(false)
    private let boundAddress = Mutex<SocketAddress?>(nil)
    private var isOpen = true
    private let acceptsPerEvent = 16
    /// While accept(2) fails for lack of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM), the
    /// listening socket stays readable: watching it would spin the loop at 100 % of a core,
    /// starving the connections already open. Accepting pauses instead, 10 ms the first time,
    /// doubling up to 1 s, and resumes with the first success.
    private var acceptPause: Duration = .zero
    private var acceptRetry: ScheduledCallback?
    static let firstAcceptPause: Duration = .milliseconds(10)
    static let longestAcceptPause: Duration = .seconds(1)
    /// The socket file this channel created (Unix domain sockets), removed on close.
    private var socketFile: (path: String, device: UInt64, inode: UInt64)?

    /// Makes a child channel for an accepted socket (set by the bootstrap).
    var makeChild: ((Int32) -> Void)?

    init(fd: Int32, eventLoop: EventLoop) {
        guard case .libev(let evLoop) = eventLoop.driver else {
            preconditionFailure("server channels need a libev event loop (from an EventLoopGroup)")
        }
        self.fd = fd
        self.eventLoop = eventLoop
        self.evLoop = evLoop
        self.closePromise = eventLoop.makePromise(of: Void.self)
        self.acceptWatcher = .allocate(capacity: 1)
        self.pipeline = ChannelPipeline(eventLoop: eventLoop, transport: ServerSocketChannel.self)
        pipeline.attach(channel: self, core: self)
        clibev_io_init(acceptWatcher, serverChannelAcceptCallback, fd, Int32(EV_READ))
        acceptWatcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        eventLoop.register(self)
    }

    deinit { acceptWatcher.deallocate() }

    var closeFuture: EventLoopFuture<Void> { closePromise.futureResult }
    var isActive: Bool { activeFlag.load(ordering: .relaxed) }
    var isWritable: Bool { false }
    var localAddress: SocketAddress? { boundAddress.withLock { $0 } }
    var remoteAddress: SocketAddress? { nil }

    func setOption(_ option: ChannelOption) -> EventLoopFuture<Void> {
        eventLoop.submit { [self] in
            guard isOpen else { throw ChannelError.ioOnClosedChannel }
            try Socket.apply(option, to: fd)
        }
    }

    /// Binds and listens; call on the loop.
    func bindAndListen(to address: SocketAddress, backlog: Int32) throws {
        try Socket.bind(fd, to: address)
        if let path = address.unixDomainSocketPath, let identity = Socket.socketFileIdentity(path) {
            socketFile = (path, identity.device, identity.inode)
        }
        try Socket.listen(fd, backlog: backlog, address: address)
        boundAddress.withLock { $0 = Socket.localAddress(fd) }
        activeFlag.store(true, ordering: .relaxed)
        pipeline.head.fireChannelActive()
        ev_io_start(evLoop, acceptWatcher)
    }

    func acceptable() {
        for _ in 0..<acceptsPerEvent {
            guard isOpen else { return }
            let child = clibev_accept4(fd, nil, nil, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            if child >= 0 {
                acceptPause = .zero
                makeChild?(child)
                continue
            }
            let code = errno
            switch code {
            case EAGAIN, EWOULDBLOCK: return
            case EINTR, ECONNABORTED, EPROTO: continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                pauseAccepting(IOError(errnoCode: code, operation: "accept on \(localAddress.map { "\($0)" } ?? "socket")"))
                return
            default:
                // Report, and let the loop come back on the next event.
                pipeline.head.fireErrorCaught(IOError(errnoCode: code, operation: "accept on \(localAddress.map { "\($0)" } ?? "socket")"))
                return
            }
        }
    }

    /// Stops watching the socket for a while (see `acceptPause`), reporting why once per pause.
    private func pauseAccepting(_ error: IOError) {
        acceptPause = acceptPause == .zero ? Self.firstAcceptPause : min(acceptPause * 2, Self.longestAcceptPause)
        ev_io_stop(evLoop, acceptWatcher)
        pipeline.head.fireErrorCaught(error)
        acceptRetry = eventLoop.scheduleCallback(in: acceptPause) { [self] in
            acceptRetry = nil
            guard isOpen else { return }
            ev_io_start(evLoop, acceptWatcher)
            acceptable()
        }
    }

    func coreWrite(_ message: PipelineMessage, promise: EventLoopPromise<Void>?) {
        promise?.fail(ChannelError.operationUnsupported("a listening channel cannot write"))
    }

    func coreFlush() {}
    func coreRead() {}

    func coreClose(mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard isOpen else {
            promise?.fail(ChannelError.alreadyClosed)
            return
        }
        guard mode == .all else {
            promise?.fail(ChannelError.operationUnsupported("a listening channel closes in both directions"))
            return
        }
        closeNow()
        promise?.succeed(())
    }

    func closeForShutdown() {
        if isOpen { closeNow() }
    }

    private func closeNow() {
        isOpen = false
        activeFlag.store(false, ordering: .relaxed)
        acceptRetry?.cancel()
        acceptRetry = nil
        ev_io_stop(evLoop, acceptWatcher)
        Glibc.close(fd)
        fd = -1
        if let file = socketFile, let identity = Socket.socketFileIdentity(file.path),
           identity.device == file.device, identity.inode == file.inode {
            unlink(file.path)  // only our own file: another server may have replaced it since
        }
        socketFile = nil
        makeChild = nil
        pipeline.head.fireChannelInactive()
        pipeline.tearDown()
        eventLoop.executeOnLoop { [self] in
            eventLoop.deregister(self)
            closePromise.succeed(())
        }
    }
}

let serverChannelAcceptCallback: clibev_io_cb = { _, watcher, _ in
    Unmanaged<ServerSocketChannel>.fromOpaque(watcher!.pointee.data)._withUnsafeGuaranteedRef { $0.acceptable() }
}
