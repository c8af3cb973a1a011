import Loop

/// One proxied stream's forwarding logic, I/O-free: what happened on either side in, the
/// one thing to do out. ``HTTP2ProxiedStream`` carries the actions out.
///
/// Retries: a stream the upstream refused (REFUSED_STREAM, or above a GOAWAY's last stream
/// id: never processed) is sent again elsewhere if everything forwarded is still held —
/// the head, and at most one DATA buffer (a unary gRPC request). A connect failure retries
/// too (nothing left). A connection lost after the request left is not retried: the
/// upstream may have acted on it.
///
/// ```swift
/// var state = HTTP2ProxyStreamState(head: head, endStream: false, isGRPC: true, maxAttempts: 4)
/// state.opened()                                   // upstream stream open
/// state.requestData(body, endStream: true)         // .forward(body, endStream: true)
/// state.upstreamReset(.refusedStream, connectionLost: false)  // .retry (body is held)
/// ```
struct HTTP2ProxyStreamState {
    enum Phase: Equatable {
        /// No upstream stream yet: the request (and any body) waits, unconsumed.
        case connecting
        /// The request went upstream; no final response head yet.
        case requested
        /// The final response head went downstream.
        case responding
        /// Answered, reset or complete: nothing more is forwarded.
        case finished
    }

    enum Action: Equatable {
        case none
        /// Forward this DATA upstream.
        case forward(ByteBuffer, endStream: Bool)
        /// Forward request trailers upstream.
        case forwardTrailers([HPACKHeader])
        /// Nothing will take these bytes: give the credit back at once.
        case discard(Int)
        /// Forward response headers (the head, informational, or trailers) downstream.
        case respondHeaders([HPACKHeader], endStream: Bool)
        /// Forward response DATA downstream.
        case respondData(ByteBuffer, endStream: Bool)
        /// Reset the upstream stream with this code.
        case resetUpstream(HTTP2ErrorCode)
        /// Reset the downstream stream with this code.
        case resetDownstream(HTTP2ErrorCode)
        /// Send the request again on another upstream connection.
        case retry
        /// Answer downstream that no upstream could: gRPC UNAVAILABLE or 502 before the
        /// head, gRPC UNAVAILABLE trailers or RST_STREAM after it.
        case fail(headSent: Bool)
    }

    private(set) var phase: Phase = .connecting
    let isGRPC: Bool
    /// The request head, kept until the response head arrives (for a retry).
    private(set) var head: [HPACKHeader]
    private(set) var requestEnded: Bool
    /// Body that arrived while connecting, in order (not consumed yet).
    private(set) var waitingBody: [ByteBuffer] = []
    private(set) var waitingTrailers: [HPACKHeader]?
    /// The one DATA buffer forwarded so far, kept for a retry.
    private(set) var heldBody: ByteBuffer?
    /// Everything forwarded upstream is still held: the request can be sent again.
    private(set) var replayable = true
    /// Upstream streams opened, or connections tried, for this request.
    private(set) var attempts = 0
    let maxAttempts: Int
    /// Whether an upstream stream is open for the request.
    private(set) var upstreamOpen = false

    init(head: [HPACKHeader], endStream: Bool, isGRPC: Bool, maxAttempts: Int) {
        self.head = head
        self.requestEnded = endStream
        self.isGRPC = isGRPC
        self.maxAttempts = maxAttempts
    }

    /// An upstream stream was opened with `head`: forward `takeWaitingBody()` next.
    mutating func opened() {
        guard phase == .connecting else { return }
        phase = .requested
        upstreamOpen = true
        attempts += 1
    }

    /// The body that waited for the upstream (forward it in order, then the trailers); the
    /// request stays replayable when it is at most one buffer and no trailers.
    mutating func takeWaitingBody() -> (body: [ByteBuffer], trailers: [HPACKHeader]?) {
        let body = waitingBody
        let trailers = waitingTrailers
        waitingBody = []
        waitingTrailers = nil
        if body.count > 1 || trailers != nil || (heldBody != nil && !body.isEmpty) {
            // More than one buffer would have to be held (on a retry, the held one is sent
            // first and more arrived meanwhile): not replayable again.
            replayable = false
            heldBody = nil
        } else if let first = body.first {
            heldBody = first
        }
        return (body, trailers)
    }

    /// A replay: the head and the held body, for a new upstream stream.
    var replay: (head: [HPACKHeader], body: ByteBuffer?, endStream: Bool) { (head, heldBody, requestEnded) }

    // MARK: From downstream

