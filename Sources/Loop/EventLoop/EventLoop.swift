import CLibev
import Glibc
import Synchronization

/// One libev loop driven by one thread. Everything that belongs to a channel runs here.
///
/// Work is handed in from any thread with ``execute(_:)``; timers are scheduled with
/// ``scheduleTask(in:_:)``. An event loop is also a Swift concurrency executor, so async
/// code can run on its thread without a hop per message:
///
/// ```swift
/// let loop = group.next()
/// loop.execute { print("on the loop:", loop.inEventLoop) }
/// let answer = try await loop.scheduleTask(in: .milliseconds(10)) { 42 }.futureResult.get()
/// await Task(executorPreference: loop) { assert(loop.inEventLoop) }.value
/// ```
// @unchecked Sendable: Cross-thread state (the job queue, the run state) is behind Mutexes and the
// libev async watcher; the libev loop, timers and channels are touched on the loop thread only.
public final class EventLoop: @unchecked Sendable {
    /// What drives this loop: a libev loop on its own thread, or a manual clock for tests.
    enum Driver {
        case libev(OpaquePointer)
        case embedded
    }

    let driver: Driver
    let name: String
    private let asyncWatcher: UnsafeMutablePointer<ev_async>
    /// Runs the jobs the loop's own thread queued, before libev polls (see `runJobsBeforePoll`).
    private let prepareWatcher: UnsafeMutablePointer<ev_prepare>
    /// The loop's own thread queued a job since the last drain. Loop-thread only: no dynamic
    /// exclusivity check (it cost ~100 instructions a hop; the checks never see other threads).
    @exclusivity(unchecked) private var queuedOnLoop = false
    /// Queued work, and whether the loop thread has stopped (set under the same lock, so no
    /// job can slip into a queue nobody will run).
    private let incoming: Mutex<(jobs: [LoopJob], stopped: Bool)> = Mutex(([], false))
    /// After the loop stopped, whoever enqueues runs the queue, one thread at a time.
    private let stoppedRunner: Mutex<Void> = Mutex(())
    /// Swapped with `incoming` under the lock, then run without it (owned by the loop thread;
    /// no dynamic exclusivity check, as `queuedOnLoop`).
    @exclusivity(unchecked) private var running: [LoopJob] = []
    private let stateLock: Mutex<LoopState> = Mutex(.open)
    private var thread: pthread_t?

    /// Channels registered on this loop; closed by a graceful shutdown. Loop-thread only.
    var registeredChannels: [ObjectIdentifier: any ClosableChannel] = [:]
    /// Scratch space for gathering writes into one `writev` (one thread, so one is enough).
    let iovecs: UnsafeMutablePointer<iovec>
    let iovecCapacity: Int
    /// Embedded-only: the manual clock and its timers.
    var embeddedNow: Duration = .zero
    var embeddedTimers: [EmbeddedTimer] = []
    var embeddedTimerSequence = 0
    /// Armed timers, kept alive here until they fire or are cancelled. Loop-thread only.
    var armedTimers: LoopTimer?
    private var shutdownPromises: [EventLoopPromise<Void>] = []
    /// The loop's face as a serial executor (see `LoopSerialExecutor`); set once in `init`.
    private(set) var serialExecutor: LoopSerialExecutor!

    enum LoopState { case open, closing, closed }

    init(name: String) {
        guard let evLoop = ev_loop_new(UInt32(EVFLAG_AUTO)) else {
            fatalError("EventLoop: ev_loop_new failed")
        }
        self.driver = .libev(evLoop)
        self.name = name
        self.asyncWatcher = .allocate(capacity: 1)
        self.prepareWatcher = .allocate(capacity: 1)
        self.iovecCapacity = Int(clibev_iov_max())
        self.iovecs = .allocate(capacity: iovecCapacity)
        clibev_async_init(asyncWatcher, eventLoopAsyncCallback)
        asyncWatcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        ev_async_start(evLoop, asyncWatcher)
        clibev_prepare_init(prepareWatcher, eventLoopPrepareCallback)
        prepareWatcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        ev_prepare_start(evLoop, prepareWatcher)
        serialExecutor = LoopSerialExecutor(loop: self)
    }

    /// A loop for tests, run by the calling thread through `run()` and `advanceTime(by:)`.
    init(embeddedNamed name: String) {
        self.driver = .embedded
        self.name = name
        self.asyncWatcher = .allocate(capacity: 1)
        self.prepareWatcher = .allocate(capacity: 1)
        self.iovecCapacity = Int(clibev_iov_max())
        self.iovecs = .allocate(capacity: iovecCapacity)
        serialExecutor = LoopSerialExecutor(loop: self)
    }

