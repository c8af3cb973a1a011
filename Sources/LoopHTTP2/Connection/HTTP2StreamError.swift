/// Why a send was refused.
public enum HTTP2StreamError: Error, Equatable, CustomStringConvertible {
    case streamClosed(UInt32)
    case connectionClosed
    case goingAway
    case streamLimitReached(Int)
    case streamIDsExhausted

    public var description: String {
        switch self {
        case .streamClosed(let id): return "HTTP2StreamError.streamClosed: stream \(id) is closed for sending"
        case .connectionClosed: return "HTTP2StreamError.connectionClosed: the connection is closed"
        case .goingAway: return "HTTP2StreamError.goingAway: the connection is shutting down and takes no new streams"
        case .streamLimitReached(let limit): return "HTTP2StreamError.streamLimitReached: the peer allows \(limit) concurrent streams"
        case .streamIDsExhausted: return "HTTP2StreamError.streamIDsExhausted: no stream ids left on this connection"
        }
    }
}
