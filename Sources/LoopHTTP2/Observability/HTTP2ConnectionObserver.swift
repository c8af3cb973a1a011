import Logging
import Loop
import LoopTLS
import Synchronization

/// What one connection handler logs and counts (docs: "Logging and metrics"). The handler
/// calls it at the points of a connection's life, never per frame or per request: start,
/// ready, a GOAWAY received, a stream or connection error, an error caught, the close. Its
/// methods are kept out of line (`@inline(never)`): inlined, they made the handler's event
/// dispatch too large to be inlined itself, and each event was then copied (+230
/// instructions per request, callgrind).
/// Stream and reset counts are kept as integers by ``HTTP2Connection`` (its `counters`) and
/// handed to ``HTTP2Metrics`` at read-complete and at the close.
struct HTTP2ConnectionObserver {
    /// The configuration's logger, with this connection's metadata once it started.
    var logger: Logger
    let metrics: HTTP2Metrics?
    let role: HTTP2Configuration.Role
    /// Why the connection ends, once known (the first cause wins).
    private(set) var closeReason: HTTP2CloseReason?
    /// Counted as open (the gauge goes back down at the close).
    private var counted = false

    /// Connection ids for the logs' `loop.connection_id`, process-wide.
    private static let nextID = Atomic<UInt64>(1)

    init(configuration: HTTP2Configuration, metrics: HTTP2Metrics?) {
        self.logger = configuration.logger
        self.metrics = metrics
        self.role = configuration.role
    }

    // MARK: Lifecycle

    /// The connection became active: count it, and give the logger its metadata (once per
    /// connection; a no-op logger gets none, so a server that logs nothing pays nothing).
    @inline(never)
    mutating func started(remoteAddress: SocketAddress?) {
        if let metrics, !counted {
            counted = true
            metrics.connectionsOpened.increment()
            metrics.connectionsOpen.increment()
        }
        guard !(logger.handler is SwiftLogNoOpLogHandler) else { return }
        let id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        logger[metadataKey: "loop.connection_id"] = "\(id)"
        if let remoteAddress { logger[metadataKey: "loop.remote_address"] = "\(remoteAddress)" }
        logger.debug(role == .server ? "HTTP/2 connection accepted" : "HTTP/2 connection opened")
    }

    @inline(never)
    func ready() {
        logger.debug("HTTP/2 connection ready")
    }

    /// Notes why the connection is ending, unless a cause is already known.
    mutating func closing(_ reason: HTTP2CloseReason) {
        if closeReason == nil { closeReason = reason }
    }

    /// The socket closed: the last counts, the close by reason, the open gauge.
    @inline(never)
    mutating func closed(_ counters: inout HTTP2ConnectionCounters) {
        let reason = closeReason ?? .peerClosed
        closeReason = reason
        if let metrics {
            if !counters.isEmpty { metrics.report(&counters) }
            metrics.connectionClosed(reason)
            if counted {
                counted = false
                metrics.connectionsOpen.decrement()
            }
        }
        logger.debug("HTTP/2 connection closed", metadata: ["loop.close_reason": "\(reason.rawValue)"])
    }

    /// Hands the connection's counts to the metrics (at read-complete).
    @inline(never)
    func report(_ counters: inout HTTP2ConnectionCounters) {
        guard let metrics, !counters.isEmpty else { return }
        metrics.report(&counters)
    }

    // MARK: Protocol events

    @inline(never)
    func goAwayReceived(lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: String) {
        let level: Logger.Level = code == .noError ? .debug : .info
        logger.log(level: level, "HTTP/2 GOAWAY received", metadata: [
            "http2.error_code": "\(code)", "http2.last_stream_id": "\(lastStreamID)", "http2.reason": "\(debugData)",
        ])
    }

    /// We reset a stream for a protocol violation of the peer's (RST_STREAM with the RFC's code).
    @inline(never)
    func streamError(_ error: HTTP2ProtocolError) {
        logger.info("HTTP/2 stream error: RST_STREAM sent", metadata: [
            "http2.stream_id": "\(error.streamID ?? 0)", "http2.error_code": "\(error.code)", "http2.reason": "\(error.reason)",
        ])
    }

