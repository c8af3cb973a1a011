import Glibc
import Testing
@testable import Loop

private struct InitializerFailure: Error, Equatable {}

/// Counts channelInactive of accepted channels.
private final class InactiveCounter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let closed: Locked<Int>
    init(closed: Locked<Int>) { self.closed = closed }
    func channelInactive(context: ChannelHandlerContext) {
        closed.mutate { $0 += 1 }
        context.fireChannelInactive()
    }
}

extension RealLoopTests {
    @Suite struct ServerBootstrapTests {
        @Test func bindingAPortInUseFailsWithEADDRINUSE() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let first = try await startEchoServer(group: group)
                let port = try boundAddress(first).port
                let error = await #expect(throws: IOError.self) {
                    try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: port).get(within: .seconds(5))
                }
                #expect(error?.errnoCode == EADDRINUSE)
                #expect(error?.operation == "bind to 127.0.0.1:\(port)")
                #expect(error?.description == "bind to 127.0.0.1:\(port) failed: Address already in use (errno \(EADDRINUSE))")
                // The failed listener left nothing behind, and the first one still serves.
                let client = try await connect(group: group, to: try boundAddress(first))
                try await client.close().get(within: .seconds(5))
            }
        }

        @Test func invalidAddressesFailTheBind() async throws {
            _ = try await withEventLoopGroup(threads: 1) { group in
                await #expect(throws: SocketAddressError.invalidPort(70000)) {
                    try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 70000).get(within: .seconds(5))
                }
            }
        }

        @Test func throwingChildInitializerClosesTheConnection() async throws {
            try await withEventLoopGroup(threads: 2) { group in
                let server = try await ServerBootstrap(group: group)
                    .childChannelInitializer { _ in throw InitializerFailure() }
                    .bind(host: "127.0.0.1", port: 0)
                    .get(within: .seconds(5))
                let client = try await connect(group: group, to: try boundAddress(server))
                try await client.closeFuture.get(within: .seconds(5), "the refused connection to close")
                #expect(!client.isActive)
                #expect(server.isActive)
            }
        }

        @Test func closingTheServerStopsAccepting() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let server = try await startEchoServer(group: group)
                let address = try boundAddress(server)
                try await server.close().get(within: .seconds(5))
                try await server.closeFuture.get(within: .seconds(5))
                #expect(!server.isActive)
                let error = await #expect(throws: IOError.self) {
                    try await ClientBootstrap(group: group).connect(to: address).get(within: .seconds(5))
                }
                #expect(error?.errnoCode == ECONNREFUSED)
                await #expect(throws: ChannelError.operationUnsupported("a listening channel closes in both directions")) {
                    let other = try await startEchoServer(group: group)
                    try await other.close(mode: .output).get(within: .seconds(5))
                }
            }
        }

        @Test func bindOnEveryLoopServesConnectionsOnAllListeners() async throws {
            try await withEventLoopGroup(threads: 2) { group in
                let childLoops = Locked<[ObjectIdentifier]>([])
                let listeners = try await withTimeout(.seconds(5), "bindOnEveryLoop") {
                    try await ServerBootstrap(group: group)
                        .childChannelInitializer { channel in
                            childLoops.mutate { $0.append(ObjectIdentifier(channel.eventLoop)) }
                            try channel.pipeline.addHandler(EchoTestHandler())
                        }
                        .bindOnEveryLoop(host: "127.0.0.1", port: 0)
                }
                try #require(listeners.count == 2)
                let port = try boundAddress(listeners[0]).port
                #expect(port > 0)
                #expect(try boundAddress(listeners[1]).port == port)
                #expect(listeners[0].eventLoop === group.loops[0])
                #expect(listeners[1].eventLoop === group.loops[1])

                let clientGroup = EventLoopGroup(numberOfThreads: 1)
                do {
                    let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
                    // The kernel spreads connections over the listeners by their addresses.
                    try await echoOnce(count: 40, group: clientGroup, address: address)
                    let loop0 = ObjectIdentifier(group.loops[0])
                    let loop1 = ObjectIdentifier(group.loops[1])
                    let spread = childLoops.value
                    #expect(spread.count == 40)
                    #expect(spread.contains(loop0), "listener 0 served no connection")
                    #expect(spread.contains(loop1), "listener 1 served no connection")

                    // Each listener keeps its connections on its own loop: with listener 0
                    // closed, every new connection lands on loop 1.
                    try await listeners[0].close().get(within: .seconds(5))
                    childLoops.mutate { $0 = [] }
                    try await echoOnce(count: 10, group: clientGroup, address: address)
                    #expect(childLoops.value == Array(repeating: loop1, count: 10))
                } catch {
                    try? await shutDown(clientGroup)
                    throw error
                }
                try await shutDown(clientGroup)
            }
        }

        /// Opens `count` connections to an echo server, checks one echo on each, closes them.
        private func echoOnce(count: Int, group: EventLoopGroup, address: SocketAddress) async throws {
            for index in 0..<count {
                let message = "message \(index)"
                let done = group.next().makePromise(of: ByteBuffer.self)
                let client = try await connect(group: group, to: address) { channel in
                    try channel.pipeline.addHandler(CollectingTestHandler(expected: message.utf8.count, done: done))
                }
                try await client.writeAndFlush(ByteBuffer(string: message)).get(within: .seconds(5))
                let echoed = try await done.futureResult.get(within: .seconds(5), "echo \(index)")
                #expect(echoed.string == message)
                try await client.close().get(within: .seconds(5))
            }
        }

        @Test func groupShutdownClosesEveryOpenChannel() async throws {
            let group = EventLoopGroup(numberOfThreads: 2)
            let closedFutures = Locked(0)
            let inactive = Locked(0)
            let accepted = Locked<[any Channel]>([])
            var channels: [any Channel] = []
            do {
                let server = try await startRecordingServer(group: group, accepted: accepted) { channel in
                    try channel.pipeline.addHandler(InactiveCounter(closed: inactive))
                }
                channels.append(server)
                for _ in 0..<4 {
                    channels.append(try await connect(group: group, to: try boundAddress(server)) { channel in
                        try channel.pipeline.addHandler(InactiveCounter(closed: inactive))
                    })
                }
                try await waitUntil("4 accepted connections") { accepted.value.count == 4 }
                channels += accepted.value
            } catch {
                try? await shutDown(group)
                throw error
            }
            // Observe the close futures while the loops still run.
            for channel in channels {
                channel.closeFuture.whenComplete { _ in closedFutures.mutate { $0 += 1 } }
            }
            try await shutDownGracefully(group)
            #expect(channels.count == 9)
            #expect(closedFutures.value == 9)
            #expect(inactive.value == 8, "4 accepted + 4 connected channels")
            #expect(channels.allSatisfy { !$0.isActive })
        }

        @Test func thousandConnectionsLeakNoFileDescriptor() async throws {
            // Other test targets may open descriptors in this process at the same time, so a
            // raw count of /proc/self/fd is not a reliable witness. Instead: every socket of
            // these connections (and the listener) is found through its inode and port, and
            // the loops must be deallocated, which closes their epoll and eventfd descriptors.
            let (port, loops) = try await openAndCloseConnections(count: 1000, batch: 50)
            #expect(openConnectionDescriptors(port: port, includingListener: true) == [])
            try await waitUntil("the group's loops to be deallocated", within: .seconds(5)) {
                loops.allSatisfy { $0.object == nil }
            }
        }

        /// Opens and closes `count` connections in batches; returns the server's port and the
        /// group's loops after checking no socket of those connections is still open.
        private func openAndCloseConnections(count: Int, batch: Int) async throws -> (Int, [Weak<EventLoop>]) {
            try await withEventLoopGroup(threads: 2) { group in
                let serverClosed = Locked(0)
                let server = try await ServerBootstrap(group: group)
                    .childChannelInitializer { channel in
                        try channel.pipeline.addHandler(InactiveCounter(closed: serverClosed))
                    }
                    .bind(host: "127.0.0.1", port: 0)
                    .get(within: .seconds(5))
                let address = try boundAddress(server)
                for _ in 0..<(count / batch) {
                    let connecting = (0..<batch).map { _ in ClientBootstrap(group: group).connect(to: address) }
                    var clients: [any Channel] = []
                    for future in connecting { clients.append(try await future.get(within: .seconds(10), "connect")) }
                    if clients.count == batch && serverClosed.value == 0 {
                        // The leak detector sees both ends of every open connection.
                        try await waitUntil("both ends of \(batch) connections") {
                            openConnectionDescriptors(port: address.port).count == 2 * batch
                        }
                    }
                    for client in clients { client.close() }
                    for client in clients { try await client.closeFuture.get(within: .seconds(10), "client close") }
                }
                try await waitUntil("the server to see \(count) connections close", within: .seconds(20)) {
                    serverClosed.value == count
                }
                try await waitUntil("no connection socket left open", within: .seconds(5)) {
                    openConnectionDescriptors(port: address.port).isEmpty
                }
                try await server.close().get(within: .seconds(5))
                return (address.port, group.loops.map { Weak($0) })
            }
        }
    }
}
