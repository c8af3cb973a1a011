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

    /// Server only: whether a response that ends while the request is still open is
    /// followed by RST_STREAM(NO_ERROR), telling the client to stop uploading (RFC 9113 §8.1
    /// says the server MAY). Off, the stream stays half-closed until the client ends its side
    /// (Loop's and grpc-go's clients do so at once with their own reset); some proxies rewrite
    /// the server's reset (HAProxy 2.6 turns NO_ERROR into CANCEL), which is the trade-off.
    public var resetsOpenRequestAfterResponse = true

    public init(role: Role) {
        self.role = role
    }
}
