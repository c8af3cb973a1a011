import Testing
import Synchronization
import Loop
@testable import LoopGRPC

/// What `GRPCCallOptions.onFinish` hands a client interceptor (or a caller): the status each
/// call ended with, however it ended, before the call returns or throws.
@Suite struct GRPCClientFinalStatusTests {
    typealias Ends = GRPCServerFinalStatusTests.Ends
    let codec = ByteBufferCodec()

    /// Options whose observer records into `statuses` under `path`.
    func observed(_ statuses: FinalStatuses, _ path: String, _ options: GRPCCallOptions = GRPCCallOptions()) -> GRPCCallOptions {
        var options = options
        options.onFinish { status in statuses.record(path, status) }
        return options
    }

    func unary(_ channel: GRPCChannel, _ path: String, _ options: GRPCCallOptions, _ request: String = "hi") async throws -> GRPCResponse<ByteBuffer> {
        try await channel.unary(path: path, request: ByteBuffer(string: request), serializer: codec, deserializer: codec, options: options)
    }

    @Test func okWithTheTrailingMetadata() async throws {
        try await GRPCServerFinalStatusTests().withServer { channel, _, _ in
            let seen = FinalStatuses()
            _ = try await unary(channel, Ends.ok, observed(seen, Ends.ok))
            #expect(seen.all(Ends.ok).map(\.code) == [.ok])
            #expect(seen.all(Ends.ok).first?.trailingMetadata["x-result"] == "fine")
        }
    }

    @Test func theServersStatus() async throws {
        try await GRPCServerFinalStatusTests().withServer { channel, _, _ in
            let seen = FinalStatuses()
            await #expect(throws: GRPCStatus(.notFound, "nothing here")) { _ = try await unary(channel, Ends.thrown, observed(seen, Ends.thrown)) }
            #expect(seen.all(Ends.thrown) == [GRPCStatus(.notFound, "nothing here")])
            #expect(seen.all(Ends.thrown).first?.trailingMetadata["x-why"] == "gone")
        }
    }

    /// A server-streaming call's status comes after its last message; the observer hears it
    /// once the body is done, before the call returns.
    @Test func streamingCallsStatusAfterTheLastMessage() async throws {
        try await GRPCServerFinalStatusTests().withServer { channel, _, _ in
            let seen = FinalStatuses()
            let count = try await channel.serverStreaming(path: Ends.stream, request: ByteBuffer(string: "m"), serializer: codec, deserializer: codec,
                                                          options: observed(seen, Ends.stream)) { responses in
                var count = 0
                for try await _ in responses { count += 1 }
                #expect(seen.all(Ends.stream).isEmpty)
                return count
            }
            #expect(count == 3)
            #expect(seen.all(Ends.stream).map(\.code) == [.ok])
            #expect(seen.all(Ends.stream).first?.trailingMetadata["x-count"] == "3")
        }
    }

    /// A streaming body that catches the server's failure and returns normally: the
    /// interceptor around it would see success; the observer sees the status.
    @Test func streamingFailureTheBodySwallowed() async throws {
        try await GRPCServerFinalStatusTests().withServer { channel, _, _ in
            let seen = FinalStatuses()
            let caught = try await channel.serverStreaming(path: Ends.bigStream, request: ByteBuffer(), serializer: codec, deserializer: codec,
                                                           options: observed(seen, Ends.bigStream)) { responses in
                do {
                    for try await _ in responses {}
                    return false
                } catch {
                    return true
                }
            }
            #expect(caught)
            #expect(seen.all(Ends.bigStream).map(\.code) == [.resourceExhausted])
        }
    }

    /// A bidirectional body that returns while the call is open cancels it.
    @Test func bodyReturningEarlyIsCancelled() async throws {
        try await GRPCServerFinalStatusTests().withServer { channel, _, _ in
            let seen = FinalStatuses()
            let first = try await channel.bidirectionalStreaming(path: Ends.echo, serializer: codec, deserializer: codec,
                                                                 options: observed(seen, Ends.echo)) { requests, responses in
                try await requests.send(ByteBuffer(string: "one"))
                for try await response in responses { return text(response) }
                return ""
            }
            #expect(first == "one")
            #expect(seen.all(Ends.echo) == [GRPCStatus(.cancelled, "the call's body returned before the call ended")])
        }
    }

    @Test func deadlineExceeded() async throws {
        try await GRPCServerFinalStatusTests().withServer { channel, _, _ in
            let seen = FinalStatuses()
            var options = GRPCCallOptions()
            options.timeout = .milliseconds(100)
            await #expect(throws: GRPCStatus.self) { _ = try await unary(channel, Ends.sleep, observed(seen, Ends.sleep, options)) }
            #expect(seen.all(Ends.sleep).map(\.code) == [.deadlineExceeded])
        }
    }

