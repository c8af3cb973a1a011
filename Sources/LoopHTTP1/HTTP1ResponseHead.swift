/// A response's status line and header fields (RFC 9112 §4, §5, §6): what
/// `HTTP1ResponseEncoder` writes (it takes the status and fields; its own version and the
/// standard reason phrase) and what `HTTP1ResponseParser` reads (everything, checked).
///
/// ```swift
/// let head = HTTP1ResponseHead(status: 200, fields: HTTP1Fields([("content-type", "text/plain")]))
/// // From the parser:
/// head.isInformational // 1xx: an interim response, the final one follows (RFC 9110 §15.2)
/// head.keepAlive       // false after "Connection: close", for HTTP/1.0 without keep-alive,
///                      // or when the body ends with the connection
/// ```
public struct HTTP1ResponseHead: Sendable, Equatable {
    /// How a response's body is delimited (RFC 9112 §6.3).
    public enum Framing: Sendable, Equatable {
        /// No body: a response to HEAD, a 1xx, 204 or 304, a 2xx to CONNECT, or Content-Length: 0.
        case none
        /// Exactly this many bytes (Content-Length).
        case length(Int)
        /// Chunked transfer coding, ended by a zero-size chunk and trailers.
        case chunked
        /// Everything until the server closes the connection (neither Content-Length nor
        /// Transfer-Encoding): `HTTP1ResponseParser.finish()` ends it.
        case untilClose
    }

    /// The status code, 100…599 (RFC 9110 §15).
    public var status: Int
    public var fields: HTTP1Fields
    public var version: HTTP1Version
    /// The reason phrase as sent (possibly empty; RFC 9112 §4: a client ignores it).
    public var reason: String
    /// How the body is delimited.
    public var framing: Framing

    public init(status: Int, fields: HTTP1Fields = HTTP1Fields(), version: HTTP1Version = .http1_1, reason: String = "",
                framing: Framing = .none) {
        self.status = status
        self.fields = fields
        self.version = version
        self.reason = reason
        self.framing = framing
    }

    /// A 1xx interim response (RFC 9110 §15.2): another head follows for the same request,
    /// except after 101 (Switching Protocols), where HTTP/1.1 ends on the connection.
    public var isInformational: Bool { (100..<200).contains(status) }

    /// Whether the connection can carry another request after this response (RFC 9112
    /// §9.3): HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection:
    /// keep-alive"; never when the body is delimited by the close.
    public var keepAlive: Bool {
        if framing == .untilClose { return false }
        switch version {
        case .http1_1: return !fields.contains("connection", token: "close")
        case .http1_0: return fields.contains("connection", token: "keep-alive")
        }
    }
}
