import LoopHTTP1

/// How an ``HTTP2Server`` serves HTTP/1.1 beside HTTP/2 on one port
/// (``HTTP2Configuration/http1``).
///
/// ```swift
/// var configuration = HTTP2Configuration(role: .server)
/// var http1 = HTTP1Options()
/// http1.limits.maxBodySize = 1 << 20
/// configuration.http1 = http1
/// ```
public struct HTTP1Options: Sendable, Equatable {
    /// Limits on request lines (414), fields (431) and bodies (413): RFC 9112 parsing.
    public var limits = HTTP1Limits()
    /// How long a new connection may take to send enough bytes to tell its protocol (at most
    /// 24: the HTTP/2 preface); then it is closed.
    public var detectionTimeout: Duration = .seconds(10)
    /// How long a request head may take to arrive once its first byte did; then 408 and the
    /// connection closes (slow-loris clients). The first request of a connection is also held
    /// to ``HTTP2Configuration/handshakeTimeout``.
    public var requestHeadTimeout: Duration = .seconds(10)
    /// Whether `Upgrade: h2c` (RFC 7540 §3.2) switches a connection to HTTP/2, answering the
    /// upgrading request as stream 1. Only the first request of a connection, and only one
    /// without a body, may upgrade; others are served over HTTP/1.1.
    public var allowsH2CUpgrade = true
    /// On a server with TLS: whether cleartext HTTP/1.1 and HTTP/2 are served on the same
    /// port beside TLS (false: a TLS port refuses them; the detector hands every TLS ClientHello
    /// to the TLS handler either way).
    public var servesCleartextBesideTLS = false
    /// Bytes read ahead of the request being answered (pipelined requests, body beyond the
    /// flow-control window) before the connection stops reading from the socket.
    public var maxBufferedBytes = 64 * 1024

    public init() {}
}
