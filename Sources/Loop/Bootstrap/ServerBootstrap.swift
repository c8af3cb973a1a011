import Glibc

/// Sets up a listening TCP server.
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

    /// An option for every accepted connection (e.g. `.tcpNoDelay`, `.autoRead`).
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

    /// Listens on `host:port` (port 0 picks a free port; read it from `localAddress`).
    public func bind(host: String, port: Int) -> EventLoopFuture<any Channel> {
        let loop = group.next()
        do {
            return bind(to: try SocketAddress.resolve(host: host, port: port), on: loop, spreadChildren: true)
        } catch {
            return loop.makeFailedFuture(error)
        }
    }

    /// Listens on `address`.
    public func bind(to address: SocketAddress) -> EventLoopFuture<any Channel> {
        bind(to: address, on: group.next(), spreadChildren: true)
    }

    /// Listens once per loop of the group on the same port with `SO_REUSEPORT`: the kernel
    /// spreads connections over the listeners and each connection stays on the loop that
    /// accepted it (no hand-over between threads).
    public func bindOnEveryLoop(host: String, port: Int) async throws -> [any Channel] {
        var address = try SocketAddress.resolve(host: host, port: port)
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

    private func bind(to address: SocketAddress, on loop: EventLoop, spreadChildren: Bool) -> EventLoopFuture<any Channel> {
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
                fd = try Socket.makeTCP(family: address.family)
            } catch {
                promise.fail(error)
                return
            }
            let server = ServerSocketChannel(fd: fd, eventLoop: loop)
            do {
                for option in bootstrap.serverOptions { try Socket.apply(option, to: fd) }
                let childGroup = bootstrap.childGroup
                let options = bootstrap.childOptions
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
