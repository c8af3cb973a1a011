/// An event loop is a serial executor and a task executor: actors can use it as their
/// executor, and `Task(executorPreference:)` / `withTaskExecutorPreference` run async code
/// on the loop thread, so code that talks to channels does not hop threads per message.
///
/// ```swift
/// actor Session {
///     let loop: EventLoop
///     nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }
/// }
/// ```
extension EventLoop: SerialExecutor, TaskExecutor {
    /// Jobs for the loop as a task executor. (Jobs for it as a serial executor arrive
    /// through `LoopSerialExecutor`, the identity `asUnownedSerialExecutor()` hands out.)
    public func enqueue(_ job: consuming ExecutorJob) {
        enqueue(.preferredTask(UnownedJob(job)))
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: serialExecutor)
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    public func isSameExclusiveExecutionContext(other: EventLoop) -> Bool {
        self === other
    }

    public func checkIsolated() {
        precondition(inEventLoop, "expected to run on \(self)")
    }
}

/// The loop as a serial executor (actors isolated to a loop use it). `SerialExecutor` and
/// `TaskExecutor` share one `enqueue` signature, so with one object for both the runtime's
/// two kinds of jobs could not be told apart: nonisolated code preferring the loop would run
/// isolated to the loop's serial executor, and every call into another nonisolated async
/// function would leave that isolation and come back through the queue (three queue round
/// trips per streamed gRPC message, measured). With this separate identity, task-executor
/// jobs run without isolation and need no switch. The task executor stays the loop itself:
/// `Task(executorPreference:)` retains what it is given and releases the identity.
// @unchecked Sendable: Stateless beyond its (immutable, Sendable) loop; jobs go through the loop's
// locked queue.
final class LoopSerialExecutor: SerialExecutor, @unchecked Sendable {
    unowned(unsafe) let loop: EventLoop

    init(loop: EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        loop.enqueue(.task(UnownedJob(job)))
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    func isSameExclusiveExecutionContext(other: LoopSerialExecutor) -> Bool {
        self === other
    }

    func checkIsolated() {
        precondition(loop.inEventLoop, "expected to run on \(loop)")
    }
}
