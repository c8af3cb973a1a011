import Loop
import LoopTLS

/// An incoming request: its head and its body. A class: the request is handed from the
/// connection to its task and on through a handler's calls, shared rather than copied.
public final class HTTP2ServerRequest: Sendable {
    /// Method, path, authority and headers.
    public let head: HTTP2RequestHead
    /// The body; empty when the request ended with its headers.
    public let body: HTTP2Body
    /// The stream id (for logs).
    public let streamID: UInt32
    /// What the connection's TLS handshake agreed on (ALPN protocol, version, the client's
    /// certificate under mutual TLS); nil in cleartext.
    ///
    /// ```swift
    /// guard let client = request.tls?.peerCertificate, client.names.contains("billing.internal") else { ... }
    /// ```
    public let tls: TLSConnectionInfo?
    /// The client's address (IP and port, or a Unix domain socket); nil when unknown.
    public let remoteAddress: SocketAddress?
    /// The address the request arrived on.
    public let localAddress: SocketAddress?

    init(head: HTTP2RequestHead, body: HTTP2Body, streamID: UInt32, tls: TLSConnectionInfo?, remoteAddress: SocketAddress?,
         localAddress: SocketAddress?) {
        self.head = head
        self.body = body
        self.streamID = streamID
        self.tls = tls
        self.remoteAddress = remoteAddress
        self.localAddress = localAddress
    }
}

/// The response to one request, for async handlers. Writes wait while the stream has more
/// than 256 KiB queued (flow control or a slow socket), so memory stays bounded.
///
/// ```swift
/// try await response.sendHead(HTTP2ResponseHead(status: 200, headers: [HPACKHeader("content-type", "text/plain")]))
/// try await response.write(ByteBuffer(string: "Hello"))
/// try await response.finish()
/// ```
public struct HTTP2ServerResponse: Sendable {
    let storage: HTTP2WriterStorage

    /// Sends the response head (`endStream` for a response without a body).
    public func sendHead(_ head: HTTP2ResponseHead, endStream: Bool = false) async throws {
        try await storage.sendHead(head.headerList, endStream: endStream)
    }

    /// Sends body bytes; waits while too much is queued.
    public func write(_ data: ByteBuffer) async throws {
        try await storage.write(data)
    }

    /// Ends the response, with trailers if given. Without a head sent, sends 200 first.
    public func finish(trailers: [HPACKHeader] = []) async throws {
        try await storage.finish(trailers: trailers, defaultStatus: 200)
    }

    /// Sends a whole response at once (one hop to the connection's loop: head and body leave
    /// together).
    public func respond(_ head: HTTP2ResponseHead, body: ByteBuffer? = nil) async throws {
        try await storage.respond(head.headerList, body: body)
    }
}
