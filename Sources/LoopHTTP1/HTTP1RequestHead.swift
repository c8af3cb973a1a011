/// The HTTP version of a message: 1.0 or 1.1 (RFC 9112 §2.3).
public enum HTTP1Version: Sendable, Equatable, CustomStringConvertible {
    case http1_0
    case http1_1

    public var description: String { self == .http1_0 ? "HTTP/1.0" : "HTTP/1.1" }
}

/// How a message's body is delimited (RFC 9112 §6.3).
public enum HTTP1BodyFraming: Sendable, Equatable {
    /// No body.
    case none
    /// Exactly this many bytes (Content-Length).
    case length(Int)
    /// Chunked transfer coding, ended by a zero-size chunk and trailers.
    case chunked
}

/// A request's line and header fields, checked (RFC 9112 §3, §5, §6).
///
/// ```swift
/// if head.method == "GET" && head.target == "/hello" { ... }
/// head.keepAlive       // false after "Connection: close" or an HTTP/1.0 request without keep-alive
/// head.expectsContinue // "Expect: 100-continue": answer 100 before reading the body
/// ```
public struct HTTP1RequestHead: Sendable, Equatable {
    /// The method token, e.g. "GET" (case-sensitive, RFC 9110 §9.1).
    public var method: String
    /// The request-target as sent: origin-form ("/path?query"), absolute-form, authority-form
    /// (CONNECT) or "*" (OPTIONS).
    public var target: String
    public var version: HTTP1Version
    public var fields: HTTP1Fields
    /// How the body is delimited.
    public var framing: HTTP1BodyFraming

    public init(method: String, target: String, version: HTTP1Version = .http1_1, fields: HTTP1Fields = HTTP1Fields(),
                framing: HTTP1BodyFraming = .none) {
        self.method = method
        self.target = target
        self.version = version
        self.fields = fields
        self.framing = framing
    }

    /// The path part of an origin-form target (before "?").
    public var path: Substring { target.prefix { $0 != "?" } }

    /// The query part of the target (after "?"), if any.
    public var query: Substring? {
        guard let mark = target.firstIndex(of: "?") else { return nil }
        return target[target.index(after: mark)...]
    }

    /// The Host field (RFC 9112 §3.2).
    public var host: String? { fields["host"] }

    /// Whether the connection stays open after this exchange (RFC 9112 §9.3): HTTP/1.1
    /// unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
    public var keepAlive: Bool {
        switch version {
        case .http1_1: return !fields.contains("connection", token: "close")
        case .http1_0: return fields.contains("connection", token: "keep-alive")
        }
    }

    /// "Expect: 100-continue" (RFC 9110 §10.1.1): the client waits for 100 (Continue)
    /// before it sends the body.
    public var expectsContinue: Bool {
        fields["expect"].map { HTTP1Fields.equalIgnoringCase($0, "100-continue") } ?? false
    }

    /// The protocols of an Upgrade request ("h2c" for RFC 7540 §3.2), empty without one.
    public var upgradeProtocols: [String] {
        guard fields.contains("connection", token: "upgrade") else { return [] }
        return fields.values("upgrade").flatMap { $0.split(separator: ",").map { String($0.trimmingSpaces) } }
    }
}
