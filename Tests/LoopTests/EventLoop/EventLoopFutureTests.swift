import Glibc
import Testing
@testable import Loop

private struct Boom: Error, Equatable { let code: Int }

/// Futures on an embedded loop complete synchronously, which makes chaining easy to pin down.
@Suite struct EmbeddedEventLoopFutureTests {
    private func value<T: Sendable>(_ future: EventLoopFuture<T>) -> Result<T, any Error>? {
        let box = Locked<Result<T, any Error>?>(nil)
        future.whenComplete { result in box.mutate { $0 = result } }
        return box.value
    }

    @Test func promiseCompletesOnceAndLaterCompletionsAreIgnored() throws {
        let loop = EventLoop.makeEmbedded()
        let promise = loop.makePromise(of: Int.self)
        #expect(value(promise.futureResult) == nil)
        promise.succeed(1)
        promise.succeed(2)
        promise.fail(Boom(code: 3))
        #expect(try value(promise.futureResult)?.get() == 1)
    }

    @Test func callbacksRunInRegistrationOrder() {
        let loop = EventLoop.makeEmbedded()
        let promise = loop.makePromise(of: String.self)
        let log = Locked<[String]>([])
        promise.futureResult.whenComplete { _ in log.append("complete") }
        promise.futureResult.whenSuccess { log.append("success \($0)") }
        promise.futureResult.whenFailure { _ in log.append("failure") }
        promise.succeed("x")
        promise.futureResult.whenSuccess { log.append("late \($0)") }  // already complete: runs now
        #expect(log.value == ["complete", "success x", "late x"])
    }

    @Test func mapAndFlatMapThrowingPassFailuresThrough() throws {
        let loop = EventLoop.makeEmbedded()
        let called = Locked(0)
        let failed: EventLoopFuture<Int> = loop.makeFailedFuture(Boom(code: 1))
        let mapped = failed.map { value -> Int in called.mutate { $0 += 1 }; return value + 1 }
        let thrown = failed.flatMapThrowing { value -> Int in called.mutate { $0 += 1 }; return value + 1 }
        #expect(throws: Boom(code: 1)) { try value(mapped)?.get() }
        #expect(throws: Boom(code: 1)) { try value(thrown)?.get() }
        #expect(called.value == 0)
    }

    @Test func alwaysAndVoided() throws {
        let loop = EventLoop.makeEmbedded()
        let seen = Locked<Int?>(nil)
        let future = loop.makeSucceededFuture(5).always { result in seen.mutate { $0 = try? result.get() } }
        #expect(try value(future)?.get() == 5)
        #expect(seen.value == 5)
        let voided = loop.makeSucceededFuture("x").voided()
        #expect(throws: Never.self) { try value(voided)?.get() }
        #expect(value(voided) != nil)
    }
}

