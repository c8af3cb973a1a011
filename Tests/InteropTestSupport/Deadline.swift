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

/// `tasks` tasks each calling `call(task, n)` one after another for `duration`; `call`
/// returns nil for a good call or a description of what went wrong (a thrown error is
/// described too). Returns how many calls were made and the failures.
///
/// ```swift
/// let (calls, failures) = try await callContinuously(for: .seconds(2), tasks: 4) { task, n in
///     try await client.ping() == "pong" ? nil : "call \(task)-\(n): wrong answer"
/// }
/// ```
public func callContinuously(for duration: Duration, tasks: Int,
                             _ call: @escaping @Sendable (_ task: Int, _ n: Int) async throws -> String?) async throws -> (calls: Int, failures: [String]) {
    let end = ContinuousClock.now + duration
    return try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
        for task in 0..<tasks {
            group.addTask {
                var calls = 0
                var failures: [String] = []
                while ContinuousClock.now < end {
                    do {
                        if let failure = try await call(task, calls) { failures.append(failure) }
                    } catch {
                        failures.append("call \(task)-\(calls): \(error)")
                    }
                    calls += 1
                }
                return (calls, failures)
            }
        }
        var total = 0
        var all: [String] = []
        for try await (calls, failures) in group {
            total += calls
            all += failures
        }
        return (total, all)
    }
}

/// Runs `body` on a new thread and returns its result: blocking socket calls of a test never
/// run on the cooperative pool, where the servers' handlers and the tests' tasks run (two
/// threads on this machine: one blocked read starves everything else).
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