    /// The connection failed (GOAWAY sent): a protocol violation, an abuse limit, a timeout,
    /// or a close the handler started (`closing` said why then).
    /// - Parameters:
    ///   - abuseLimit: the connection's own abuse limit behind an ENHANCE_YOUR_CALM, if any.
    ///   - expiredTimeout: the handler's timeout that passed, if any.
    @inline(never)
    mutating func connectionError(_ error: HTTP2ProtocolError, abuseLimit: HTTP2AbuseLimit?, expiredTimeout: HTTP2Timeouts.Expiry?) {
        var limit = abuseLimit
        if closeReason == nil, let expiry = expiredTimeout, expiry.code == error.code, expiry.reason == error.reason {
            switch expiry {
            case .idle: closeReason = .idleTimeout
            case .headerBlock: limit = .headerBlockTimeout
            case .writeStall: limit = .writeStallTimeout
            }
        }
        if closeReason == nil, error.code == .settingsTimeout {
            closeReason = .handshakeTimeout  // only the handler's handshake timer closes with it
        }
        if let limit, closeReason == nil {
            closeReason = .abuseLimit
            metrics?.abuseLimitTripped(limit)
        }
        if closeReason == nil {
            // A clean close of the connection's own (the peer half-closed before its SETTINGS).
            closeReason = error.code == .noError ? .peerClosed : .protocolError
        }
        switch closeReason! {
        case .peerClosed, .graceful, .tlsError, .error:
            return  // said at the close, or by errorCaught
        case .idleTimeout:
            logger.debug("HTTP/2 connection idle: GOAWAY sent", metadata: ["http2.error_code": "\(error.code)", "http2.reason": "\(error.reason)"])
        case .abuseLimit:
            logger.notice("HTTP/2 abuse limit: GOAWAY sent", metadata: [
                "http2.error_code": "\(error.code)", "http2.reason": "\(error.reason)", "http2.abuse_limit": "\(limit?.rawValue ?? "")",
            ])
        case .handshakeTimeout, .protocolError:
            logger.notice("HTTP/2 connection error: GOAWAY sent", metadata: ["http2.error_code": "\(error.code)", "http2.reason": "\(error.reason)"])
        }
    }

    /// An error reached the handler: a failed TLS handshake (or record), or a socket error.
    @inline(never)
    mutating func errorCaught(_ error: any Error, beforeReady: Bool) {
        if let error = error as? TLSError {
            closing(.tlsError)
            logger.info(beforeReady ? "TLS handshake failed" : "TLS error", metadata: ["error": "\(error)"])
        } else {
            closing(.error)
            logger.debug("connection error", metadata: ["error": "\(error)"])
        }
    }
}

extension HTTP2Connection {
    /// The abuse limit behind an ENHANCE_YOUR_CALM connection error the connection raised
    /// itself (the glitch budget, or the header-block limits of `HTTP2HeaderBlockLimits.check`).
    func abuseLimit(for error: HTTP2ProtocolError) -> HTTP2AbuseLimit? {
        guard error.code == .enhanceYourCalm else { return nil }
        if abuse.isExhausted { return .glitchBudget }
        if error.reason.hasSuffix("CONTINUATION frames in one header block") { return .continuationFrames }
        if error.reason.hasPrefix("header block of more than") { return .headerBlockSize }
        return nil
    }
}

extension HTTP2ConnectionObserver {
    /// What a failed request handler's stream got instead of its response.
    enum HandlerFailureAnswer {
        case status(Int)
        case reset(HTTP2ErrorCode)
    }

    /// An `HTTP2Server` request handler threw: the error, logged at error level with the
    /// request's method and path and the 500 or reset it became.
    @inline(never)
    func handlerFailed(_ error: any Error, _ head: HTTP2RequestHead, answer: HandlerFailureAnswer) {
        var metadata: Logger.Metadata = ["http.method": "\(head.method)", "http.path": "\(head.path)", "error": "\(error)"]
        switch answer {
        case .status(let status): metadata["http.status"] = "\(status)"
        case .reset(let code): metadata["http2.reset_code"] = "\(code)"
        }
        logger.error("HTTP/2 request handler failed", metadata: metadata)
    }
}