    @Test func cancelledWithTheTask() async throws {
        try await GRPCServerFinalStatusTests().withServer { channel, _, started in
            let seen = FinalStatuses()
            let options = observed(seen, Ends.sleep)
            let call = Task { try await unary(channel, Ends.sleep, options) }
            try await started.waitUntilStarted(Ends.sleep)
            call.cancel()
            await #expect(throws: GRPCStatus.self) { _ = try await call.value }
            #expect(seen.all(Ends.sleep) == [GRPCStatus(.cancelled, "the caller's task was cancelled")])
        }
    }

    /// No server: the call never gets a stream, and still reports UNAVAILABLE.
    @Test func unavailableWithoutAServer() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let channel = GRPCChannel(endpoint: .unixDomainSocket(path: "/tmp/loop-no-such-server-\(UInt32.random(in: 0 ... .max)).sock"), group: group)
        let seen = FinalStatuses()
        await #expect(throws: GRPCStatus.self) { _ = try await unary(channel, Ends.ok, observed(seen, Ends.ok)) }
        #expect(seen.all(Ends.ok).map(\.code) == [.unavailable])
        await channel.close()
        try await group.shutdownGracefully()
    }

    /// Calls the server refuses: an unknown method (Trailers-Only, before any handler) and
    /// one its interceptor refuses.
    @Test func refusedByTheServer() async throws {
        try await GRPCServerFinalStatusTests().withServer { channel, _, _ in
            let seen = FinalStatuses()
            await #expect(throws: GRPCStatus.self) { _ = try await unary(channel, "/finish.F/Nothing", observed(seen, "/finish.F/Nothing")) }
            #expect(seen.all("/finish.F/Nothing") == [GRPCStatus(.unimplemented, "unknown method Nothing for service finish.F")])
            await #expect(throws: GRPCStatus.self) { _ = try await unary(channel, Ends.refused, observed(seen, Ends.refused)) }
            #expect(seen.all(Ends.refused) == [GRPCStatus(.permissionDenied, "not for you")])
        }
    }

    /// A unary call whose server answers with three messages and OK: the caller gets
    /// INTERNAL, and so does the observer.
    @Test func unusableResponseIsInternal() async throws {
        try await GRPCServerFinalStatusTests().withServer { channel, _, _ in
            let seen = FinalStatuses()
            await #expect(throws: GRPCStatus.self) { _ = try await unary(channel, Ends.stream, observed(seen, Ends.stream)) }
            #expect(seen.all(Ends.stream).map(\.code) == [.internal])
        }
    }

    /// Interceptors register in the options they pass on; one that retries makes the
    /// observers before it hear each attempt, one that refuses makes no call to hear.
    @Test func interceptorsHearEachCallTheyLetThrough() async throws {
        struct Record: GRPCClientInterceptor {
            let seen: FinalStatuses
            func intercept<Result: Sendable>(path: String, options: GRPCCallOptions,
                                             next: @Sendable (GRPCCallOptions) async throws -> Result) async throws -> Result {
                var options = options
                options.onFinish { status in seen.record(path, status) }
                return try await next(options)
            }
        }
        struct RetryOnce: GRPCClientInterceptor {
            func intercept<Result: Sendable>(path: String, options: GRPCCallOptions,
                                             next: @Sendable (GRPCCallOptions) async throws -> Result) async throws -> Result {
                if path == Ends.refused { throw GRPCStatus(.failedPrecondition, "refused here") }
                do { return try await next(options) } catch { return try await next(options) }
            }
        }
        let seen = FinalStatuses()
        var configuration = GRPCChannelConfiguration()
        configuration.interceptors = [Record(seen: seen), RetryOnce()]
        try await GRPCServerFinalStatusTests().withServer(channelConfiguration: configuration, onceEach: false) { channel, _, _ in
            _ = try await unary(channel, Ends.ok, GRPCCallOptions())
            #expect(seen.all(Ends.ok).map(\.code) == [.ok])
            await #expect(throws: GRPCStatus(.notFound, "nothing here")) { _ = try await unary(channel, Ends.thrown, GRPCCallOptions()) }
            #expect(seen.all(Ends.thrown).map(\.code) == [.notFound, .notFound])
            await #expect(throws: GRPCStatus(.failedPrecondition, "refused here")) { _ = try await unary(channel, Ends.refused, GRPCCallOptions()) }
            #expect(seen.all(Ends.refused).isEmpty)
        }
    }
}
