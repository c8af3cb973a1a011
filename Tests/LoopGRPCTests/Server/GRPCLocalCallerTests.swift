import Loop
import Synchronization
import Testing
@testable import LoopGRPC

/// In-process calls (the HTTP/JSON gateway's path): the same handlers, interceptors, context and
/// status rules as calls over the network, with the messages handed over as they are.
@Suite struct GRPCLocalCallerTests {
    private final class Seen: Sendable {
        let paths = Mutex<[String]>([])
    }

    private struct Recorder: GRPCServerInterceptor {
        let seen: Seen
        func intercept<Result: Sendable>(context: GRPCServerContext, next: @Sendable () async throws -> Result) async throws -> Result {
            seen.paths.withLock { $0.append("\(context.path) \(context.requestMetadata["x-request-id"] ?? "-")") }
            return try await next()
        }
    }

    private func router() -> GRPCRouter {
        var router = GRPCRouter()
        router.registerUnary("/t.T/Echo", deserializer: ByteBufferCodec(), serializer: ByteBufferCodec()) { request, context in
            context.addInitialMetadata("x-initial", "1")
            context.addTrailingMetadata("x-trailing", "2")
            return request
        }
        router.registerUnary("/t.T/Deny", deserializer: ByteBufferCodec(), serializer: ByteBufferCodec()) { _, _ in
            throw GRPCStatus(.permissionDenied, "no")
        }
        router.registerUnary("/t.T/Slow", deserializer: ByteBufferCodec(), serializer: ByteBufferCodec()) { request, _ in
            try await Task.sleep(for: .seconds(30))
            return request
        }
        router.registerServerStreaming("/t.T/Count", deserializer: ByteBufferCodec(), serializer: ByteBufferCodec()) { request, response, _ in
            for index in 0..<Int(request.readableBytes) { try await response.send(ByteBuffer(string: "\(index)")) }
        }
        router.registerBidirectionalStreaming("/t.T/Chat", deserializer: ByteBufferCodec(), serializer: ByteBufferCodec()) { _, _, _ in }
        return router
    }

    @Test func aUnaryCallReturnsTheHandlersMessageAndMetadataThroughTheInterceptors() async throws {
        let seen = Seen()
        let caller = GRPCLocalCaller(router: router(), interceptors: [Recorder(seen: seen)])
        var metadata = GRPCMetadata()
        metadata.add("x-request-id", "r1")
        let response = try await caller.unary("/t.T/Echo", ByteBuffer(string: "hi"), options: GRPCLocalCallOptions(metadata: metadata),
                                              as: ByteBuffer.self)
        #expect(String(decoding: response.message.readableBytesView, as: UTF8.self) == "hi")
        #expect(response.initialMetadata["x-initial"] == "1")
        #expect(response.trailingMetadata["x-trailing"] == "2")
        #expect(seen.paths.withLock { $0 } == ["/t.T/Echo r1"])
    }

    @Test func statusesAreTheHandlersOrTheRouters() async throws {
        let caller = GRPCLocalCaller(router: router())
        await #expect(throws: GRPCStatus(.permissionDenied, "no")) {
            _ = try await caller.unary("/t.T/Deny", ByteBuffer(), as: ByteBuffer.self)
        }
        await #expect(throws: GRPCStatus(.unimplemented, "unknown method Nope for service t.T")) {
            _ = try await caller.unary("/t.T/Nope", ByteBuffer(), as: ByteBuffer.self)
        }
        await #expect(throws: GRPCStatus(.unimplemented, "unknown service x.Y")) {
            _ = try await caller.unary("/x.Y/Nope", ByteBuffer(), as: ByteBuffer.self)
        }
        do {
            _ = try await caller.unary("/t.T/Chat", ByteBuffer(), as: ByteBuffer.self)
            Issue.record("a bidirectional method was called in process")
        } catch {
            #expect(error.code == .unimplemented)
        }
        do {
            _ = try await caller.unary("/t.T/Echo", "a String", as: ByteBuffer.self)
            Issue.record("a request of the wrong type was accepted")
        } catch {
            #expect(error.code == .internal)
            #expect(error.message.contains("String"))
        }
    }

    @Test func theDeadlineEndsTheCallWithDeadlineExceeded() async throws {
        let caller = GRPCLocalCaller(router: router())
        let started = ContinuousClock.now
        do {
            _ = try await caller.unary("/t.T/Slow", ByteBuffer(), options: GRPCLocalCallOptions(deadline: .now + .milliseconds(200)),
                                       as: ByteBuffer.self)
            Issue.record("the call outlived its deadline")
        } catch {
            #expect(error.code == .deadlineExceeded)
        }
        // The handler sleeps 30 s: ending well before that shows the deadline cut it (a loaded
        // machine delayed the 200 ms timer by seconds once).
        #expect(ContinuousClock.now - started < .seconds(25))
    }

    /// On an event loop, the deadline cancels a task made for the call, never the caller's own
    /// task — unless the caller asks for it (`deadlineCancelsCallingTask`, the gateway's
    /// request tasks): then the call runs in the caller's task and that task is cancelled.
    @Test(arguments: [false, true]) func onALoopTheDeadlineCancelsTheCallersTaskOnlyWhenAsked(_ cancelsCaller: Bool) async throws {
        let caller = GRPCLocalCaller(router: router())
        let group = EventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let started = ContinuousClock.now
        let outcome = await Task(executorPreference: loop) { () -> (GRPCStatus.Code?, Bool) in
            var options = GRPCLocalCallOptions(deadline: .now + .milliseconds(200))
            options.deadlineCancelsCallingTask = cancelsCaller
            do {
                _ = try await caller.unary("/t.T/Slow", ByteBuffer(), options: options, as: ByteBuffer.self)
                return (nil, Task.isCancelled)
            } catch let status as GRPCStatus {
                return (status.code, Task.isCancelled)
            } catch {
                return (nil, Task.isCancelled)
            }
        }.value
        #expect(outcome.0 == .deadlineExceeded)
        #expect(outcome.1 == cancelsCaller)
        #expect(ContinuousClock.now - started < .seconds(25))
        // A call that ends in time leaves the caller's task alone either way.
        let inTime = await Task(executorPreference: loop) { () -> (String?, Bool) in
            var options = GRPCLocalCallOptions(deadline: .now + .seconds(30))
            options.deadlineCancelsCallingTask = cancelsCaller
            let reply = try? await caller.unary("/t.T/Echo", ByteBuffer(string: "ok"), options: options, as: ByteBuffer.self)
            return (reply.map { String(decoding: $0.message.readableBytesView, as: UTF8.self) }, Task.isCancelled)
        }.value
        #expect(inTime.0 == "ok")
        #expect(inTime.1 == false)
        try await group.shutdownGracefully()
    }

    @Test func aServerStreamingCallHandsOverEachMessageInOrder() async throws {
        let caller = GRPCLocalCaller(router: router())
        let received = Seen()
        try await caller.serverStreaming("/t.T/Count", ByteBuffer(string: "abcd"), as: ByteBuffer.self) { message in
            received.paths.withLock { $0.append(String(decoding: message.readableBytesView, as: UTF8.self)) }
        }
        #expect(received.paths.withLock { $0 } == ["0", "1", "2", "3"])
    }
}
