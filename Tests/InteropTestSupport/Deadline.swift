import Foundation

// MARK: Timeouts for in-process work

/// Runs `operation` with a hard deadline. Past `seconds` the call throws even if the
/// operation ignores cancellation (it is cancelled and left behind), so a hung client can
/// never hang the test run.
public func withDeadline<T: Sendable>(_ seconds: Double, _ what: String,
                               _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let once = ResumeOnce<T>()
    return try await withCheckedThrowingContinuation { continuation in
        once.set(continuation)
        let work = Task {
            do { once.resume(.success(try await operation())) } catch { once.resume(.failure(error)) }
        }
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            work.cancel()
            once.resume(.failure(InteropError("\(what) did not finish within \(seconds) s")))
        }
    }
}

/// Resumes a continuation at most once, from any thread.
// @unchecked Sendable: every mutable field is read and written with `lock` held.
public final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var early: Result<T, any Error>?
    private var done = false

    public init() {}

    public func set(_ continuation: CheckedContinuation<T, any Error>) {
        lock.lock()
        if let early {
            lock.unlock()
            continuation.resume(with: early)
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    public func resume(_ result: Result<T, any Error>) {
        lock.lock()
        guard !done else {
            lock.unlock()
            return
        }
        done = true
        if let continuation {
            self.continuation = nil
            lock.unlock()
            continuation.resume(with: result)
        } else {
            early = result
            lock.unlock()
        }
    }
}

/// Polls `condition` every 5 ms until it holds; throws naming `what` after `seconds`.
///
/// ```swift
/// try await waitUntilTrue("1,020 handlers to start") { started.load(ordering: .relaxed) == 1_020 }
/// ```
public func waitUntilTrue(_ what: String, seconds: Double = 20, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while !condition() {
        guard ContinuousClock.now < deadline else { throw InteropError("timed out after \(seconds) s waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(5))
    }
}
