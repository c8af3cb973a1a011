import Loop
import Testing

/// The helper the timed tests rely on: after an await, the body is back on its own loop's
/// thread, not on the shared pool.
@Suite struct ResumingOnItsOwnLoopTests {
    @Test func awaitsInTheBodyResumeOnItsLoopsThread() async throws {
        let threads = try await resumingOnItsOwnLoop { () -> [EventLoop?] in
            var seen: [EventLoop?] = [EventLoop.current]
            try await Task.sleep(for: .milliseconds(5))
            seen.append(EventLoop.current)
            await Task.yield()
            seen.append(EventLoop.current)
            return seen
        }
        #expect(threads.count == 3)
        #expect(threads.allSatisfy { $0 != nil }, "every step ran on a loop's thread")
        #expect(Set(threads.compactMap { $0.map(ObjectIdentifier.init) }).count == 1, "and on the same loop")
    }
}
