import Loop

/// What an upstream connection tells the owner of one of its streams (a proxied request or
/// a health check). Each owner gets exactly one of `upstreamReset` and `upstreamClosed`.
protocol HTTP2UpstreamStreamOwner: AnyObject {
    func upstreamHeaders(_ headers: [HPACKHeader], endStream: Bool)
    func upstreamData(_ data: ByteBuffer, endStream: Bool)
    func upstreamReset(_ code: HTTP2ErrorCode, connectionLost: Bool)
    func upstreamClosed()
    func upstreamWritable()
}

/// One downstream stream and the upstream stream it is forwarded to: the thin adapter that
/// carries out ``HTTP2ProxyStreamState``'s actions, and moves flow-control credit across
/// (``HTTP2ProxyCredit``): DATA from one side is consumed only once it left the other
/// side's queue. Lives on its downstream connection's loop, as do its upstreams.
final class HTTP2ProxiedStream: HTTP2UpstreamStreamOwner {
    let downstream: HTTP2StreamHandle
    unowned let pool: HTTP2UpstreamPool
    var state: HTTP2ProxyStreamState
    /// The upstream stream, while open.
    private(set) var upstream: HTTP2StreamHandle?
    private weak var upstreamConnection: HTTP2UpstreamConnection?
    /// Upstreams this request tried (connect failures are not tried twice).
    var tried = HTTP2UpstreamSet()
    /// The upstream chosen last.
    var upstreamIndex = 0
    /// Why the last attempt failed, for the answer if none is left.
    var lastFailure = "no upstream tried"
    private var requestCredit = HTTP2ProxyCredit()
    private var responseCredit = HTTP2ProxyCredit()
    /// Request bytes received while connecting: not forwarded, not consumed.
    private var waitingBytes = 0

    init(downstream: HTTP2StreamHandle, head: [HPACKHeader], endStream: Bool, pool: HTTP2UpstreamPool) {
        self.downstream = downstream
        self.pool = pool
        self.state = HTTP2ProxyStreamState(head: head, endStream: endStream, isGRPC: HTTP2ProxyHeaders.isGRPC(head),
                                           maxAttempts: pool.balancer.count + 2)
    }

    var isFinished: Bool { state.phase == .finished }

    // MARK: Opening

    /// Opens the upstream stream on `connection` and sends what waited: the head, then the
    /// body (first attempt) or the held body (a retry). False when the connection takes no
    /// new stream.
    func start(on connection: HTTP2UpstreamConnection) -> Bool {
        guard let handler = connection.handler else { return false }
        let replay = state.replay
        let endWithHead = replay.endStream && state.waitingBody.isEmpty && state.waitingTrailers == nil && replay.body == nil
        let handle: HTTP2StreamHandle
        do {
            handle = try handler.openStream(replay.head, endStream: endWithHead)
        } catch {
            return false
        }
        upstream = handle
        upstreamConnection = connection
        connection.streams[handle.id] = self
        state.opened()
        pool.statistics.upstreamStreamsOpened += 1
        if let held = replay.body {
            // A retry: these bytes were counted and credited on the first attempt.
            try? handle.sendData(held, endStream: replay.endStream && state.waitingBody.isEmpty && state.waitingTrailers == nil)
        }
        let waiting = state.takeWaitingBody()
        waitingBytes = 0
        for (position, buffer) in waiting.body.enumerated() {
            let last = position == waiting.body.count - 1
            forwardRequest(buffer, endStream: last && state.requestEnded && waiting.trailers == nil)
        }
        if let trailers = waiting.trailers { try? handle.sendTrailers(trailers) }
        return true
    }

    // MARK: Downstream events

    func requestData(_ data: ByteBuffer, endStream: Bool) {
        let action = state.requestData(data, endStream: endStream)
        if case .none = action, state.phase == .connecting { waitingBytes += data.readableBytes }
        perform(action)
    }

    func requestTrailers(_ trailers: [HPACKHeader]) {
        perform(state.requestTrailers(trailers))
    }

    func downstreamReset(_ code: HTTP2ErrorCode) {
        perform(state.downstreamReset(code))
        detach()
    }

    func downstreamClosed() {
        perform(state.downstreamReset(.cancel))
        detach()
    }

    func downstreamWritable() { settleResponse() }

    // MARK: Upstream events

    func upstreamHeaders(_ headers: [HPACKHeader], endStream: Bool) {
        perform(state.responseHeaders(HTTP2ProxyHeaders.forwardable(headers), endStream: endStream))
    }

    func upstreamData(_ data: ByteBuffer, endStream: Bool) {
        perform(state.responseData(data, endStream: endStream))
    }

    func upstreamReset(_ code: HTTP2ErrorCode, connectionLost: Bool) {
        upstream = nil
        upstreamConnection = nil
        returnRequestCredit()
        if connectionLost { lastFailure = "upstream \(pool.name(upstreamIndex)): connection lost (\(code))" }
        let action = state.upstreamReset(code, connectionLost: connectionLost)
        if case .retry = action {
            pool.statistics.retries += 1
            tried = HTTP2UpstreamSet()  // refused, never processed: any upstream may take it
        }
        perform(action)
    }

