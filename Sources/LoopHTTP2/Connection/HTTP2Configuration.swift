/// Settings and limits of an HTTP/2 connection.
///
/// ```swift
/// var configuration = HTTP2Configuration(role: .server)
/// configuration.maxConcurrentStreams = 1000
/// configuration.initialStreamWindowSize = 1 << 20
/// ```
public struct HTTP2Configuration: Sendable {
    public enum Role: Sendable { case server, client }

    public var role: Role
    /// SETTINGS_MAX_CONCURRENT_STREAMS we announce; more streams are refused with
    /// REFUSED_STREAM (nil: unlimited).
    public var maxConcurrentStreams: UInt32? = 1000
    /// SETTINGS_INITIAL_WINDOW_SIZE we announce: how much a peer may send on one stream
    /// before the application consumes it.
    public var initialStreamWindowSize: UInt32 = 1 << 20
    /// The connection-level receive window we open at start (RFC 9113 §6.9.2 fixes the
    /// initial one at 65,535; a larger one keeps many streams or big transfers fast).
    public var connectionWindowSize: UInt32 = 16 << 20
    /// Stream windows grow up to this when measured bandwidth-delay says the window limits a
    /// transfer (BDP pings, as grpc-go does); nil keeps `initialStreamWindowSize` fixed.
    public var maximumStreamWindowSize: UInt32? = 16 << 20
    /// SETTINGS_MAX_FRAME_SIZE we announce and accept.
    public var maxFrameSize: UInt32 = 16_384
    /// SETTINGS_MAX_HEADER_LIST_SIZE we announce and enforce.
    public var maxHeaderListSize: UInt32 = 16_384
    /// SETTINGS_HEADER_TABLE_SIZE we announce (our HPACK decoder's table limit).
    public var headerTableSize: UInt32 = 4096
    // Abuse limits (HTTP2AbuseLimits): past each, the connection is closed with
    // ENHANCE_YOUR_CALM.

    /// Streams the peer may reset per second before the connection is closed with
    /// ENHANCE_YOUR_CALM (rapid reset, CVE-2023-44487).
    public var maxResetsPerSecond = 200
    /// PING and SETTINGS frames accepted within 10 seconds without any HEADERS or DATA in
    /// between; more is a flood, answered with ENHANCE_YOUR_CALM.
    public var maxControlFramesWithoutProgress = 1000
    /// CONTINUATION frames one header block may use (CONTINUATION floods, CVE-2024-27316).
    public var maxContinuationFrames = 32
    /// Encoded bytes one header block may use; nil: twice the larger of
    /// `maxHeaderListSize` and 16 KiB.
    public var maxHeaderBlockSize: Int? = nil
    /// How long a peer may take to complete the handshake.
    public var handshakeTimeout: Duration = .seconds(10)

    /// Server only: what follows a response that ends while the request is still open
    /// (the stream-end rule, docs/architecture.md). See ``UnfinishedRequestPolicy``.
    public var unfinishedRequestPolicy: UnfinishedRequestPolicy = .resetAfterGracePeriod(.milliseconds(500))

    public init(role: Role) {
        self.role = role
    }
}

extension HTTP2Configuration {
    /// What a server does with a request whose response is already complete (it sent
    /// END_STREAM) while the client has not ended its side: a gRPC call the server aborted
    /// while the client still streams, or an early error answer to an upload.
    ///
    /// RFC 9113 §8.1 lets the server follow such a response with RST_STREAM(NO_ERROR) to
    /// stop the upload. Clients end their side by themselves once the response is complete
    /// (Loop's and grpc-go's with their own reset, grpcio with END_STREAM, usually within a
    /// round trip), and a reset that arrives right behind the response can cost the client its
    /// status: HAProxy 2.6 turns the server's RST_STREAM(NO_ERROR) into CANCEL, and grpcio
    /// clients behind it then report CANCELLED instead of the trailers' status. The default
    /// therefore waits for the client first.
    ///
    /// ```swift
    /// var configuration = HTTP2Configuration(role: .server)
    /// configuration.unfinishedRequestPolicy = .resetAfterGracePeriod(.milliseconds(200))
    /// ```
    public enum UnfinishedRequestPolicy: Sendable, Equatable {
        /// RST_STREAM(NO_ERROR) right behind the response. The stream is released at once;
        /// behind HAProxy, grpcio clients see CANCELLED instead of the status.
        case resetImmediately
        /// Waits for the client to end its side (END_STREAM or its own RST_STREAM); a client
        /// that has not within the grace period gets RST_STREAM(NO_ERROR). Meanwhile its DATA
        /// is discarded and credited at once (it can change nothing), and the stream keeps
        /// its slot under SETTINGS_MAX_CONCURRENT_STREAMS, so what a client can hold this way
        /// stays bounded. The wait is between the period and twice it (the timer sweeps in
        /// generations, one timer per connection).
        case resetAfterGracePeriod(Duration)
        /// Never resets: the stream stays half-closed until the client ends its side, and
        /// its DATA is delivered as usual (for servers that answer early and still read the
        /// body). A client that never ends its side holds its stream slot.
        case waitForClient
    }
}

