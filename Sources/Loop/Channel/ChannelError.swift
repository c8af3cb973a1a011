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

/// Connecting to a host name failed at every address it resolved to (tried in
/// `getaddrinfo`'s order, each with the connect timeout).
///
/// `"connect to localhost:8080 failed: [::1]:8080: Connection refused (errno 111); 127.0.0.1:8080: Connection refused (errno 111)"`
public struct ConnectError: Error, CustomStringConvertible {
    /// One address tried and why it did not connect.
    public struct Attempt: Sendable {
        public let address: SocketAddress
        /// An `IOError` (e.g. ECONNREFUSED) or `ChannelError.connectTimeout`.
        public let error: any Error
    }

    /// The host name given to `connect`.
    public let host: String
    public let port: Int
    /// Every address tried, in order.
    public let attempts: [Attempt]

    public var description: String {
        let reasons = attempts.map { attempt -> String in
            switch attempt.error {
            case let error as IOError: return "\(attempt.address): \(String(cString: strerror(error.errnoCode))) (errno \(error.errnoCode))"
            case ChannelError.connectTimeout(let limit): return "\(attempt.address): no connection within \(limit)"
            default: return "\(attempt.address): \(attempt.error)"
            }
        }
        return "connect to \(host):\(port) failed: \(reasons.joined(separator: "; "))"
    }
}
