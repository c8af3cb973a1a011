/// Carries a loop-bound value (a handler, a context) across a `@Sendable` boundary, checking
/// on every access that the access happens on its loop.
///
/// ```swift
/// let bound = LoopBound(self, eventLoop: context.eventLoop)
/// future.whenComplete { _ in bound.value.finish() }   // runs on the loop
/// ```
// @unchecked Sendable: The value is reachable only through `value`, which traps off its loop.
public struct LoopBound<Value>: @unchecked Sendable {
    @usableFromInline var _value: Value
    /// The loop the value belongs to.
    public let eventLoop: EventLoop

    /// Wraps `value`; must be called on `eventLoop`.
    @inlinable
    public init(_ value: Value, eventLoop: EventLoop) {
        precondition(eventLoop.inEventLoop, "LoopBound created off its loop")
        self._value = value
        self.eventLoop = eventLoop
    }

    /// The value; traps when read or written off its loop.
    @inlinable
    public var value: Value {
        get {
            precondition(eventLoop.inEventLoop, "LoopBound accessed off its loop")
            return _value
        }
        set {
            precondition(eventLoop.inEventLoop, "LoopBound accessed off its loop")
            _value = newValue
        }
    }
}
