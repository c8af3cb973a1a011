/// A message travelling through a pipeline between handlers of different types.
///
/// `ByteBuffer`, the common case, travels unboxed; any other type travels as `Any`
/// (values up to three words are stored inline, without an allocation).
public struct PipelineMessage {
    @usableFromInline
    enum Storage {
        case bytes(ByteBuffer)
        case other(Any)
    }

    @usableFromInline let storage: Storage

    @inlinable
    public init<T>(_ value: T) {
        if T.self == ByteBuffer.self {
            storage = .bytes(unsafeBitCast(value, to: ByteBuffer.self))
        } else if T.self == PipelineMessage.self {
            storage = unsafeBitCast(value, to: PipelineMessage.self).storage
        } else {
            storage = .other(value)
        }
    }

    /// The message as `T`; a mismatch is a pipeline set-up error and traps with both types.
    @inlinable
    public func unwrap<T>(as type: T.Type, for handler: @autoclosure () -> String) -> T {
        switch storage {
        case .bytes(let buffer):
            if T.self == ByteBuffer.self { return unsafeBitCast(buffer, to: T.self) }
            if let value = buffer as? T { return value }
        case .other(let value):
            if let value = value as? T { return value }
        }
        fatalError("pipeline type mismatch: \(handler()) expects \(T.self) but received \(typeName)")
    }

    /// The message's type name, for error messages.
    public var typeName: String {
        switch storage {
        case .bytes: return "ByteBuffer"
        case .other(let value): return String(describing: type(of: value))
        }
    }

    /// The message as `T`, or nil if it is something else.
    @inlinable
    public func tryUnwrap<T>(as type: T.Type) -> T? {
        switch storage {
        case .bytes(let buffer): return buffer as? T
        case .other(let value): return value as? T
        }
    }
}
