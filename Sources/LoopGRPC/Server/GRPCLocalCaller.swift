import Loop
import LoopTLS
import Synchronization

/// A method's handler for in-process calls, its message types erased (set by the router's
/// `registerUnary` and `registerServerStreaming`; streaming requests are not callable so).
enum GRPCLocalMethod: Sendable {
    case unary(@Sendable (any Sendable, GRPCServerContext, [any GRPCServerInterceptor]) async throws -> any Sendable)
    case serverStreaming(@Sendable (any Sendable, @escaping @Sendable (any Sendable) async throws -> Void, GRPCServerContext,
                                    [any GRPCServerInterceptor]) async throws -> Void)
    case unsupported

    static func cast<T>(_ value: any Sendable, to type: T.Type, path: String) throws(GRPCStatus) -> T {
        // The types match in every call but a misuse: comparing metatypes and reinterpreting
        // the opened value skips the runtime's general dynamic cast (about 1,000 instructions).
        // (No `T?` on this path: instantiating Optional<T>'s metadata per call costs as much.)
        func reinterpret<V>(_ opened: V) -> T { unsafeBitCast(opened, to: T.self) }
        if ObjectIdentifier(Swift.type(of: value)) == ObjectIdentifier(T.self) { return reinterpret(value) }
        return try castSlowly(value, to: type, path: path)
    }

    /// A subclass or an existential target, or the misuse: the runtime's cast decides.
    @inline(never)
    private static func castSlowly<T>(_ value: any Sendable, to type: T.Type, path: String) throws(GRPCStatus) -> T {
        guard let typed = value as? T else {
            throw GRPCStatus(.internal, "in-process call to \(path) with a \(Swift.type(of: value)) request; the method takes \(T.self)")
        }
        return typed
    }
}

extension GRPCLocalCaller {
    /// On an event loop (where HTTP handlers run): the call runs as one task on the loop and a
    /// loop timer cancels it at the deadline — no sleeping task, no dispatch timer per call.
    fileprivate static func withDeadline<T: Sendable>(_ deadline: ContinuousClock.Instant, on loop: EventLoop, _ context: GRPCServerContext,
                                                      _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let expired = DeadlineFlag()
        let task = Task(executorPreference: loop) { try await body() }
        let timer = LoopBound(loop.scheduleCallback(in: deadline - .now) {
            expired.set()
            context.markCancelled()
            task.cancel()
        }, eventLoop: loop)
        let result = await withTaskCancellationHandler {
            await task.result
        } onCancel: {
            task.cancel()
        }
        if loop.inEventLoop { timer.value.cancel() } else { loop.execute { timer.value.cancel() } }
        if expired.isSet { throw GRPCStatus(.deadlineExceeded, "the deadline passed before the call completed") }
        return try result.get()
    }
}

extension GRPCLocalCaller {
    /// On an event loop, for a caller that owns its task (``GRPCLocalCallOptions/deadlineCancelsCallingTask``):
    /// the call runs in the caller's task and a loop timer cancels that task at the deadline.
    /// No task, no result hand-over: a gateway request's deadline cost about a tenth of its
    /// instructions the other way.
    fileprivate static func withDeadline<T: Sendable>(_ deadline: ContinuousClock.Instant, cancellingCallerOn loop: EventLoop,
                                                      _ context: GRPCServerContext,
                                                      _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let expiry = CallerExpiry()
        // The timer runs on the loop and is cancelled there before this returns, while the
        // task is still running this function: it never reaches a task that has ended.
        withUnsafeCurrentTask { expiry.task = $0 }
        let timer = loop.scheduleCallback(in: deadline - .now) {
            expiry.expired = true
            context.markCancelled()
            expiry.task?.cancel()
        }
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        if loop.inEventLoop {
            timer.cancel()
        } else {
            let bound = LoopBound(timer, eventLoop: loop)
            await onLoop(loop) { bound.value.cancel() }
        }
        if expiry.expired { throw GRPCStatus(.deadlineExceeded, "the deadline passed before the call completed") }
        return try result.get()
    }
}

