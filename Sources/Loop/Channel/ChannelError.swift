import Glibc

/// Errors of channels, with messages a user can act on.
public enum ChannelError: Error, Equatable, CustomStringConvertible {
    /// An operation on a channel that has closed.
    case ioOnClosedChannel
    /// `close` on a channel that has already closed.
    case alreadyClosed
    /// A write after the output side was shut.
    case outputClosed
    /// Connecting took longer than the connect timeout.
    case connectTimeout(Duration)
    /// The channel does not support this operation.
    case operationUnsupported(String)
    /// A write that is not a `ByteBuffer` reached the socket.
    case unsupportedMessageType(String)
    /// The event loop is shutting down and takes no new channels.
    case eventLoopShutdown

    public var description: String {
        switch self {
        case .ioOnClosedChannel: return "ChannelError.ioOnClosedChannel: the channel is closed"
        case .alreadyClosed: return "ChannelError.alreadyClosed: the channel was already closed"
        case .outputClosed: return "ChannelError.outputClosed: the channel's output side is shut"
        case .connectTimeout(let limit): return "ChannelError.connectTimeout: no connection within \(limit)"
        case .operationUnsupported(let what): return "ChannelError.operationUnsupported: \(what)"
        case .unsupportedMessageType(let type):
            return "ChannelError.unsupportedMessageType: the socket writes ByteBuffer, not \(type); add an encoder to the pipeline"
        case .eventLoopShutdown: return "ChannelError.eventLoopShutdown: the event loop is shutting down"
        }
    }
}

/// A failed system call, with its errno and what was being done.
///
/// `"connect to 127.0.0.1:1 failed: Connection refused (errno 111)"`
public struct IOError: Error, Equatable, CustomStringConvertible {
    /// The errno value.
    public let errnoCode: Int32
    /// What was being done, e.g. `"connect to 127.0.0.1:1"`.
    public let operation: String

    public init(errnoCode: Int32, operation: String) {
        self.errnoCode = errnoCode
        self.operation = operation
    }

    public var description: String {
        "\(operation) failed: \(String(cString: strerror(errnoCode))) (errno \(errnoCode))"
    }
}