    deinit {
        if case .libev(let evLoop) = driver {
            ev_loop_destroy(evLoop)
        }
        asyncWatcher.deallocate()
        prepareWatcher.deallocate()
        iovecs.deallocate()
    }

    /// Starts the thread that runs this loop.
    func start() {
        guard case .libev = driver else { return }
        let box = Unmanaged.passRetained(self).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        var handle = pthread_t()
        let rc = pthread_create(&handle, &attributes, { raw in
            let loop = Unmanaged<EventLoop>.fromOpaque(raw!).takeRetainedValue()
            loop.runThread()
            return nil
        }, box)
        pthread_attr_destroy(&attributes)
        precondition(rc == 0, "EventLoop: pthread_create failed with \(rc)")
        thread = handle
    }

    private func runThread() {
        pthread_setspecific(currentEventLoopKey, Unmanaged.passUnretained(self).toOpaque())
        clibev_set_thread_name(String(name.prefix(15)))
        if case .libev(let evLoop) = driver {
            ev_run(evLoop, 0)
        }
        pthread_setspecific(currentEventLoopKey, nil)
        // Work handed in from now on must still run (a promise completed, a callback
        // registered, a bootstrap told the loop is gone), or its waiters would hang.
        incoming.withLock { $0.stopped = true }
        runQueueAfterStop()
    }

    /// Runs queued jobs on the calling thread after the loop stopped. The thread counts as
    /// the loop's while it does, so loop-bound code and isolated tasks run as usual.
    private func runQueueAfterStop() {
        if _isCurrent { return }  // already draining on this thread: the loop below takes it
        stoppedRunner.withLock { _ in
            let previous = pthread_getspecific(currentEventLoopKey)
            pthread_setspecific(currentEventLoopKey, Unmanaged.passUnretained(self).toOpaque())
            defer { pthread_setspecific(currentEventLoopKey, previous) }
            while true {
                incoming.withLock { swap(&$0.jobs, &running) }
                if running.isEmpty { break }
                for job in running { run(job) }
                running.removeAll(keepingCapacity: true)
            }
        }
    }

    /// True when called on this loop's thread.
    @inlinable
    public var inEventLoop: Bool {
        _isCurrent
    }

    @usableFromInline
    var _isCurrent: Bool {
        if case .embedded = driver { return true }
        return pthread_getspecific(currentEventLoopKey) == Unmanaged.passUnretained(self).toOpaque()
    }

    /// The loop whose thread is calling, if any.
    public static var current: EventLoop? {
        guard let raw = pthread_getspecific(currentEventLoopKey) else { return nil }
        return Unmanaged<EventLoop>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Runs `task` on this loop's thread, soon. Callable from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        enqueue(.closure(task))
    }

    /// Like `execute`, for closures that capture loop-bound state. Only call on the loop.
    func executeOnLoop(_ task: @escaping () -> Void) {
        enqueue(.closure(task))
    }

    /// Runs `task` on this loop after the work already queued, for closures that capture
    /// loop-bound state (handlers, contexts): call it on the loop. Handy to gather many small
    /// writes into one flush at the end of the current turn.
    public func executeSoon(_ task: @escaping () -> Void) {
        precondition(inEventLoop, "executeSoon(_:) must be called on \(self)")
        enqueue(.closure(task))
    }

    func enqueue(_ job: LoopJob) {
        let stopped = incoming.withLock { queue -> Bool in
            queue.jobs.append(job)
            return queue.stopped
        }
        if stopped {
            runQueueAfterStop()
        } else if case .libev(let evLoop) = driver {
            if _isCurrent {
                // The loop's own thread is running a callback: the prepare watcher runs the
                // job before libev polls again. Waking the loop through its async watcher
                // instead would cost a whole extra turn with a zero-timeout `epoll_wait` for
                // each hop (a request's task, then its flush).
                queuedOnLoop = true
            } else {
                ev_async_send(evLoop, asyncWatcher)
            }
        }
    }

