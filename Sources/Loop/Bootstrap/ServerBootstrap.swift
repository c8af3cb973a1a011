import Glibc

/// Sets up a listening TCP or Unix domain socket server.
///
/// ```swift
/// let group = EventLoopGroup()
/// let server = try await ServerBootstrap(group: group)
///     .childChannelInitializer { channel in
///         try channel.pipeline.addHandler(EchoHandler())
///     }
///     .bind(host: "127.0.0.1", port: 9999)
///     .get()
/// print("listening on", server.localAddress!)
/// try await server.closeFuture.get()
/// ```
public struct ServerBootstrap: Sendable {
    private let group: EventLoopGroup
    private let childGroup: EventLoopGroup
    private var serverOptions: [ChannelOption] = [.reuseAddress(true)]
    private var childOptions: [ChannelOption] = [.tcpNoDelay(true)]
    private var childInitializer: (@Sendable (any Channel) throws -> Void)?
    private var backlog: Int32 = 256

    /// Listens on a loop of `group`; accepted connections go to `childGroup`'s loops in turn.
    public init(group: EventLoopGroup, childGroup: EventLoopGroup? = nil) {
        self.group = group
        self.childGroup = childGroup ?? group
    }

    /// An option for the listening socket (e.g. `.backlog`, `.reusePort`).
    public func serverOption(_ option: ChannelOption) -> ServerBootstrap {
        var copy = self
        if case .backlog(let value) = option { copy.backlog = value }
        copy.serverOptions.append(option)
        return copy
    }

    /// An option for every accepted connection (e.g. `.tcpNoDelay`, `.autoRead`). TCP and
    /// port options are skipped for Unix domain sockets.
    public func childOption(_ option: ChannelOption) -> ServerBootstrap {
        var copy = self
        copy.childOptions.append(option)
        return copy
    }

    /// Sets up each accepted connection's pipeline. Runs on the connection's loop, before
    /// it becomes active; a thrown error closes the connection.
    public func childChannelInitializer(_ initializer: @escaping @Sendable (any Channel) throws -> Void) -> ServerBootstrap {
        var copy = self
        copy.childInitializer = initializer
        return copy
    }

    /// Listens on `host:port` (port 0 picks a free port; read it from `localAddress`). A
    /// name is resolved off the loop and the server listens on its first address in
    /// `getaddrinfo`'s order (bind `"::"` or `"0.0.0.0"` to listen on every address).
    public func bind(host: String, port: Int) -> EventLoopFuture<any Channel> {
        let loop = group.next()
        let bootstrap = self
        return NameResolution.resolveAll(host: host, port: port, on: loop, using: { try SocketAddress.resolveAll(host: $0, port: $1) })
            .flatMap { addresses in bootstrap.bind(to: addresses[0], on: loop, spreadChildren: true) }
    }

    /// Listens on `address` (IP or Unix domain).
    public func bind(to address: SocketAddress) -> EventLoopFuture<any Channel> {
        bind(to: address, on: group.next(), spreadChildren: true)
    }

    /// Listens on a Unix domain socket at `path`, creating the socket file; closing the
    /// server removes it (unless another file has replaced it since). If a file is already
    /// at `path` the bind fails with an `IOError` (EADDRINUSE) naming the path, unless
    /// `cleanupExistingSocketFile` is true and that file is a socket nobody listens on any
    /// more (left by a server that died): then it is removed first. A file that is not a
    /// socket, or a socket a server listens on, is never removed.
    ///
    /// ```swift
    /// let server = try await ServerBootstrap(group: group)
    ///     .childChannelInitializer { channel in try channel.pipeline.addHandler(EchoHandler()) }
    ///     .bind(unixDomainSocketPath: "/run/echo.sock", cleanupExistingSocketFile: true)
    ///     .get()
    /// ```
    public func bind(unixDomainSocketPath path: String, cleanupExistingSocketFile: Bool = false) -> EventLoopFuture<any Channel> {
        let loop = group.next()
        let address: SocketAddress
        do {
            address = try SocketAddress(unixDomainSocketPath: path)
        } catch {
            return loop.makeFailedFuture(error)
        }
        return bind(to: address, on: loop, spreadChildren: true, cleanupExistingSocketFile: cleanupExistingSocketFile)
    }

