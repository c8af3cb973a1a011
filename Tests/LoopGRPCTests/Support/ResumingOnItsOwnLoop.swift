import Loop

/// Runs `body` with a loop of its own as its task executor, so every await in it resumes on
/// that loop's thread instead of on the test run's shared cooperative pool.
///
/// For tests that bound a wall-clock interval (a deadline or timeout fired, not a hang): at the
/// start of a full run the pool holds hundreds of suites' jobs, and a probe measured its
/// resumptions up to 5.2 s late while a 10 ms loop timer beside it fired within 14 ms. Measured
/// in here, the interval is the library's timers and I/O, not the pool's queue.
///
/// ```swift
/// let elapsed = try await resumingOnItsOwnLoop {
///     let start = ContinuousClock.now
///     _ = try? await channel.unary(...)
///     return ContinuousClock.now - start
/// }
/// ```
func resumingOnItsOwnLoop<T>(_ body: () async throws -> T) async throws -> T {
    let group = EventLoopGroup(numberOfThreads: 1)
    let result: T
    do {
        result = try await withTaskExecutorPreference(group.next(), operation: body)
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
    try await group.shutdownGracefully()
    return result
}
