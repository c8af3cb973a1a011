/// Why a send was refused.
public enum HTTP2StreamError: Error, Equatable, CustomStringConvertible {
    case streamClosed(UInt32)
    case connectionClosed
    case goingAway
    case streamLimitReached(Int)
    case streamIDsExhausted
    /// The header list breaks a rule of RFC 9113 §8.2 or §8.3 (an upper-case name, CR, LF or
    /// NUL in a value, a connection-specific field, a pseudo-header after a regular one):
    /// a peer would reset it as malformed, and a gateway translating it to HTTP/1.1 could be
    /// tricked into splitting a message. Nothing was sent.
    case invalidHeaders(String)

    public var description: String {
        switch self {
        case .streamClosed(let id): return "HTTP2StreamError.streamClosed: stream \(id) is closed for sending"
        case .connectionClosed: return "HTTP2StreamError.connectionClosed: the connection is closed"
        case .goingAway: return "HTTP2StreamError.goingAway: the connection is shutting down and takes no new streams"
        case .streamLimitReached(let limit): return "HTTP2StreamError.streamLimitReached: the peer allows \(limit) concurrent streams"
        case .streamIDsExhausted: return "HTTP2StreamError.streamIDsExhausted: no stream ids left on this connection"
        case .invalidHeaders(let problem): return "HTTP2StreamError.invalidHeaders: \(problem); nothing was sent"
        }
    }
}