    mutating func requestData(_ data: ByteBuffer, endStream: Bool) -> Action {
        if endStream { requestEnded = true }
        switch phase {
        case .connecting:
            waitingBody.append(data)
            return .none
        case .requested, .responding:
            guard upstreamOpen else { return .discard(data.readableBytes) }
            if phase == .requested && replayable && heldBody == nil && data.readableBytes > 0 {
                heldBody = data
            } else if data.readableBytes > 0 {
                heldBody = nil
                replayable = false
            }
            return .forward(data, endStream: endStream)
        case .finished:
            return .discard(data.readableBytes)
        }
    }

    mutating func requestTrailers(_ trailers: [HPACKHeader]) -> Action {
        requestEnded = true
        switch phase {
        case .connecting:
            waitingTrailers = trailers
            return .none
        case .requested, .responding:
            replayable = false
            heldBody = nil
            return upstreamOpen ? .forwardTrailers(trailers) : .none
        case .finished:
            return .none
        }
    }

    /// The downstream client reset the stream (`code`), or its connection is gone.
    mutating func downstreamReset(_ code: HTTP2ErrorCode) -> Action {
        let wasOpen = upstreamOpen
        phase = .finished
        upstreamOpen = false
        release()
        return wasOpen ? .resetUpstream(code) : .none
    }

    // MARK: From upstream

    mutating func responseHeaders(_ headers: [HPACKHeader], endStream: Bool) -> Action {
        switch phase {
        case .requested:
            if !endStream && HTTP2ProxyHeaders.isInformational(headers) { return .respondHeaders(headers, endStream: false) }
            phase = endStream ? .finished : .responding
            release()
            return .respondHeaders(headers, endStream: endStream)
        case .responding:
            if endStream { phase = .finished }
            return .respondHeaders(headers, endStream: endStream)
        case .connecting, .finished:
            return .none
        }
    }

    mutating func responseData(_ data: ByteBuffer, endStream: Bool) -> Action {
        guard phase == .responding else { return .discard(data.readableBytes) }
        if endStream { phase = .finished }
        return .respondData(data, endStream: endStream)
    }

    /// The upstream stream was reset with `code`, or (`connectionLost`) its connection
    /// closed or failed.
    mutating func upstreamReset(_ code: HTTP2ErrorCode, connectionLost: Bool) -> Action {
        upstreamOpen = false
        switch phase {
        case .connecting, .finished:
            return .none
        case .requested:
            if !connectionLost && code == .refusedStream && replayable && attempts < maxAttempts {
                phase = .connecting
                return .retry
            }
            phase = .finished
            release()
            return connectionLost ? .fail(headSent: false) : .resetDownstream(code)
        case .responding:
            phase = .finished
            return connectionLost ? .fail(headSent: true) : .resetDownstream(code)
        }
    }

    /// The upstream stream ended normally (both sides done).
    mutating func upstreamClosed() {
        upstreamOpen = false
    }

    /// No connection to the chosen upstream: try another, or give up.
    mutating func connectFailed() -> Action {
        guard phase == .connecting else { return .none }
        attempts += 1
        if attempts < maxAttempts { return .retry }
        phase = .finished
        return .fail(headSent: false)
    }

    /// No upstream is left to try.
    mutating func noUpstreamLeft() -> Action {
        guard phase == .connecting || phase == .requested else { return .none }
        phase = .finished
        return .fail(headSent: false)
    }

    /// The head and held body are no longer needed.
    private mutating func release() {
        head = []
        heldBody = nil
        waitingBody = []
        waitingTrailers = nil
        replayable = false
    }
}

/// Flow-control credit of one direction of a proxied stream, I/O-free: bytes received from
/// one side and forwarded to the other, counted until they left the other side's queue.
/// Only then is the credit returned (`consumed`), so the sender is held to what the
/// receiver takes and the proxy holds at most a window per stream and direction.
///
/// ```swift
/// var credit = HTTP2ProxyCredit()
/// credit.forwarded(16_384)
/// credit.returnable(buffered: 10_000)   // 6,384: that much left; consume it on the source
/// credit.returnable(buffered: 0)        // 10,000
/// ```
struct HTTP2ProxyCredit: Equatable {
    /// Forwarded bytes whose credit was not returned yet.
    private(set) var unreturned = 0

    mutating func forwarded(_ bytes: Int) { unreturned += bytes }

    /// The credit to return now, given the bytes still queued on the other side.
    mutating func returnable(buffered: Int) -> Int {
        let gone = unreturned - buffered
        guard gone > 0 else { return 0 }
        unreturned -= gone
        return gone
    }

    /// Everything not yet returned (the other side is gone: the bytes will not leave).
    mutating func returnAll() -> Int {
        defer { unreturned = 0 }
        return unreturned
    }
}