    func upstreamClosed() {
        upstream = nil
        upstreamConnection = nil
        state.upstreamClosed()
        returnRequestCredit()
    }

    func upstreamWritable() { settleRequest() }

    /// The connection chosen for this request could not be made.
    func connectFailed(_ reason: String) {
        lastFailure = reason
        perform(state.connectFailed())
    }

    /// Every upstream was tried.
    func noUpstreamLeft() {
        perform(state.noUpstreamLeft())
    }

    // MARK: Actions

    private func perform(_ action: HTTP2ProxyStreamState.Action) {
        switch action {
        case .none:
            break
        case .forward(let data, let endStream):
            forwardRequest(data, endStream: endStream)
        case .forwardTrailers(let trailers):
            do { try upstream?.sendTrailers(trailers) } catch {}
        case .discard(let bytes):
            if bytes > 0 { downstream.consumed(bytes) }
        case .respondHeaders(let headers, let endStream):
            do { try downstream.sendHeaders(headers, endStream: endStream) } catch { upstream?.reset(.cancel) }
        case .respondData(let data, let endStream):
            forwardResponse(data, endStream: endStream)
        case .resetUpstream(let code):
            returnResponseCredit()
            if let upstream {
                upstreamConnection?.streams[upstream.id] = nil
                upstream.reset(code)
            }
            upstream = nil
            upstreamConnection = nil
        case .resetDownstream(let code):
            downstream.reset(code)
            returnResponseCredit()
        case .retry:
            pool.dispatch(self)
        case .fail(let headSent):
            answerFailure(headSent: headSent)
        }
    }

    private func forwardRequest(_ data: ByteBuffer, endStream: Bool) {
        guard let upstream else {
            downstream.consumed(data.readableBytes)
            return
        }
        let bytes = data.readableBytes
        requestCredit.forwarded(bytes)
        pool.statistics.hold(bytes)
        do {
            try upstream.sendData(data, endStream: endStream)
        } catch {
            // The upstream stream closed meanwhile: nobody will take these bytes.
        }
        settleRequest()
    }

    private func forwardResponse(_ data: ByteBuffer, endStream: Bool) {
        let bytes = data.readableBytes
        responseCredit.forwarded(bytes)
        pool.statistics.hold(bytes)
        do {
            try downstream.sendData(data, endStream: endStream)
        } catch {
            returnResponseCredit()
            upstream?.reset(.cancel)
            return
        }
        settleResponse()
    }

    /// Credit for request bytes that left the upstream queue goes back downstream.
    private func settleRequest() {
        guard let upstream else { return returnRequestCredit() }
        let buffered = upstream.bufferedBytes
        let credit = requestCredit.returnable(buffered: buffered)
        if credit > 0 {
            pool.statistics.release(credit)
            downstream.consumed(credit)
        }
        if buffered > 0 { upstream.notifyWhenBuffered(atMost: buffered / 2) }
    }

    /// Credit for response bytes that left the downstream queue goes back upstream.
    private func settleResponse() {
        let buffered = downstream.bufferedBytes
        let credit = responseCredit.returnable(buffered: buffered)
        if credit > 0 {
            pool.statistics.release(credit)
            upstream?.consumed(credit)
        }
        if buffered > 0 { downstream.notifyWhenBuffered(atMost: buffered / 2) }
    }

    private func returnRequestCredit() {
        let forwarded = requestCredit.returnAll()
        let credit = forwarded + waitingBytes
        waitingBytes = 0
        guard credit > 0 else { return }
        pool.statistics.release(forwarded)
        downstream.consumed(credit)
    }

    private func returnResponseCredit() {
        let credit = responseCredit.returnAll()
        guard credit > 0 else { return }
        pool.statistics.release(credit)
        upstream?.consumed(credit)
    }

    private func answerFailure(headSent: Bool) {
        pool.statistics.failedRequests += 1
        returnRequestCredit()
        let message = lastFailure
        if headSent {
            if state.isGRPC {
                do { try downstream.sendTrailers(HTTP2ProxyHeaders.grpcUnavailableTrailers(message: message)) } catch { downstream.reset(.internalError) }
            } else {
                downstream.reset(.internalError)
            }
        } else if state.isGRPC {
            try? downstream.sendHeaders(HTTP2ProxyHeaders.grpcUnavailable(message: message), endStream: true)
        } else {
            let body = ByteBuffer(string: "502 Bad Gateway: \(message)\n")
            try? downstream.sendHeaders(HTTP2ProxyHeaders.badGateway(bodyLength: body.readableBytes), endStream: false)
            try? downstream.sendData(body, endStream: true)
        }
    }

    /// The downstream stream is gone: let go of the upstream one.
    private func detach() {
        if let upstream, let connection = upstreamConnection {
            connection.streams[upstream.id] = nil
        }
        returnResponseCredit()
        upstream = nil
        upstreamConnection = nil
    }
}
