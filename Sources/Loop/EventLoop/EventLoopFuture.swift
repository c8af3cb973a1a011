/// The result of work that completes later on an event loop. Callbacks run on that loop.
///
/// ```swift
/// let future = loop.submit { 20 }
/// let doubled = future.map { $0 * 2 }
/// doubled.whenSuccess { print($0) }      // 40, on the loop
/// let value = try await doubled.get()    // 40, from async code
/// ```
// @unchecked Sendable: Its result and callbacks are read and written on its loop only; completing
// or adding a callback from elsewhere hops there first.
public final class EventLoopFuture<Value: Sendable>: @unchecked Sendable {
    /// The loop on which this future completes and runs its callbacks.
    public let eventLoop: EventLoop
    // Both touched on `eventLoop` only.
    private var result: Result<Value, any Error>?
    private var callbacks: [(Result<Value, any Error>) -> Void] = []

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    init(eventLoop: EventLoop, result: Result<Value, any Error>) {
        self.eventLoop = eventLoop
        self.result = result
    }

    /// Completes the future; must run on the loop.
    func _completeDirectly(_ newResult: Result<Value, any Error>) {
        guard result == nil else { return }
        result = newResult
        let pending = callbacks
        callbacks = []
        for callback in pending { callback(newResult) }
    }

    func _complete(_ newResult: Result<Value, any Error>) {
        if eventLoop.inEventLoop {
            _completeDirectly(newResult)
        } else {
            eventLoop.execute { self._completeDirectly(newResult) }
        }
    }

    /// Registers a callback that may capture loop-bound state; must run on the loop.
    func _whenCompleteOnLoop(_ callback: @escaping (Result<Value, any Error>) -> Void) {
        if let result {
            callback(result)
        } else {
            callbacks.append(callback)
        }
    }

    // MARK: Observing

    /// Calls `callback` with the result, on the loop.
    public func whenComplete(_ callback: @escaping @Sendable (Result<Value, any Error>) -> Void) {
        if eventLoop.inEventLoop {
            _whenCompleteOnLoop(callback)
        } else {
            eventLoop.execute { self._whenCompleteOnLoop(callback) }
        }
    }

    /// Calls `callback` with the value if the future succeeds.
    public func whenSuccess(_ callback: @escaping @Sendable (Value) -> Void) {
        whenComplete { if case .success(let value) = $0 { callback(value) } }
    }

    /// Calls `callback` with the error if the future fails.
    public func whenFailure(_ callback: @escaping @Sendable (any Error) -> Void) {
        whenComplete { if case .failure(let error) = $0 { callback(error) } }
    }

    /// Waits for the result from async code.
    public func get() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            whenComplete { continuation.resume(with: $0) }
        }
    }

    // MARK: Chaining

    /// A future for `transform` applied to the value.
    public func map<New: Sendable>(_ transform: @escaping @Sendable (Value) -> New) -> EventLoopFuture<New> {
        flatMapResult { .success(transform($0)) }
    }

    /// A future for `transform` applied to the value; a thrown error fails it.
    public func flatMapThrowing<New: Sendable>(_ transform: @escaping @Sendable (Value) throws -> New) -> EventLoopFuture<New> {
        flatMapResult { value in Result { try transform(value) } }
    }

    /// A future for `transform` applied to the value.
    public func flatMapResult<New: Sendable>(
        _ transform: @escaping @Sendable (Value) -> Result<New, any Error>
    ) -> EventLoopFuture<New> {
        let next = EventLoopFuture<New>(eventLoop: eventLoop)
        whenComplete { result in
            switch result {
            case .success(let value): next._completeDirectly(transform(value))
            case .failure(let error): next._completeDirectly(.failure(error))
            }
        }
        return next
    }

    /// Chains a second asynchronous step after a success.
    public func flatMap<New: Sendable>(_ next: @escaping @Sendable (Value) -> EventLoopFuture<New>) -> EventLoopFuture<New> {
        let promise = eventLoop.makePromise(of: New.self)
        whenComplete { result in
            switch result {
            case .success(let value): next(value).cascade(to: promise)
            case .failure(let error): promise.fail(error)
            }
        }
        return promise.futureResult
    }

    /// Chains a recovery step after a failure.
    public func flatMapError(_ recover: @escaping @Sendable (any Error) -> EventLoopFuture<Value>) -> EventLoopFuture<Value> {
        let promise = eventLoop.makePromise(of: Value.self)
        whenComplete { result in
            switch result {
            case .success(let value): promise.succeed(value)
            case .failure(let error): recover(error).cascade(to: promise)
            }
        }
        return promise.futureResult
    }

    /// Replaces a failure with a value.
    public func recover(_ recover: @escaping @Sendable (any Error) -> Value) -> EventLoopFuture<Value> {
        let next = EventLoopFuture<Value>(eventLoop: eventLoop)
        whenComplete { result in
            switch result {
            case .success(let value): next._completeDirectly(.success(value))
            case .failure(let error): next._completeDirectly(.success(recover(error)))
            }
        }
        return next
    }

    /// Completes `promise` with this future's result.
    public func cascade(to promise: EventLoopPromise<Value>?) {
        guard let promise else { return }
        whenComplete { promise.completeWith($0) }
    }

    /// Runs `callback` on completion and passes the result on unchanged.
    public func always(_ callback: @escaping @Sendable (Result<Value, any Error>) -> Void) -> EventLoopFuture<Value> {
        whenComplete(callback)
        return self
    }

    /// Discards the value.
    public func voided() -> EventLoopFuture<Void> { map { _ in () } }

    /// A future that succeeds when all of `futures` have succeeded, or fails with the first
    /// failure.
    public static func andAllSucceed(_ futures: [EventLoopFuture<Value>], on loop: EventLoop) -> EventLoopFuture<Void> {
        let promise = loop.makePromise(of: Void.self)
        guard !futures.isEmpty else {
            promise.succeed(())
            return promise.futureResult
        }
        let remaining = LoopCounter(futures.count)
        for future in futures {
            future.whenComplete { result in
                loop.execute {
                    switch result {
                    case .success:
                        remaining.count -= 1
                        if remaining.count == 0 { promise.succeed(()) }
                    case .failure(let error):
                        promise.fail(error)
                    }
                }
            }
        }
        return promise.futureResult
    }
}

/// The writing side of an ``EventLoopFuture``. Complete it once, from any thread.
public struct EventLoopPromise<Value: Sendable>: Sendable {
    /// The future this promise completes.
    public let futureResult: EventLoopFuture<Value>

    @usableFromInline
    init(eventLoop: EventLoop) {
        futureResult = EventLoopFuture(eventLoop: eventLoop)
    }

    /// Completes the future with `value`. Later completions are ignored.
    public func succeed(_ value: Value) { futureResult._complete(.success(value)) }

    /// Fails the future with `error`. Later completions are ignored.
    public func fail(_ error: any Error) { futureResult._complete(.failure(error)) }

    /// Completes the future with `result`.
    public func completeWith(_ result: Result<Value, any Error>) { futureResult._complete(result) }

    /// Completes the future with the result of `future`.
    public func completeWith(_ future: EventLoopFuture<Value>) { future.cascade(to: self) }
}

/// A count touched on one loop only.
// @unchecked Sendable: Created for one fold and touched only in callbacks that run on that loop.
private final class LoopCounter: @unchecked Sendable {
    var count: Int
    init(_ count: Int) { self.count = count }
}
