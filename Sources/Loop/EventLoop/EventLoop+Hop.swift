/// Hopping onto a loop from async code, beside the loop's executor (EventLoop+Executor.swift):
/// the async faces of LoopHTTP2 and LoopGRPC read and change loop-owned state through these.

/// Moves a value across a `@Sendable` boundary when the code guarantees it is used on one
/// loop only (the value is created on, or handed to, the loop that owns it, and never
/// touched from two threads at once); the compiler cannot see that guarantee.
// @unchecked Sendable: Used only where the value is disconnected from the sender (a `sending`
// parameter) or is handed to the loop that owns it, as said above.
package struct UncheckedTransfer<Value>: @unchecked Sendable {
    package let value: Value
    package init(_ value: Value) { self.value = value }
}

/// Runs `body` on `loop`: directly when already there, else with one hop.
package func onLoop<T>(_ loop: EventLoop, _ body: @escaping () -> T) async -> T {
    if loop.inEventLoop { return body() }
    let transfer = UncheckedTransfer(body)
    return await withCheckedContinuation { (continuation: CheckedContinuation<UncheckedTransfer<T>, Never>) in
        loop.execute { continuation.resume(returning: UncheckedTransfer(transfer.value())) }
    }.value
}

/// Runs a throwing `body` on `loop`: directly when already there, else with one hop.
package func onLoopThrowing<T>(_ loop: EventLoop, _ body: @escaping () throws -> T) async throws -> T {
    if loop.inEventLoop { return try body() }
    let transfer = UncheckedTransfer(body)
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<UncheckedTransfer<T>, any Error>) in
        loop.execute { continuation.resume(with: Result { UncheckedTransfer(try transfer.value()) }) }
    }.value
}
