/// A message a parser refuses, with a reason naming the rule (RFC 9112 section) or the limit
/// passed. For a request (`HTTP1RequestParser`), the status to answer it with before closing
/// the connection; for a response (`HTTP1ResponseParser`), always 502 (Bad Gateway, RFC 9110
/// §15.6.3): what a gateway would answer its own client. Either way the connection must close.
///
/// ```swift
/// catch let error as HTTP1ParseError {
///     print(error.status, error.reason)   // 400 "Transfer-Encoding with Content-Length (RFC 9112 §6.3)"
/// }
/// ```
public struct HTTP1ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The status to answer with: 400, 413, 414, 431, 501 or 505 for a request, 502 for a
    /// response.
    public let status: Int
    /// What was wrong, naming the rule.
    public let reason: String

    public init(status: Int, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    static func badRequest(_ reason: String) -> HTTP1ParseError { HTTP1ParseError(status: 400, reason) }

    public var description: String { "HTTP1ParseError(\(status)): \(reason)" }
}

/// Limits on what one message may make a parser hold: a request a server reads, a response a
/// client reads.
///
/// ```swift
/// var limits = HTTP1Limits()
/// limits.maxBodySize = 64 << 20
/// ```
public struct HTTP1Limits: Sendable, Equatable {
    /// The longest request line; longer ones get 414 (URI Too Long).
    public var maxRequestLineLength = 8 * 1024
    /// The longest status line (`HTTP1ResponseParser`); longer is refused (502).
    public var maxStatusLineLength = 8 * 1024
    /// The most header (or trailer) fields; more get 431.
    public var maxFields = 100
    /// The most bytes of header fields (or of trailer fields); more get 431.
    public var maxFieldBytes = 16 * 1024
    /// The largest body; larger ones get 413 (Content Too Large).
    public var maxBodySize = 4 * 1024 * 1024
    /// The longest chunk-size line with its extensions (RFC 9112 §7.1.1); longer is 400.
    public var maxChunkLineLength = 1024

    public init() {}
}
