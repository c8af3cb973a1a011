import Glibc
import InteropTestSupport
import Loop
import LoopHTTP2
@testable import LoopGRPC
import Synchronization
import Testing

/// A server's graceful shutdown over real sockets (RFC 9113 §6.8, two-phase GOAWAY): the calls
/// in flight finish with their real status, no connection is accepted any more, the clients
/// see GOAWAY, the deadline closes what is left, and a client whose calls are queued moves to
/// a second server without losing one.
@Suite struct GRPCServerShutdownTests {
    static let slow = "/drain.D/Slow"
    static let stream = "/drain.D/Stream"
    static let forever = "/drain.D/Forever"

    /// Counts the handlers that started; answers after `delay`.
    final class Drain: GRPCService {
        let name: String
        let delay: Duration
        let started = Atomic<Int>(0)

        init(name: String, delay: Duration) {
            self.name = name
            self.delay = delay
        }

        func register(with router: inout GRPCRouter) {
            let codec = ByteBufferCodec()
            let (name, delay, service) = (self.name, self.delay, self)
            // Odd first byte: PERMISSION_DENIED, so each call's own status is checked, not just OK.
            router.registerUnary(Self.slowPath, deserializer: codec, serializer: codec) { request, _ in
                service.started.add(1, ordering: .relaxed)
                try await Task.sleep(for: delay)
                if let first = request.readableBytesView.first, first % 2 == 1 {
                    throw GRPCStatus(.permissionDenied, "odd \(first)")
                }
                return ByteBuffer(string: name)
            }
            router.registerServerStreaming(Self.streamPath, deserializer: codec, serializer: codec) { _, response, _ in
                service.started.add(1, ordering: .relaxed)
                for index in 0..<10 {
                    try await Task.sleep(for: delay / 10)
                    try await response.send(ByteBuffer(bytes: [UInt8(index)]))
                }
            }
            router.registerUnary(Self.foreverPath, deserializer: codec, serializer: codec) { request, _ in
                service.started.add(1, ordering: .relaxed)
                try await Task.sleep(for: .seconds(60))
                return request
            }
        }

        static var slowPath: String { GRPCServerShutdownTests.slow }
        static var streamPath: String { GRPCServerShutdownTests.stream }
        static var foreverPath: String { GRPCServerShutdownTests.forever }
    }

    enum Outcome: Sendable, Equatable {
        case ok(String)
        case status(GRPCStatus.Code)
    }

    static func unary(_ channel: GRPCChannel, _ byte: UInt8, path: String = slow, waitForReady: Bool = false) async -> Outcome {
        let codec = ByteBufferCodec()
        var options = GRPCCallOptions()
        options.waitForReady = waitForReady
        do {
            let response = try await channel.unary(path: path, request: ByteBuffer(bytes: [byte]), serializer: codec,
                                                   deserializer: codec, options: options)
            return .ok(String(decoding: response.message.readableBytesView, as: UTF8.self))
        } catch let status as GRPCStatus {
            return .status(status.code)
        } catch {
            return .status(.unknown)
        }
    }

