/// Sets up an outgoing TCP or Unix domain socket connection.
///
/// ```swift
/// let channel = try await ClientBootstrap(group: group)
///     .channelOption(.connectTimeout(.seconds(2)))
///     .channelInitializer { channel in try channel.pipeline.addHandler(ResponseHandler()) }
///     .connect(host: "127.0.0.1", port: 9999)   // or .connect(unixDomainSocketPath: "/run/app.sock")
///     .get()
/// ```
public struct ClientBootstrap: Sendable {
    private let group: EventLoopGroup
    private var options: [ChannelOption] = [.tcpNoDelay(true)]
    private var initializer: (@Sendable (any Channel) throws -> Void)?

    /// Connects from a loop of `group`.
    public init(group: EventLoopGroup) {
        self.group = group
    }

    /// An option for the connection (e.g. `.connectTimeout`, `.autoRead`). TCP options
    /// (`.tcpNoDelay`, on by default) are skipped for Unix domain sockets.
    public func channelOption(_ option: ChannelOption) -> ClientBootstrap {
        var copy = self
        copy.options.append(option)
        return copy
    }

    /// Sets up the pipeline; runs on the channel's loop before connecting.
    public func channelInitializer(_ initializer: @escaping @Sendable (any Channel) throws -> Void) -> ClientBootstrap {
        var copy = self
        copy.initializer = initializer
        return copy
    }

    /// Connects to `host:port`. Fails with an `IOError` naming the address when the peer
    /// refuses, or `ChannelError.connectTimeout`.
    public func connect(host: String, port: Int) -> EventLoopFuture<any Channel> {
        let loop = group.next()
        do {
            return connect(to: try SocketAddress.resolve(host: host, port: port), on: loop)
        } catch {
            return loop.makeFailedFuture(error)
        }
    }

    /// Connects to `address` (IP or Unix domain).
    public func connect(to address: SocketAddress) -> EventLoopFuture<any Channel> {
        connect(to: address, on: group.next())
    }

    /// Connects to the Unix domain socket at `path`. Fails with
    /// `SocketAddressError.unixDomainSocketPathTooLong`, or an `IOError` naming the path
    /// (ENOENT when nothing is there, ECONNREFUSED when nobody listens).
    public func connect(unixDomainSocketPath path: String) -> EventLoopFuture<any Channel> {
        do {
            return connect(to: try SocketAddress(unixDomainSocketPath: path))
        } catch {
            return group.next().makeFailedFuture(error)
        }
    }

    /// Connects to `endpoint`: `connect(host:port:)` or `connect(unixDomainSocketPath:)`.
    public func connect(to endpoint: Endpoint) -> EventLoopFuture<any Channel> {
        switch endpoint {
        case .hostAndPort(let host, let port): return connect(host: host, port: port)
        case .unixDomainSocket(let path): return connect(unixDomainSocketPath: path)
        }
    }

    private func connect(to address: SocketAddress, on loop: EventLoop) -> EventLoopFuture<any Channel> {
        guard loop.isAcceptingChannels else { return loop.makeFailedFuture(ChannelError.eventLoopShutdown) }
        let promise = loop.makePromise(of: (any Channel).self)
        let options = self.options
        let initializer = self.initializer
        loop.execute {
            guard loop.isAcceptingChannels else {
                promise.fail(ChannelError.eventLoopShutdown)
                return
            }
            let channel: SocketChannel
            do {
                channel = SocketChannel(fd: try Socket.makeStream(family: address.family), eventLoop: loop)
            } catch {
                promise.fail(error)
                return
            }
            do {
                for option in options where Socket.option(option, appliesTo: address.family) { try channel.applyOption(option) }
                try initializer?(channel)
            } catch {
                channel.close()
                promise.fail(error)
                return
            }
            let connected = loop.makePromise(of: Void.self)
            connected.futureResult.whenComplete { result in
                switch result {
                case .success: promise.succeed(channel)
                case .failure(let error): promise.fail(error)
                }
            }
            channel.connect(to: address, promise: connected)
        }
        return promise.futureResult
    }
}
