import CLibev
import Glibc
import Synchronization

/// A set of event loops, each on its own thread. Channels are spread over them with `next()`.
///
/// ```swift
/// let group = EventLoopGroup()              // one loop per core
/// defer { try? group.syncShutdownGracefully() }
/// let loop = group.next()
/// ```
public final class EventLoopGroup: Sendable {
    /// The loops, in a fixed order.
    public let loops: [EventLoop]
    private let cursor = Atomic<Int>(0)
    private let isShutDown = Atomic<Bool>(false)

    /// Starts `numberOfThreads` loops (by default one per online core).
    public init(numberOfThreads: Int = EventLoopGroup.coreCount) {
        precondition(numberOfThreads > 0, "an EventLoopGroup needs at least one loop")
        let loops = (0..<numberOfThreads).map { EventLoop(name: "loop-\($0)") }
        self.loops = loops
        for loop in loops { loop.start() }
    }

    /// The number of online cores.
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// The next loop, round-robin.
    public func next() -> EventLoop {
        loops[cursor.add(1, ordering: .relaxed).oldValue % loops.count]
    }

    /// Closes every channel on every loop, lets queued work finish, stops the threads.
    public func shutdownGracefully() async throws {
        guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for loop in loops {
            try await loop.shutdownGracefully().get()
        }
        for loop in loops { loop.join() }
    }

    /// The blocking form of `shutdownGracefully()`; never call it from a loop thread.
    public func syncShutdownGracefully() throws {
        precondition(EventLoop.current == nil, "syncShutdownGracefully() would deadlock on a loop thread")
        guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let done = DispatchFreeSemaphore()
        for loop in loops {
            loop.shutdownGracefully().whenComplete { _ in done.signal() }
        }
        for _ in loops { done.wait() }
        for loop in loops { loop.join() }
    }
}

/// A counting semaphore on a pthread mutex and condition (Loop avoids Dispatch/Foundation).
// @unchecked Sendable: The count is read and written only with the pthread mutex held.
final class DispatchFreeSemaphore: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var value = 0

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    func signal() {
        pthread_mutex_lock(&mutex)
        value += 1
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    func wait() {
        pthread_mutex_lock(&mutex)
        while value == 0 { pthread_cond_wait(&condition, &mutex) }
        value -= 1
        pthread_mutex_unlock(&mutex)
    }
}
