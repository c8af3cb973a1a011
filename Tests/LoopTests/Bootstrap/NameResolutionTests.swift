import Glibc
import Testing
@testable import Loop

extension RealLoopTests {
    /// Host names: resolved off the loop, every address tried in order.
    @Suite struct NameResolutionTests {
        @Test func aNameWhoseFirstAddressRefusesFallsThroughToTheNext() async throws {
            // "dual.test" stands for localhost listed as ::1 then 127.0.0.1, with the server
            // on 127.0.0.1 only (the port is the server's; nothing listens on ::1 there).
            try await withEventLoopGroup(threads: 1) { group in
                let server = try await startEchoServer(group: group)
                let port = try boundAddress(server).port
                let addresses = [try SocketAddress(ipAddress: "::1", port: port), try SocketAddress(ipAddress: "127.0.0.1", port: port)]
                let initialized = Locked(0)
                let lookedUp = Locked<[String]>([])
                var bootstrap = ClientBootstrap(group: group)
                    .channelInitializer { _ in initialized.mutate { $0 += 1 } }
                bootstrap.resolver = { host, _ in
                    lookedUp.append(host)
                    return addresses
                }
                let client = try await bootstrap.connect(host: "dual.test", port: port).get(within: .seconds(5))
                #expect(lookedUp.value == ["dual.test"])
                #expect(client.remoteAddress == addresses[1])
                #expect(client.isActive)
                #expect(initialized.value == 1)  // only for the connection that succeeded
                try await client.close().get(within: .seconds(5))
            }
        }

        @Test func whenEveryAddressFailsTheErrorNamesTheHostAndEachAddress() async throws {
            let closed = try boundButNotListeningSocket()
            defer { close(closed.fd) }
            let addresses = [try SocketAddress(ipAddress: "::1", port: closed.port), try SocketAddress(ipAddress: "127.0.0.1", port: closed.port)]
            try await withEventLoopGroup(threads: 1) { group in
                var bootstrap = ClientBootstrap(group: group)
                bootstrap.resolver = { _, _ in addresses }
                let error = await #expect(throws: ConnectError.self) {
                    try await bootstrap.connect(host: "dual.test", port: closed.port).get(within: .seconds(5))
                }
                let failure = try #require(error)
                #expect(failure.host == "dual.test")
                #expect(failure.port == closed.port)
                #expect(failure.attempts.map(\.address) == addresses)
                let first = try #require(failure.attempts.first?.error as? IOError)  // ECONNREFUSED, or EADDRNOTAVAIL without IPv6
                let second = try #require(failure.attempts.last?.error as? IOError)
                #expect(second.errnoCode == ECONNREFUSED)
                #expect(failure.description == """
                    connect to dual.test:\(closed.port) failed: \
                    [::1]:\(closed.port): \(String(cString: strerror(first.errnoCode))) (errno \(first.errnoCode)); \
                    127.0.0.1:\(closed.port): Connection refused (errno \(ECONNREFUSED))
                    """)
            }
            #expect(openConnectionDescriptors(port: closed.port) == [])
        }

        @Test func localhostConnectsThroughGetaddrinfo() async throws {
            // Whatever /etc/hosts lists for localhost (127.0.0.1 here; ::1 first elsewhere),
            // a server on 127.0.0.1 is reached.
            let listed = try SocketAddress.resolveAll(host: "localhost", port: 1)
            #expect(listed.contains(try SocketAddress(ipAddress: "127.0.0.1", port: 1)))
            try await withEventLoopGroup(threads: 1) { group in
                let server = try await startEchoServer(group: group)
                let port = try boundAddress(server).port
                let client = try await ClientBootstrap(group: group).connect(host: "localhost", port: port).get(within: .seconds(5))
                #expect(client.remoteAddress == (try SocketAddress(ipAddress: "127.0.0.1", port: port)))
                try await client.close().get(within: .seconds(5))
                let byName = try await ServerBootstrap(group: group).bind(host: "localhost", port: 0).get(within: .seconds(5))
                #expect(byName.localAddress?.ipAddress == listed[0].ipAddress)  // the first address
                try await byName.close().get(within: .seconds(5))
            }
        }

        @Test func aNameThatDoesNotResolveFailsNamingIt() async throws {
            // .invalid never resolves (RFC 6761).
            try await withEventLoopGroup(threads: 1) { group in
                let error = await #expect(throws: SocketAddressError.self) {
                    try await ClientBootstrap(group: group).connect(host: "no-such-host.invalid", port: 80).get(within: .seconds(30))
                }
                guard case .unresolvable(let host, _) = error else {
                    Issue.record("expected .unresolvable, got \(String(describing: error))")
                    return
                }
                #expect(host == "no-such-host.invalid")
                #expect(error?.description.hasPrefix("SocketAddressError.unresolvable: cannot resolve 'no-such-host.invalid': ") == true)
            }
        }

        @Test func resolvingDoesNotBlockTheLoop() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let loop = group.next()
                let server = try await startEchoServer(group: group)
                let address = try boundAddress(server)
                let lookupStarted = Signal()
                let letGo = Locked(false)
                let resolvedOnALoop = Locked<Bool?>(nil)
                var bootstrap = ClientBootstrap(group: group)
                bootstrap.resolver = { _, _ in
                    resolvedOnALoop.mutate { $0 = EventLoop.current != nil }
                    lookupStarted.fulfill()
                    // A lookup stuck until the test lets go (bounded, so a bug cannot hang the run).
                    var waited = 0
                    while !letGo.value && waited < 10_000 {
                        usleep(1000)
                        waited += 1
                    }
                    return [address]
                }
                // Connect from the loop itself, as a handler or loop-bound task would.
                let connected = loop.makePromise(of: (any Channel).self)
                let fixed = bootstrap
                loop.execute { fixed.connect(host: "slow.test", port: address.port).cascade(to: connected) }
                let connecting = connected.futureResult
                try await lookupStarted.wait(within: .seconds(5), "the lookup to start")
                // While the lookup is stuck, the loop (the only one) still runs other work.
                let answer = try await loop.submit { 42 }.get(within: .seconds(5), "work on the loop during the lookup")
                #expect(answer == 42)
                #expect(resolvedOnALoop.value == false)
                letGo.mutate { $0 = true }
                let client = try await connecting.get(within: .seconds(5), "the connect after the lookup")
                #expect(client.remoteAddress == address)
                try await client.close().get(within: .seconds(5))
            }
        }

        @Test func numericHostsAreNotLookedUp() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let server = try await startEchoServer(group: group)
                let port = try boundAddress(server).port
                let lookups = Locked(0)
                var bootstrap = ClientBootstrap(group: group)
                bootstrap.resolver = { _, _ in
                    lookups.mutate { $0 += 1 }
                    return []
                }
                let client = try await bootstrap.connect(host: "127.0.0.1", port: port).get(within: .seconds(5))
                try await client.close().get(within: .seconds(5))
                #expect(lookups.value == 0)
                #expect(try SocketAddress.resolveAll(host: "::1", port: 443) == [SocketAddress(ipAddress: "::1", port: 443)])
            }
        }
    }
}