/// The calling task and whether its deadline fired; touched on its loop only (set up by the
/// task while it runs there, read by the timer there).
private final class CallerExpiry {
    var task: UnsafeCurrentTask?
    var expired = false
}

/// Whether a deadline fired (set on the loop, read by the call's task).
private final class DeadlineFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}

/// A response of an in-process call with the metadata its handler added.
public struct GRPCLocalResponse<Message: Sendable>: Sendable {
    public var message: Message
    public var initialMetadata: GRPCMetadata
    public var trailingMetadata: GRPCMetadata
}

/// What an in-process call comes with: the request's metadata, its deadline, and where the
/// request that caused it came from (an HTTP/JSON request, say).
public struct GRPCLocalCallOptions: Sendable {
    public var metadata: GRPCMetadata
    public var deadline: ContinuousClock.Instant?
    public var userAgent: String?
    public var tls: TLSConnectionInfo?
    public var remoteAddress: SocketAddress?
    public var localAddress: SocketAddress?
    /// At the deadline, cancel the calling task itself rather than a task made for the call.
    ///
    /// Off (the default), a call with a deadline made on an event loop runs in a task of its
    /// own, so the caller's task is never cancelled by it. On, the call runs in the caller's
    /// task and nothing is made per call but the deadline's loop timer: use it from a task
    /// that exists to answer one request and does nothing after the call but reply (the
    /// HTTP/JSON gateway's request tasks), since a task cancelled at the deadline stays
    /// cancelled. Off an event loop, or without a deadline, it changes nothing.
    ///
    /// ```swift
    /// var options = GRPCLocalCallOptions(deadline: .now + .seconds(5))
    /// options.deadlineCancelsCallingTask = true   // this request's task answers with the result, then ends
    /// ```
    public var deadlineCancelsCallingTask: Bool

    public init(metadata: GRPCMetadata = GRPCMetadata(), deadline: ContinuousClock.Instant? = nil, userAgent: String? = nil,
                tls: TLSConnectionInfo? = nil, remoteAddress: SocketAddress? = nil, localAddress: SocketAddress? = nil,
                deadlineCancelsCallingTask: Bool = false) {
        self.metadata = metadata
        self.deadline = deadline
        self.userAgent = userAgent
        self.tls = tls
        self.remoteAddress = remoteAddress
        self.localAddress = localAddress
        self.deadlineCancelsCallingTask = deadlineCancelsCallingTask
    }
}

/// Calls a server's unary and server-streaming methods in process: the request and response
/// messages are handed over as they are (no HTTP/2, no framing, no serialization), and the call
/// runs the same handler with the same interceptors, context (metadata, deadline, addresses,
/// `onFinish` observers) and status rules as one that came over the network. The HTTP/JSON
/// gateway (LoopGRPCGateway) calls services on its own server this way.
///
/// ```swift
/// let caller = GRPCLocalCaller(services: [Greetings()])
/// let reply = try await caller.unary("/loop.demo.v1.Greetings/SayHello", request, as: HelloReply.self)
/// print(reply.message.message)
/// ```
public struct GRPCLocalCaller: Sendable {
    let router: GRPCRouter
    let interceptors: [any GRPCServerInterceptor]

    /// A caller of `router`'s methods, each call wrapped by `interceptors` (the server's own,
    /// so in-process calls are authenticated and observed alike).
    public init(router: GRPCRouter, interceptors: [any GRPCServerInterceptor] = []) {
        self.router = router
        self.interceptors = interceptors
    }

    /// A caller of `services`' methods.
    public init(services: [any GRPCService], interceptors: [any GRPCServerInterceptor] = []) {
        var router = GRPCRouter()
        for service in services { service.register(with: &router) }
        self.init(router: router, interceptors: interceptors)
    }