/// Futures on real loops: callbacks on the loop thread, completion from other threads.
extension RealLoopTests {
    @Suite struct EventLoopFutureTests {
        @Test func mapTransformsTheValueOnTheLoop() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let loop = group.next()
                let onLoop = Locked<Bool?>(nil)
                let future = loop.submit { 20 }.map { value -> Int in
                    onLoop.mutate { $0 = loop.inEventLoop }
                    return value * 2
                }
                #expect(future.eventLoop === loop)
                let result = try await future.get(within: .seconds(5))
                #expect(result == 40)
                #expect(onLoop.value == true)
            }
        }

        @Test func flatMapThrowingMapsOrFails() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let loop = group.next()
                let parsed = try await loop.submit { "42" }.flatMapThrowing { text -> Int in
                    guard let number = Int(text) else { throw Boom(code: 0) }
                    return number
                }.get(within: .seconds(5))
                #expect(parsed == 42)
                await #expect(throws: Boom(code: 7)) {
                    try await loop.submit { "x" }.flatMapThrowing { _ -> Int in throw Boom(code: 7) }.get(within: .seconds(5))
                }
            }
        }

        @Test func flatMapChainsAFutureFromAnotherLoop() async throws {
            try await withEventLoopGroup(threads: 2) { group in
                let first = group.loops[0]
                let second = group.loops[1]
                let chained = first.submit { 3 }.flatMap { value in
                    second.submit { () -> (Int, Bool) in (value * 10, second.inEventLoop) }
                }
                #expect(chained.eventLoop === first)
                let (value, ranOnSecond) = try await chained.get(within: .seconds(5))
                #expect(value == 30)
                #expect(ranOnSecond)
            }
        }

        @Test func flatMapSkipsTheNextStepAfterAFailure() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let loop = group.next()
                let called = Locked(false)
                let failed: EventLoopFuture<Int> = loop.makeFailedFuture(Boom(code: 2))
                let chained = failed.flatMap { value -> EventLoopFuture<Int> in
                    called.mutate { $0 = true }
                    return loop.makeSucceededFuture(value)
                }
                await #expect(throws: Boom(code: 2)) { try await chained.get(within: .seconds(5)) }
                #expect(called.value == false)
            }
        }

        @Test func flatMapErrorRecoversWithAnotherFuture() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let loop = group.next()
                let seenError = Locked<Boom?>(nil)
                let failed: EventLoopFuture<String> = loop.makeFailedFuture(Boom(code: 4))
                let recovered = failed.flatMapError { error in
                    seenError.mutate { $0 = error as? Boom }
                    return loop.submit { "recovered" }
                }
                let recoveredValue = try await recovered.get(within: .seconds(5))
                #expect(recoveredValue == "recovered")
                #expect(seenError.value == Boom(code: 4))

                // A success passes through untouched, without calling the recovery.
                let called = Locked(false)
                let untouched = try await loop.submit { "fine" }.flatMapError { _ in
                    called.mutate { $0 = true }
                    return loop.makeSucceededFuture("replaced")
                }.get(within: .seconds(5))
                #expect(untouched == "fine")
                #expect(called.value == false)

                // A recovery that fails again fails the result with the new error.
                await #expect(throws: Boom(code: 5)) {
                    try await failed.flatMapError { _ in loop.makeFailedFuture(Boom(code: 5)) }.get(within: .seconds(5))
                }
            }
        }

        @Test func recoverReplacesAFailureWithAValue() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let loop = group.next()
                let failed: EventLoopFuture<Int> = loop.makeFailedFuture(Boom(code: 9))
                let recovered = try await failed.recover { error in (error as? Boom)?.code ?? -1 }.get(within: .seconds(5))
                #expect(recovered == 9)
                let called = Locked(false)
                let kept = try await loop.makeSucceededFuture(1).recover { _ in
                    called.mutate { $0 = true }
                    return 2
                }.get(within: .seconds(5))
                #expect(kept == 1)
                #expect(called.value == false)
            }
        }

        @Test func whenCompleteCallbacksRunOnTheLoopThread() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let loop = group.next()
                let promise = loop.makePromise(of: Int.self)
                let log = Locked<[String]>([])
                let done = Signal(count: 3)
                promise.futureResult.whenComplete { result in
                    log.append("complete \(loop.inEventLoop) \((try? result.get()) ?? -1)")
                    done.fulfill()
                }
                promise.futureResult.whenSuccess { value in
                    log.append("success \(loop.inEventLoop) \(value)")
                    done.fulfill()
                }
                promise.futureResult.whenFailure { _ in log.append("failure") }
                promise.futureResult.whenComplete { _ in done.fulfill() }
                promise.succeed(8)  // from the test's thread
                try await done.wait(within: .seconds(5), "callbacks")
                #expect(log.value == ["complete true 8", "success true 8"])
            }
        }

        @Test func cascadeCompletesThePromiseWithTheSameResult() async throws {
            try await withEventLoopGroup(threads: 2) { group in
                let source = group.loops[0].makePromise(of: Int.self)
                let target = group.loops[1].makePromise(of: Int.self)
                source.futureResult.cascade(to: target)
                source.futureResult.cascade(to: nil)  // allowed, does nothing
                source.succeed(11)
                let cascaded = try await target.futureResult.get(within: .seconds(5))
                #expect(cascaded == 11)

                let failingSource = group.loops[0].makePromise(of: Int.self)
                let failingTarget = group.loops[1].makePromise(of: Int.self)
                failingTarget.completeWith(failingSource.futureResult)
                failingSource.fail(Boom(code: 12))
                await #expect(throws: Boom(code: 12)) { try await failingTarget.futureResult.get(within: .seconds(5)) }
            }
        }

        @Test func andAllSucceedWaitsForEveryFuture() async throws {
            try await withEventLoopGroup(threads: 2) { group in
                let loop = group.loops[0]
                let promises = [loop.makePromise(of: Int.self), group.loops[1].makePromise(of: Int.self),
                                loop.makePromise(of: Int.self)]
                let all = EventLoopFuture.andAllSucceed(promises.map(\.futureResult), on: loop)
                let finished = Locked(false)
                all.whenComplete { _ in finished.mutate { $0 = true } }
                promises[0].succeed(1)
                promises[1].succeed(2)
                // Give the loops a full round trip: still one promise open, so not done.
                _ = try await loop.submit { }.get(within: .seconds(5))
                _ = try await group.loops[1].submit { }.get(within: .seconds(5))
                _ = try await loop.submit { }.get(within: .seconds(5))
                #expect(finished.value == false)
                promises[2].succeed(3)
                try await all.get(within: .seconds(5))
                #expect(finished.value == true)
            }
        }

        @Test func andAllSucceedFailsWithTheFailure() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let loop = group.next()
                let open = loop.makePromise(of: Int.self)
                let futures = [loop.makeSucceededFuture(1), loop.makeFailedFuture(Boom(code: 13)), open.futureResult]
                await #expect(throws: Boom(code: 13)) {
                    try await EventLoopFuture.andAllSucceed(futures, on: loop).get(within: .seconds(5))
                }
                open.succeed(3)
            }
        }

        @Test func andAllSucceedOfNothingSucceeds() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let loop = group.next()
                try await EventLoopFuture<Int>.andAllSucceed([], on: loop).get(within: .seconds(5))
            }
        }

        @Test func getReturnsTheValueOrThrowsTheError() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let loop = group.next()
                let delayed = loop.scheduleTask(in: .milliseconds(20)) { "later" }.futureResult
                let later = try await delayed.get(within: .seconds(5))
                #expect(later == "later")
                let failing: EventLoopFuture<String> = loop.makeFailedFuture(Boom(code: 14))
                await #expect(throws: Boom(code: 14)) { try await failing.get() }
            }
        }

        @Test func completionFromAnotherThread() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let loop = group.next()
                let promise = loop.makePromise(of: [Int].self)
                let callbackOnLoop = Locked<Bool?>(nil)
                promise.futureResult.whenSuccess { _ in callbackOnLoop.mutate { $0 = loop.inEventLoop } }
                let thread = startThread {
                    usleep(10_000)
                    promise.succeed([1, 2, 3])
                }
                let value = try await promise.futureResult.get(within: .seconds(5))
                joinThread(thread)
                #expect(value == [1, 2, 3])
                try await waitUntil("the success callback") { callbackOnLoop.value != nil }
                #expect(callbackOnLoop.value == true)
            }
        }

        @Test func racingCompletionsFromManyThreadsCompleteOnce() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let loop = group.next()
                let promise = loop.makePromise(of: Int.self)
                let calls = Locked(0)
                promise.futureResult.whenComplete { _ in calls.mutate { $0 += 1 } }
                let threads = (0..<8).map { index in startThread { promise.succeed(index) } }
                let winner = try await promise.futureResult.get(within: .seconds(5))
                for thread in threads { joinThread(thread) }
                _ = try await loop.submit { }.get(within: .seconds(5))  // let late completions arrive
                #expect((0..<8).contains(winner))
                #expect(calls.value == 1)
                let again = try await promise.futureResult.get(within: .seconds(5))
                #expect(again == winner)
            }
        }
    }
}