    /// Listens on `endpoint`: `bind(host:port:)` or `bind(unixDomainSocketPath:)` (an
    /// existing file at the path fails the bind).
    public func bind(to endpoint: Endpoint) -> EventLoopFuture<any Channel> {
        switch endpoint {
        case .hostAndPort(let host, let port): return bind(host: host, port: port)
        case .unixDomainSocket(let path): return bind(unixDomainSocketPath: path)
        }
    }

    /// Listens once per loop of the group on the same port with `SO_REUSEPORT`: the kernel
    /// spreads connections over the listeners and each connection stays on the loop that
    /// accepted it (no hand-over between threads).
    public func bindOnEveryLoop(host: String, port: Int) async throws -> [any Channel] {
        var address = try await NameResolution.resolveAll(host: host, port: port, on: group.next(),
                                                          using: { try SocketAddress.resolveAll(host: $0, port: $1) }).get()[0]
        var channels: [any Channel] = []
        let bootstrap = self.serverOption(.reusePort(true))
        do {
            for loop in group.loops {
                let channel = try await bootstrap.bind(to: address, on: loop, spreadChildren: false).get()
                channels.append(channel)
                if address.port == 0, let bound = channel.localAddress { address = bound }
            }
        } catch {
            for channel in channels { channel.close() }
            throw error
        }
        return channels
    }

    private func bind(to address: SocketAddress, on loop: EventLoop, spreadChildren: Bool,
                      cleanupExistingSocketFile: Bool = false) -> EventLoopFuture<any Channel> {
        guard loop.isAcceptingChannels else { return loop.makeFailedFuture(ChannelError.eventLoopShutdown) }
        let promise = loop.makePromise(of: (any Channel).self)
        let bootstrap = self
        loop.execute {
            guard loop.isAcceptingChannels else {
                promise.fail(ChannelError.eventLoopShutdown)
                return
            }
            let fd: Int32
            do {
                if cleanupExistingSocketFile { try Socket.removeStaleSocketFile(at: address) }
                fd = try Socket.makeStream(family: address.family)
            } catch {
                promise.fail(error)
                return
            }
            let server = ServerSocketChannel(fd: fd, eventLoop: loop)
            do {
                let family = address.family
                for option in bootstrap.serverOptions where Socket.option(option, appliesTo: family) { try Socket.apply(option, to: fd) }
                let childGroup = bootstrap.childGroup
                let options = bootstrap.childOptions.filter { Socket.option($0, appliesTo: family) }
                let initializer = bootstrap.childInitializer
                server.makeChild = { childFD in
                    let childLoop = spreadChildren ? childGroup.next() : loop
                    if childLoop === loop {
                        ServerBootstrap.startChild(fd: childFD, on: loop, options: options, initializer: initializer)
                    } else {
                        childLoop.execute {
                            ServerBootstrap.startChild(fd: childFD, on: childLoop, options: options, initializer: initializer)
                        }
                    }
                }
                try server.bindAndListen(to: address, backlog: bootstrap.backlog)
                promise.succeed(server)
            } catch {
                server.close()
                promise.fail(error)
            }
        }
        return promise.futureResult
    }

    static func startChild(fd: Int32, on loop: EventLoop, options: [ChannelOption],
                           initializer: (@Sendable (any Channel) throws -> Void)?) {
        guard loop.isAcceptingChannels else {
            Glibc.close(fd)
            return
        }
        let channel = SocketChannel(fd: fd, eventLoop: loop)
        do {
            for option in options { try channel.applyOption(option) }
            try initializer?(channel)
        } catch {
            channel.pipeline.fireErrorCaught(error)
            channel.close()
            return
        }
        channel.becomeActive()
    }
}
