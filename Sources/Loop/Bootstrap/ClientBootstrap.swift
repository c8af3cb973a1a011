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
    private let group: EventLoopGroup?
    /// Set by `init(eventLoop:)`: every connection is made from this loop.
    private let pinnedLoop: EventLoop?
    private var options: [ChannelOption] = [.tcpNoDelay(true)]
    private var initializer: (@Sendable (any Channel) throws -> Void)?
    /// Looks a host name up; runs on a thread of its own, never on a loop (tests replace it).
    var resolver: @Sendable (String, Int) throws -> [SocketAddress] = { try SocketAddress.resolveAll(host: $0, port: $1) }

    /// Connects from a loop of `group`.
    public init(group: EventLoopGroup) {
        self.group = group
        self.pinnedLoop = nil
    }

    /// Connects from `eventLoop` itself, so the new channel shares that loop with the code
    /// that asked for it (a proxy opening upstream connections for a downstream one, say).
    ///
    /// ```swift
    /// let upstream = ClientBootstrap(eventLoop: downstream.eventLoop).connect(host: "127.0.0.1", port: 50051)
    /// ```
    public init(eventLoop: EventLoop) {
        self.group = nil
        self.pinnedLoop = eventLoop
    }

    /// The loop the next connection is made from.
    private func nextLoop() -> EventLoop {
        pinnedLoop ?? group!.next()
    }

    /// An option for the connection (e.g. `.connectTimeout`, `.autoRead`). TCP options
    /// (`.tcpNoDelay`, on by default) are skipped for Unix domain sockets.
    public func channelOption(_ option: ChannelOption) -> ClientBootstrap {
        var copy = self
        copy.options.append(option)
        return copy
    }

    /// Sets up the pipeline; runs on the channel's loop once the socket has connected, before
    /// the channel becomes active. When several addresses are tried it runs once, for the
    /// connection that succeeded.
    public func channelInitializer(_ initializer: @escaping @Sendable (any Channel) throws -> Void) -> ClientBootstrap {
        var copy = self
        copy.initializer = initializer
        return copy
    }

    /// Connects to `host:port`. A numeric address is connected to directly and fails with an
    /// `IOError` naming it (or `ChannelError.connectTimeout`). A name is resolved off the
    /// loop, and its addresses (IPv6 and IPv4, in `getaddrinfo`'s order) are tried one after
    /// the other, each with the connect timeout, until one connects; if none does, the
    /// future fails with a `ConnectError` naming the host and every address tried.
    /// - Throws: `SocketAddressError.unresolvable` naming the host when the lookup fails.
    public func connect(host: String, port: Int) -> EventLoopFuture<any Channel> {
        let loop = nextLoop()
        if let numeric = try? SocketAddress(ipAddress: host, port: port) {
            return connect(to: numeric, on: loop)
        }
        let bootstrap = self
        return NameResolution.resolveAll(host: host, port: port, on: loop, using: resolver).flatMap { addresses in
            bootstrap.connect(trying: addresses, host: host, port: port, on: loop)
        }
    }

    /// Connects to `address` (IP or Unix domain).
    public func connect(to address: SocketAddress) -> EventLoopFuture<any Channel> {
        connect(to: address, on: nextLoop())
    }

    /// Connects to the Unix domain socket at `path`. Fails with
    /// `SocketAddressError.unixDomainSocketPathTooLong`, or an `IOError` naming the path
    /// (ENOENT when nothing is there, ECONNREFUSED when nobody listens).
    public func connect(unixDomainSocketPath path: String) -> EventLoopFuture<any Channel> {
        do {
            return connect(to: try SocketAddress(unixDomainSocketPath: path))
        } catch {
            return nextLoop().makeFailedFuture(error)
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
        let bootstrap = self
        loop.execute {
            bootstrap.attempt(address, on: loop) { outcome in
                switch outcome {
                case .connected(let channel): promise.succeed(channel)
                case .unreachable(let error), .failed(let error): promise.fail(error)
                }
            }
        }
        return promise.futureResult
    }

    /// Tries `addresses` in order on the loop; the first that connects wins.
    private func connect(trying addresses: [SocketAddress], host: String, port: Int,
                         on loop: EventLoop) -> EventLoopFuture<any Channel> {
        // A resolver answers with at least one address or throws; a replaced one (tests) may not.
        guard !addresses.isEmpty else {
            return loop.makeFailedFuture(SocketAddressError.unresolvable(host: host, reason: "no IPv4 or IPv6 address"))
        }
        let promise = loop.makePromise(of: (any Channel).self)
        let bootstrap = self
        loop.execute {
            var failures: [ConnectError.Attempt] = []
            func tryAddress(_ index: Int) {
                bootstrap.attempt(addresses[index], on: loop) { outcome in
                    switch outcome {
                    case .connected(let channel):
                        promise.succeed(channel)
                    case .failed(let error):
                        promise.fail(error)
                    case .unreachable(let error):
                        failures.append(ConnectError.Attempt(address: addresses[index], error: error))
                        if index + 1 < addresses.count {
                            tryAddress(index + 1)
                        } else {
                            promise.fail(ConnectError(host: host, port: port, attempts: failures))
                        }
                    }
                }
            }
            tryAddress(0)
        }
        return promise.futureResult
    }

    private enum Outcome {
        case connected(any Channel)
        /// This address did not connect (refused, unreachable, timed out): try the next one.
        case unreachable(any Error)
        /// Nothing else is worth trying (loop shut down, an option or the initializer failed).
        case failed(any Error)
    }

    /// One connection attempt; call on the loop. `done` runs on the loop.
    private func attempt(_ address: SocketAddress, on loop: EventLoop, done: @escaping (Outcome) -> Void) {
        guard loop.isAcceptingChannels else {
            done(.failed(ChannelError.eventLoopShutdown))
            return
        }
        let channel: SocketChannel
        do {
            channel = SocketChannel(fd: try Socket.makeStream(family: address.family), eventLoop: loop)
        } catch {
            done(.unreachable(error))  // e.g. EAFNOSUPPORT: no IPv6 here
            return
        }
        do {
            for option in options where Socket.option(option, appliesTo: address.family) { try channel.applyOption(option) }
        } catch {
            channel.close()
            done(.failed(error))
            return
        }
        let initializer = self.initializer
        let connected = loop.makePromise(of: Void.self)
        connected.futureResult._whenCompleteOnLoop { result in
            switch result {
            case .success:
                do {
                    try initializer?(channel)
                } catch {
                    channel.close()
                    done(.failed(error))
                    return
                }
                channel.becomeActive()
                done(.connected(channel))
            case .failure(let error):
                done(.unreachable(error))
            }
        }
        channel.connect(to: address, activate: false, promise: connected)
    }
}