    private func run(_ job: LoopJob) {
        switch job {
        case .closure(let body): body()
        case .task(let task):
            task.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
        case .preferredTask(let task):
            task.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    /// libev's count of loop turns (one poll each). On the loop thread; for tests.
    var iteration: UInt {
        guard case .libev(let evLoop) = driver else { return 0 }
        return UInt(ev_iteration(evLoop))
    }

    /// How many batches one drain before a poll runs at most: jobs that keep queueing jobs
    /// must not keep the loop from its sockets and timers.
    static let maxBatchesBeforePoll = 16

    /// Runs what the loop's own thread queued, and what that queues in turn, before libev
    /// polls: a request's task and the flush it asks for run in the turn that read the
    /// request, and the poll after them blocks. Called by the prepare watcher.
    func runJobsBeforePoll() {
        guard queuedOnLoop, case .libev(let evLoop) = driver else { return }
        for _ in 0..<Self.maxBatchesBeforePoll {
            queuedOnLoop = false
            incoming.withLock { swap(&$0.jobs, &running) }
            if running.isEmpty { break }
            for job in running { run(job) }
            running.removeAll(keepingCapacity: true)
        }
        if queuedOnLoop {
            // Still more: poll without blocking (sockets and timers get their turn), then go on.
            ev_async_send(evLoop, asyncWatcher)
        }
        finishShutdownIfIdle()
    }

    /// Runs what `execute` queued. Called by the async watcher on the loop thread.
    func runQueuedJobs() {
        while true {
            incoming.withLock { swap(&$0.jobs, &running) }
            if running.isEmpty { break }
            for job in running { run(job) }
            running.removeAll(keepingCapacity: true)
            if case .libev = driver { break }  // libev calls again for what arrived meanwhile
        }
        finishShutdownIfIdle()
    }

    // MARK: Timers

    /// Runs `task` after `delay` and completes the returned handle's future with its result.
    /// Cancel with `Scheduled.cancel()` from any thread.
    @discardableResult
    public func scheduleTask<T: Sendable>(
        in delay: Duration,
        _ task: @escaping @Sendable () throws -> T
    ) -> Scheduled<T> {
        let promise = makePromise(of: T.self)
        let timer = LoopTimer(loop: self) {
            promise.completeWith(Result { try task() })
        } onCancel: {
            promise.fail(EventLoopError.cancelled)
        }
        if inEventLoop {
            timer.arm(after: delay)
        } else {
            execute { timer.arm(after: delay) }
        }
        return Scheduled(promise: promise, timer: timer)
    }

    /// Runs a loop-bound closure (one that captures handlers or contexts) after `delay`.
    /// Call on the loop; cancel with the returned handle, also on the loop.
    ///
    /// ```swift
    /// let timeout = context.eventLoop.scheduleCallback(in: .seconds(5)) { context.close(promise: nil) }
    /// timeout.cancel()
    /// ```
    @discardableResult
    public func scheduleCallback(in delay: Duration, _ body: @escaping () -> Void) -> ScheduledCallback {
        precondition(inEventLoop, "scheduleCallback(in:_:) must be called on \(self)")
        return ScheduledCallback(timer: scheduleOnLoop(in: delay, body))
    }

    /// Schedules a loop-bound closure; only call on the loop. Returns the timer to cancel it.
    @discardableResult
    func scheduleOnLoop(in delay: Duration, _ body: @escaping () -> Void) -> LoopTimer {
        let timer = LoopTimer(loop: self, fire: body, onCancel: {})
        timer.arm(after: delay)
        return timer
    }

    // MARK: Promises

    /// A new promise whose future completes on this loop.
    @inlinable
    public func makePromise<T: Sendable>(of type: T.Type = T.self) -> EventLoopPromise<T> {
        EventLoopPromise(eventLoop: self)
    }

    /// A future already succeeded with `value`.
    public func makeSucceededFuture<T: Sendable>(_ value: T) -> EventLoopFuture<T> {
        EventLoopFuture(eventLoop: self, result: .success(value))
    }

    /// A future already failed with `error`.
    public func makeFailedFuture<T: Sendable>(_ error: any Error) -> EventLoopFuture<T> {
        EventLoopFuture(eventLoop: self, result: .failure(error))
    }

    /// Runs `body` on the loop and returns a future for its result.
    public func submit<T: Sendable>(_ body: @escaping @Sendable () throws -> T) -> EventLoopFuture<T> {
        let promise = makePromise(of: T.self)
        execute { promise.completeWith(Result { try body() }) }
        return promise.futureResult
    }

    // MARK: Shutdown

    /// Stops accepting new work once queued work has run, closes this loop's channels, and
    /// completes when the loop has stopped.
    func shutdownGracefully() -> EventLoopFuture<Void> {
        let promise = makePromise(of: Void.self)
        execute { [self] in
            shutdownPromises.append(promise)
            stateLock.withLock { $0 = .closing }
            for channel in Array(registeredChannels.values) {
                channel.closeForShutdown()
            }
            finishShutdownIfIdle()
        }
        return promise.futureResult
    }

    private func finishShutdownIfIdle() {
        // The loop-thread check first: while channels are registered (always, when serving)
        // no lock is taken after every batch of jobs.
        guard registeredChannels.isEmpty, stateLock.withLock({ $0 == .closing }) else { return }
        let queueEmpty = incoming.withLock { $0.jobs.isEmpty }
        guard queueEmpty else {
            if case .libev(let evLoop) = driver { ev_async_send(evLoop, asyncWatcher) }
            return
        }
        stateLock.withLock { $0 = .closed }
        let promises = shutdownPromises
        shutdownPromises = []
        // Cancel what is still scheduled so nobody waits on a timer that will never fire.
        LoopTimer.cancelAll(on: self)
        if case .libev(let evLoop) = driver {
            ev_async_stop(evLoop, asyncWatcher)
            ev_prepare_stop(evLoop, prepareWatcher)
            ev_break(evLoop, Int32(EVBREAK_ALL))
        }
        for promise in promises {
            promise.futureResult._completeDirectly(.success(()))
        }
    }

    /// Waits for the loop thread to exit (after a shutdown).
    func join() {
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }

    var isAcceptingChannels: Bool { stateLock.withLock { $0 == .open } }

    func register(_ channel: any ClosableChannel) {
        registeredChannels[ObjectIdentifier(channel)] = channel
    }

    func deregister(_ channel: any ClosableChannel) {
        registeredChannels.removeValue(forKey: ObjectIdentifier(channel))
        finishShutdownIfIdle()
    }
}

extension EventLoop: CustomStringConvertible {
    public var description: String { "EventLoop(\(name))" }
}

extension EventLoop: Equatable {
    public static func == (lhs: EventLoop, rhs: EventLoop) -> Bool { lhs === rhs }
}

/// A unit of work queued on a loop. Sendable because it only ever runs on the loop's
/// thread: closures that capture loop-bound state are enqueued from that thread only.
// @unchecked Sendable: Runs only on the loop's thread; the queue that carries it across threads is
// behind a Mutex.
enum LoopJob: @unchecked Sendable {
    case closure(() -> Void)
    /// A job for the loop as a serial executor (an actor's): runs isolated to the loop.
    case task(UnownedJob)
    /// A job for the loop as a task executor (nonisolated code preferring the loop): runs
    /// without serial isolation.
    case preferredTask(UnownedJob)
}

/// Errors of the loop itself.
public enum EventLoopError: Error, Equatable, CustomStringConvertible {
    /// A scheduled task was cancelled before it ran.
    case cancelled
    /// The loop is shutting down and no longer takes this kind of work.
    case shutdown

    public var description: String {
        switch self {
        case .cancelled: return "EventLoopError.cancelled: the scheduled task was cancelled before it ran"
        case .shutdown: return "EventLoopError.shutdown: the event loop is shutting down"
        }
    }
}

/// A task scheduled on a loop: its future, and a way to cancel it.
public struct Scheduled<T: Sendable>: Sendable {
    /// Completes with the task's result, or fails with `EventLoopError.cancelled`.
    public let futureResult: EventLoopFuture<T>
    let timer: LoopTimer

    init(promise: EventLoopPromise<T>, timer: LoopTimer) {
        self.futureResult = promise.futureResult
        self.timer = timer
    }

    /// Cancels the task if it has not run yet. Callable from any thread.
    public func cancel() {
        let timer = self.timer
        if timer.loop.inEventLoop {
            timer.cancel()
        } else {
            timer.loop.execute { timer.cancel() }
        }
    }
}

/// A callback scheduled with `scheduleCallback(in:_:)`.
public struct ScheduledCallback {
    let timer: LoopTimer

    /// Cancels the callback if it has not run yet. Call on the loop.
    public func cancel() {
        precondition(timer.loop.inEventLoop, "ScheduledCallback.cancel() must be called on \(timer.loop)")
        timer.cancel()
    }
}

let currentEventLoopKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

let eventLoopAsyncCallback: clibev_async_cb = { _, watcher, _ in
    Unmanaged<EventLoop>.fromOpaque(watcher!.pointee.data)._withUnsafeGuaranteedRef { $0.runQueuedJobs() }
}

let eventLoopPrepareCallback: clibev_prepare_cb = { _, watcher, _ in
    Unmanaged<EventLoop>.fromOpaque(watcher!.pointee.data)._withUnsafeGuaranteedRef { $0.runJobsBeforePoll() }
}
