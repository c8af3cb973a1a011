import CoreMetrics
import Logging

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

    /// The glitch budget: how much work that serves no request a peer may cause (streams it
    /// resets while they are answered, stream errors it provokes, SETTINGS, and PING,
    /// PRIORITY, empty DATA, WINDOW_UPDATE or unknown frames beyond what its traffic pays
    /// for) before the connection is closed with ENHANCE_YOUR_CALM. See ``GlitchBudget``.
    public var glitchBudget = GlitchBudget(burst: 1000, perSecond: 200)
    /// CONTINUATION frames one header block may use (CONTINUATION floods, CVE-2024-27316).
    public var maxContinuationFrames = 32
    /// Encoded bytes one header block may use; nil: twice the larger of
    /// `maxHeaderListSize` and 16 KiB.
    public var maxHeaderBlockSize: Int? = nil
    /// DATA bytes queued across all streams of the connection above which senders wait
    /// (``HTTP2StreamHandle/isAboveWaterMark(_:)`` says so, and `streamWritable` waits until
    /// the queue is back under half of this). Per-stream water marks alone would multiply by
    /// the number of streams: a peer that opens 1,000 streams and keeps their windows shut
    /// would hold 1,000 × each stream's mark. HTTP2Server's writers and gRPC calls respect
    /// it; code that calls `sendData` directly should too.
    public var maxQueuedOutboundBytes = 4 << 20
    /// How long a peer may take to complete the handshake.
    public var handshakeTimeout: Duration = .seconds(10)

    // Timeouts after the handshake (HTTP2Timeouts); nil turns one off.

    /// How long a connection may have no open stream before it is closed with
    /// GOAWAY(NO_ERROR). Servers: 5 minutes; clients: nil (a pooled client connection is
    /// the application's to close).
    public var idleTimeout: Duration?
    /// How long a peer may take to finish a header block (HEADERS and its CONTINUATION
    /// frames) once it started one; then GOAWAY(ENHANCE_YOUR_CALM). A slow-loris client
    /// that sends a request head in pieces holds the whole connection meanwhile (no other
    /// frame may come between the pieces, RFC 9113 §6.10).
    public var headerBlockTimeout: Duration? = .seconds(10)
    /// How long queued output may make no progress — the socket stays unwritable (the peer
    /// does not read), or DATA waits while the peer keeps its flow-control windows shut —
    /// before the connection is closed with GOAWAY(ENHANCE_YOUR_CALM). Servers: 30 seconds;
    /// clients: nil.
    public var writeStallTimeout: Duration?

    // Keepalive and connection age (HTTP2Keepalive, gRFC A8 and A9, as grpc-go configures
    // them); nil turns each off. With `idleTimeout` above, these say how long a connection
    // lives. One timer per connection serves them all.

    /// Keepalive PINGs we send: after ``Keepalive/interval`` without reading anything from
    /// the peer, a PING; if nothing at all arrives within ``Keepalive/timeout`` after it, the
    /// peer is gone and the connection is closed (no GOAWAY: a peer that answers nothing
    /// reads nothing). Off (nil) by default for both roles; `GRPCServerConfiguration` turns it
    /// on as grpc-go's server has it (``Keepalive/grpcServer``: 2 hours, 20 seconds).
    ///
    /// ```swift
    /// var configuration = HTTP2Configuration(role: .client)
    /// configuration.keepalive = .init(interval: .seconds(30), timeout: .seconds(10))
    /// ```
    public var keepalive: Keepalive?
    /// How often the peer may PING us: gRPC's keepalive enforcement policy, on top of the
    /// glitch budget (which bounds floods whatever this says). A PING sooner than
    /// ``PingPolicy/minInterval`` after the previous one is a strike, and so is any PING
    /// within 2 hours of the previous one while no stream is open unless
    /// ``PingPolicy/permitWithoutCalls``; sending HEADERS or DATA forgives the strikes. Past
    /// ``PingPolicy/maxStrikes`` strikes the connection ends with
    /// GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings"), the words gRPC clients recognise (they
    /// double their keepalive interval). Off (nil) by default; `GRPCServerConfiguration`
    /// turns on grpc-go's policy (``PingPolicy/grpc``: 5 minutes, no pings without calls).
    ///
    /// ```swift
    /// var configuration = HTTP2Configuration(role: .server)
    /// configuration.pingPolicy = .init(minInterval: .seconds(60), permitWithoutCalls: true)
    /// ```
    public var pingPolicy: PingPolicy?
    /// Server only: how long a connection may live. Past it (with a jitter of ±10 % per
    /// connection, so connections opened together do not all end together) the server
    /// starts its graceful shutdown (RFC 9113 §6.8): GOAWAY(NO_ERROR, "max_age") with the
    /// largest stream id and a PING, then the last accepted stream; calls in flight finish,
    /// and clients open a new connection for the next ones (to another server, behind an L4
    /// load balancer). nil (the default): no limit.
    ///
    /// ```swift
    /// var configuration = HTTP2Configuration(role: .server)
    /// configuration.maxConnectionAge = .seconds(1800)
    /// configuration.maxConnectionAgeGrace = .seconds(60)
    /// ```
    public var maxConnectionAge: Duration?
    /// Server only: how long streams still open when ``maxConnectionAge`` passed may take to
    /// finish; then the connection is closed with GOAWAY(NO_ERROR) whatever remains (their
    /// requests fail). Counted from the first GOAWAY; not jittered. nil (the default): they
    /// may take as long as they need.
    public var maxConnectionAgeGrace: Duration?

    /// Server only: what follows a response that ends while the request is still open
    /// (the stream-end rule, docs/architecture.md). See ``UnfinishedRequestPolicy``.
    public var unfinishedRequestPolicy: UnfinishedRequestPolicy = .resetAfterGracePeriod(.milliseconds(500))

    /// Where connections log (lifecycle at debug, protocol violations at info and notice,
    /// handler errors at error; "Logging and metrics" in the documentation). The default logs
    /// nothing: a library does not print unless it is given a logger.
    ///
    /// ```swift
    /// configuration.logger = Logger(label: "my-server")   // whatever LoggingSystem bootstrapped
    /// ```
    public var logger = HTTP2Configuration.noOpLogger
    /// Where metrics go (``HTTP2Metrics``); nil: the process-wide `MetricsSystem.factory`,
    /// taken when a server binds or a client is made, which counts nothing until the
    /// application bootstraps it.
    public var metricsFactory: (any MetricsFactory)?

    /// Server only: serve HTTP/1.1 on the same port (nil, the default for ``HTTP2Server``:
    /// HTTP/2 only). With it, each connection's first bytes decide: the HTTP/2 client preface
    /// is served as HTTP/2 (our SETTINGS leave the moment the preface is recognised), a
    /// request line as HTTP/1.1 (RFC 9112; `Upgrade: h2c` switches to HTTP/2 with the request
    /// as stream 1), anything else is closed. HTTP/1.1 requests reach the same handlers and
    /// delegates as HTTP/2 streams. See ``HTTP1Options``.
    ///
    /// ```swift
    /// var configuration = HTTP2Configuration(role: .server)
    /// configuration.http1 = HTTP1Options()
    /// ```
    public var http1: HTTP1Options?

    /// A logger that discards everything: the default ``logger``.
    public static let noOpLogger = Logger(label: "loop", factory: { _ in SwiftLogNoOpLogHandler() })

    public init(role: Role) {
        self.role = role
        if role == .server {
            idleTimeout = .seconds(300)
            writeStallTimeout = .seconds(30)
        }
    }
}