    /// 1,000 unary and 20 server-streaming calls are in their handlers when the shutdown
    /// begins: each completes with its own status (OK or PERMISSION_DENIED, and all ten
    /// messages of every stream), the client saw GOAWAY, a new connection is refused, and
    /// `serve()` returns once the last connection closed — long before the deadline.
    @Test func gracefulShutdownLetsEveryCallInFlightFinish() async throws {
        try await withDeadline(60, "graceful shutdown with 1,020 calls in flight") {
            let group = EventLoopGroup(numberOfThreads: 2)
            let service = Drain(name: "a", delay: .milliseconds(800))
            let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [service])
            let port = server.port
            let states = Mutex<[GRPCConnectivityState]>([])
            var configuration = GRPCChannelConfiguration()
            configuration.onStateChange = { state in states.withLock { $0.append(state) } }
            let channel = GRPCChannel(host: "127.0.0.1", port: port, group: group, configuration: configuration)
            let serving = Task { try await server.serve() }

            let unaryResults = Task {
                await withTaskGroup(of: (UInt8, Outcome).self) { tasks in
                    for index in 0..<1_000 {
                        let byte = UInt8(index % 256)
                        tasks.addTask { (byte, await Self.unary(channel, byte)) }
                    }
                    var results: [(UInt8, Outcome)] = []
                    for await result in tasks { results.append(result) }
                    return results
                }
            }
            let streamResults = Task {
                await withTaskGroup(of: Result<[UInt8], GRPCStatus>.self) { tasks in
                    for _ in 0..<20 {
                        tasks.addTask {
                            let codec = ByteBufferCodec()
                            do {
                                return .success(try await channel.serverStreaming(
                                    path: Self.stream, request: ByteBuffer(), serializer: codec, deserializer: codec,
                                    options: GRPCCallOptions()
                                ) { responses in
                                    var bytes: [UInt8] = []
                                    for try await message in responses { bytes.append(contentsOf: message.readableBytesView) }
                                    return bytes
                                })
                            } catch {
                                return .failure(error as? GRPCStatus ?? GRPCStatus(.unknown, "\(error)"))
                            }
                        }
                    }
                    var results: [Result<[UInt8], GRPCStatus>] = []
                    for await result in tasks { results.append(result) }
                    return results
                }
            }
            try await waitUntilTrue("1,020 handlers to start") { service.started.load(ordering: .relaxed) == 1_020 }
            #expect(server.connectionCount >= 1)

            let began = ContinuousClock.now
            server.beginGracefulShutdown(deadline: .now + .seconds(20))
            try await server.closeFuture.get()
            #expect(!portAccepts(port), "a new connection after the shutdown began must be refused")

            let unary = await unaryResults.value
            #expect(unary.count == 1_000)
            for (byte, outcome) in unary {
                #expect(outcome == (byte % 2 == 1 ? .status(.permissionDenied) : .ok("a")), "call \(byte): \(outcome)")
            }
            let streams = await streamResults.value
            #expect(streams.count == 20)
            for result in streams {
                #expect((try? result.get()) == Array(0..<10), "stream: \(result)")
            }
            try await serving.value
            let took = ContinuousClock.now - began
            #expect(took < .seconds(10), "serve() returned \(took) after the shutdown began")
            #expect(server.connectionCount == 0)
            // The channel retired its connections on GOAWAY while their calls were still in
            // flight (ready → idle), before any of them closed.
            #expect(states.withLock { $0 }.contains(.idle), "states: \(states.withLock { $0 })")
            await channel.close()
            try await group.shutdownGracefully()
        }
    }

    /// A server whose one call never ends on its own, the call's outcome, and the channel.
    static func withCallThatNeverEnds(_ what: String,
                                       _ body: @escaping @Sendable (GRPCServer, Task<Outcome, Never>) async throws -> Void) async throws {
        try await withDeadline(30, what) {
            let group = EventLoopGroup(numberOfThreads: 1)
            let service = Drain(name: "a", delay: .milliseconds(10))
            let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [service])
            let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: group)
            let call = Task { await Self.unary(channel, 0, path: Self.forever) }
            try await waitUntilTrue("the handler to start") { service.started.load(ordering: .relaxed) == 1 }
            try await body(server, call)
            #expect(server.connectionCount == 0)
            await channel.close()
            try await group.shutdownGracefully()
        }
    }

    /// A call that outlives the deadline is cut when it passes: the connection closes, the
    /// client's call fails UNAVAILABLE, and `serve()` returns.
    @Test func theDeadlineClosesWhatIsLeft() async throws {
        try await Self.withCallThatNeverEnds("shutdown deadline") { server, call in
            let began = ContinuousClock.now
            server.beginGracefulShutdown(deadline: .now + .milliseconds(300))
            try await server.serve()
            let took = ContinuousClock.now - began
            #expect(took >= .milliseconds(250) && took < .seconds(5), "serve() returned after \(took)")
            let outcome = await call.value
            #expect(outcome == .status(.unavailable), "\(outcome)")
        }
    }

    /// Cancelling the task that runs `serve()` closes the server at once.
    @Test func cancellingServeClosesEverything() async throws {
        try await Self.withCallThatNeverEnds("serve() cancelled") { server, call in
            let serving = Task { try await server.serve() }
            serving.cancel()
            try await serving.value
            let outcome = await call.value
            #expect(outcome == .status(.unavailable), "\(outcome)")
        }
    }

    /// A rolling restart: calls keep coming (waiting for a connection when none is ready)
    /// while the first server drains and a second one takes over its port. Every call
    /// succeeds; some were answered by each server.
    @Test func queuedCallsMoveToASecondServerAndNoneIsLost() async throws {
        try await withDeadline(60, "a rolling restart") {
            let group = EventLoopGroup(numberOfThreads: 2)
            let first = Drain(name: "first", delay: .milliseconds(200))
            let a = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [first])
            let port = a.port
            let channel = GRPCChannel(host: "127.0.0.1", port: port, group: group)
            let results = Task {
                await withTaskGroup(of: Outcome.self) { tasks in
                    // 600 calls, started 3 per millisecond over ~200 ms, so the shutdown and
                    // the restart happen while calls are in flight and others wait to start.
                    for index in 0..<600 {
                        if index % 3 == 0 { try? await Task.sleep(for: .milliseconds(1)) }
                        tasks.addTask { await Self.unary(channel, 0, waitForReady: true) }
                    }
                    var outcomes: [Outcome] = []
                    for await outcome in tasks { outcomes.append(outcome) }
                    return outcomes
                }
            }
            try await waitUntilTrue("calls on the first server") { first.started.load(ordering: .relaxed) >= 100 }
            a.beginGracefulShutdown(deadline: .now + .seconds(10))
            try await a.closeFuture.get()
            try await Task.sleep(for: .milliseconds(50))   // calls queue meanwhile (connection refused, waitForReady)
            let second = Drain(name: "second", delay: .milliseconds(10))
            let b = try await GRPCServer.bind(host: "127.0.0.1", port: port, group: group, services: [second])
            let outcomes = await results.value
            let failed = outcomes.filter { if case .ok = $0 { false } else { true } }
            #expect(failed.isEmpty, "\(failed.count) calls failed: \(failed.prefix(5))")
            let byFirst = outcomes.filter { $0 == .ok("first") }.count
            let bySecond = outcomes.filter { $0 == .ok("second") }.count
            print("GRPCServerShutdownTests: rolling restart, 600 calls: \(byFirst) by the first server, \(bySecond) by the second, \(failed.count) failed")
            #expect(byFirst > 0 && bySecond > 0)
            try await a.serve()
            await channel.close()
            b.beginGracefulShutdown()
            try await b.serve()
            try await group.shutdownGracefully()
        }
    }
}