    /// Calls the unary method at `path` with `request`.
    /// - Throws: the call's `GRPCStatus` (UNIMPLEMENTED for an unknown or streaming-request
    ///   method, DEADLINE_EXCEEDED past `options.deadline`, the handler's status otherwise).
    public func unary<Request: Sendable, Response: Sendable>(
        _ path: String, _ request: Request, options: GRPCLocalCallOptions = GRPCLocalCallOptions(), as type: Response.Type = Response.self
    ) async throws(GRPCStatus) -> GRPCLocalResponse<Response> {
        guard let method = router.method(for: path), case .unary(let handler) = method.local else {
            throw unsupported(path)
        }
        let context = makeContext(path, options)
        let interceptors = self.interceptors
        var observer = GRPCCallObserver(metrics: method.metrics)
        do {
            let response = try await Self.withDeadline(options, context) {
                try await handler(request, context, interceptors)
            }
            let message = try GRPCLocalMethod.cast(response, to: Response.self, path: path)
            observer.ended(.ok)
            context.ended(.ok, withTrailingMetadata: true)
            return GRPCLocalResponse(message: message, initialMetadata: context.takeInitialMetadata(), trailingMetadata: context.trailingMetadata)
        } catch {
            let status = GRPCServerCall.status(for: error, context: context)
            observer.ended(status.code)
            context.ended(status, withTrailingMetadata: true)
            throw GRPCResponseHead.sentStatus(for: status, adding: context.trailingMetadata)
        }
    }

    /// Calls the server-streaming method at `path` with `request`, handing each response to
    /// `onResponse` as the handler sends it (the handler's `send` waits for `onResponse`:
    /// backpressure). Returns the initial and trailing metadata.
    /// - Throws: the call's `GRPCStatus`, also after some responses were delivered.
    @discardableResult
    public func serverStreaming<Request: Sendable, Response: Sendable>(
        _ path: String, _ request: Request, options: GRPCLocalCallOptions = GRPCLocalCallOptions(), as type: Response.Type = Response.self,
        onResponse: @escaping @Sendable (Response) async throws -> Void
    ) async throws(GRPCStatus) -> (initialMetadata: GRPCMetadata, trailingMetadata: GRPCMetadata) {
        guard let method = router.method(for: path), case .serverStreaming(let handler) = method.local else {
            throw unsupported(path)
        }
        let context = makeContext(path, options)
        let interceptors = self.interceptors
        var observer = GRPCCallObserver(metrics: method.metrics)
        do {
            try await Self.withDeadline(options, context) {
                try await handler(request, { response in
                    try await onResponse(try GRPCLocalMethod.cast(response, to: Response.self, path: path))
                }, context, interceptors)
            }
            observer.ended(.ok)
            context.ended(.ok, withTrailingMetadata: true)
            return (context.takeInitialMetadata(), context.trailingMetadata)
        } catch {
            let status = GRPCServerCall.status(for: error, context: context)
            observer.ended(status.code)
            context.ended(status, withTrailingMetadata: true)
            throw GRPCResponseHead.sentStatus(for: status, adding: context.trailingMetadata)
        }
    }

    private func unsupported(_ path: String) -> GRPCStatus {
        guard router.method(for: path) != nil else { return router.unknownMethodStatus(path) }
        return GRPCStatus(.unimplemented, "\(path) takes a stream of requests: only unary and server-streaming methods can be called in process")
    }

    private func makeContext(_ path: String, _ options: GRPCLocalCallOptions) -> GRPCServerContext {
        GRPCServerContext(path: path, requestMetadata: options.metadata, deadline: options.deadline, userAgent: options.userAgent,
                          tls: options.tls, remoteAddress: options.remoteAddress, localAddress: options.localAddress)
    }

    /// Runs `body`, cancelling it with DEADLINE_EXCEEDED at `deadline`.
    private static func withDeadline<T: Sendable>(_ options: GRPCLocalCallOptions, _ context: GRPCServerContext,
                                                  _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let deadline = options.deadline else { return try await body() }
        guard deadline > .now else {
            context.markCancelled()
            throw GRPCStatus(.deadlineExceeded, "the deadline passed before the call started")
        }
        if let loop = EventLoop.current {
            if options.deadlineCancelsCallingTask { return try await withDeadline(deadline, cancellingCallerOn: loop, context, body) }
            return try await withDeadline(deadline, on: loop, context, body)
        }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                context.markCancelled()
                throw GRPCStatus(.deadlineExceeded, "the deadline passed before the call completed")
            }
            return result
        }
    }
}