extension HTTP2Configuration {
    /// A token bucket of glitches (``HTTP2Configuration/glitchBudget``): a peer may cause
    /// `burst` glitches at once, and `perSecond` more each second after that. A client that
    /// misbehaves now and then never runs out; a flood is cut within `burst` glitches,
    /// however it is paced, with GOAWAY(ENHANCE_YOUR_CALM) whose debug data names what the
    /// peer did.
    ///
    /// ```swift
    /// var configuration = HTTP2Configuration(role: .server)
    /// configuration.glitchBudget = .init(burst: 200, perSecond: 50)   // stricter
    /// ```
    public struct GlitchBudget: Sendable, Equatable {
        /// Glitches allowed at once (the bucket's size).
        public var burst: Int
        /// Glitches earned back per second (0: never).
        public var perSecond: Int

        public init(burst: Int, perSecond: Int) {
            self.burst = burst
            self.perSecond = perSecond
        }
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


extension HTTP2Configuration {
    /// Keepalive PINGs (``HTTP2Configuration/keepalive``): gRPC's client-side keepalive
    /// (gRFC A8; grpc-go's `keepalive.ClientParameters`) and the server's (gRFC A9;
    /// `keepalive.ServerParameters.Time` and `Timeout`).
    ///
    /// The interval counts from the last bytes read from the peer, never from the last PING
    /// sent, so a side that pings exactly as often as the peer's ``PingPolicy`` allows is
    /// never struck. Anything read after the PING — its ACK or any other frame — shows the
    /// peer is alive.
    ///
    /// gRPC asks clients not to ping more often than every 10 seconds (grpc-go raises a
    /// smaller `Time` to 10 s); Loop does not raise it, but servers enforce their own minimum
    /// (5 minutes by default) with GOAWAY "too_many_pings", after which a `GRPCChannel`
    /// doubles its interval for its next connections.
    ///
    /// ```swift
    /// var configuration = HTTP2Configuration(role: .client)
    /// configuration.keepalive = .init(interval: .seconds(60), timeout: .seconds(20), permitWithoutCalls: true)
    /// ```
    public struct Keepalive: Sendable, Equatable {
        /// How long the connection may read nothing before we send a PING (grpc-go's `Time`).
        public var interval: Duration
        /// How long after the PING something must arrive before the connection is closed
        /// (grpc-go's `Timeout`, 20 seconds by default).
        public var timeout: Duration
        /// Whether to ping while no stream is open (grpc-go's client `PermitWithoutStream`).
        /// Without it an idle connection sends nothing, and a new stream after a long quiet
        /// spell is preceded by a PING at once. Servers ping either way in gRPC (A9).
        public var permitWithoutCalls: Bool

