import InteropTestSupport
import Logging
import Loop
import LoopGRPC
import LoopHTTP2
import LoopServiceLifecycle
import ServiceLifecycle
import Synchronization
import Testing

/// HTTP2Server and GRPCServer as swift-service-lifecycle Services: the group's graceful
/// shutdown drains them (requests in flight finish, new connections are refused, `run()`
/// returns), and the group's maximum graceful shutdown duration cuts a drain that lasts.
@Suite struct ServiceGroupShutdownTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Slow requests in flight on an HTTP2Server when the group shuts down gracefully: each
    /// gets its whole response, the port stops accepting, and the group's run() returns.
    @Test func gracefulShutdownDrainsAnHTTP2Server() async throws {
        try await withDeadline(30, "ServiceGroup graceful shutdown of an HTTP2Server") {
            let group = EventLoopGroup(numberOfThreads: 1)
            let started = Atomic<Int>(0)
            let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group) { request, response in
                started.add(1, ordering: .relaxed)
                try await Task.sleep(for: .milliseconds(500))
                try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: "done \(request.head.path)"))
            }
            let port = server.port
            let services = ServiceGroup(services: [server], logger: Self.logger)
            let running = Task { try await services.run() }
            let client = try await HTTP2Client.connect(host: "127.0.0.1", port: port, group: group)
            let responses = Task {
                try await withThrowingTaskGroup(of: String.self) { tasks in
                    for index in 0..<20 {
                        tasks.addTask {
                            let response = try await client.send(HTTP2RequestHead(method: "GET", path: "/\(index)", authority: "localhost"))
                            let body = try await response.body.collect(upTo: 1024)
                            return "\(response.head.status) \(String(decoding: body.readableBytesView, as: UTF8.self))"
                        }
                    }
                    var all: [String] = []
                    for try await text in tasks { all.append(text) }
                    return all.sorted()
                }
            }
            try await waitUntilTrue("20 requests in their handlers") { started.load(ordering: .relaxed) == 20 }
            await services.triggerGracefulShutdown()
            try await server.closeFuture.get()
            #expect(!portAccepts(port))
            #expect(try await responses.value == (0..<20).map { "200 done /\($0)" }.sorted())
            try await running.value
            #expect(server.connectionCount == 0)
            try await group.shutdownGracefully()
        }
    }

    /// A call longer than the group's maximum graceful shutdown duration: the group cancels
    /// the server's run(), the server closes the connection, and the call ends UNAVAILABLE.
    @Test func theGroupsMaximumDurationCutsALongDrain() async throws {
        try await withDeadline(30, "ServiceGroup maximum graceful shutdown duration") {
            let group = EventLoopGroup(numberOfThreads: 1)
            let started = Atomic<Int>(0)
            var router = GRPCRouter()
            router.registerUnary("/slow.S/Forever", deserializer: ByteBufferCodec(), serializer: ByteBufferCodec()) { request, _ in
                started.add(1, ordering: .relaxed)
                try await Task.sleep(for: .seconds(60))
                return request
            }
            let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, router: router)
            var configuration = ServiceGroupConfiguration(services: [server], logger: Self.logger)
            configuration.maximumGracefulShutdownDuration = .milliseconds(300)
            let services = ServiceGroup(configuration: configuration)
            let running = Task { try await services.run() }
            let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: group)
            let call = Task { () -> GRPCStatus.Code in
                do {
                    _ = try await channel.unary(path: "/slow.S/Forever", request: ByteBuffer(), serializer: ByteBufferCodec(),
                                                deserializer: ByteBufferCodec(), options: GRPCCallOptions())
                    return .ok
                } catch {
                    return (error as? GRPCStatus)?.code ?? .unknown
                }
            }
            try await waitUntilTrue("the call in its handler") { started.load(ordering: .relaxed) == 1 }
            let began = ContinuousClock.now
            await services.triggerGracefulShutdown()
            _ = try? await running.value
            let took = ContinuousClock.now - began
            #expect(took >= .milliseconds(250) && took < .seconds(5), "the group ended after \(took)")
            #expect(await call.value == .unavailable)
            #expect(server.connectionCount == 0)
            await channel.close()
            try await group.shutdownGracefully()
        }
    }
}