        public init(interval: Duration, timeout: Duration = .seconds(20), permitWithoutCalls: Bool = false) {
            self.interval = interval
            self.timeout = timeout
            self.permitWithoutCalls = permitWithoutCalls
        }

        /// grpc-go's server defaults (gRFC A9): a PING after 2 hours without reads, 20
        /// seconds for the answer, whether or not calls are open.
        public static let grpcServer = Keepalive(interval: .seconds(7200), timeout: .seconds(20), permitWithoutCalls: true)
    }

    /// The rule on how often the peer may PING (``HTTP2Configuration/pingPolicy``): gRPC's
    /// keepalive enforcement (gRFC A8 "Server Enforcement"; grpc-go's
    /// `keepalive.EnforcementPolicy`), with grpc-go's counting: every PING received is
    /// compared with the one before it.
    ///
    /// ```swift
    /// var configuration = HTTP2Configuration(role: .server)
    /// configuration.pingPolicy = .grpc                          // 5 minutes, 2 strikes
    /// configuration.pingPolicy?.permitWithoutCalls = true       // clients may ping while idle
    /// ```
    public struct PingPolicy: Sendable, Equatable {
        /// The least time between two PINGs while streams are open (grpc-go's `MinTime`).
        public var minInterval: Duration
        /// Whether PINGs are allowed while no stream is open (grpc-go's
        /// `PermitWithoutStream`); when not, such PINGs must be 2 hours apart.
        public var permitWithoutCalls: Bool
        /// Strikes forgiven before the connection ends: grpc-go's `maxPingStrikes`, 2 (the
        /// third early PING ends it). Lower it to make a test need fewer PINGs.
        public var maxStrikes: Int

        public init(minInterval: Duration = .seconds(300), permitWithoutCalls: Bool = false, maxStrikes: Int = 2) {
            self.minInterval = minInterval
            self.permitWithoutCalls = permitWithoutCalls
            self.maxStrikes = maxStrikes
        }

        /// grpc-go's server defaults: 5 minutes, no PINGs without calls, 2 strikes.
        public static let grpc = PingPolicy()
    }
}
