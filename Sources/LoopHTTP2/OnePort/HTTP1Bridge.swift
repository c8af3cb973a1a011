import Loop
import LoopHTTP1

/// Serves HTTP/1.1 (RFC 9112) through the HTTP/2 connection, I/O-free: towards the
/// connection it plays an HTTP/2 client, so each HTTP/1.1 request becomes a stream that
/// every handler, delegate, gRPC call and proxy of the server serves as it serves HTTP/2 ones,
/// and each stream's response becomes HTTP/1.1 bytes. Socket bytes go in through
/// ``receive(_:)``, the connection's output through ``outbound(_:)``; what to send either
/// way collects in ``toHTTP2`` and ``toSocket``.
///
/// One request is in flight at a time, so pipelined requests are answered in order; the
/// next one is parsed only once the current response is complete. Request bodies keep
/// HTTP/2's flow control: body bytes go to the connection only within its windows, and the
/// rest waits in ``bufferedBytes`` (the adapter stops reading the socket past
/// ``HTTP1Options/maxBufferedBytes``).
///
/// ```
///  awaitingFirstRequest ──first head──▶ translating ─┬─ head ─▶ HEADERS(stream n)
///       │                                            ├─ body ─▶ DATA within the windows
///       └─ Upgrade: h2c ─▶ 101 ─▶ upgraded           └─ response HEADERS/DATA ─▶ HTTP/1.1 bytes
///           (bytes pass through, the client's preface checked and skipped)
/// ```
///
/// A response that completes before its request body was read makes the bridge end the
/// stream (RST_STREAM(NO_ERROR), as an HTTP/2 client does, RFC 9113 §8.1) and read the rest
/// of the body to drop it (RFC 9112 §9.6), so the connection stays usable.
struct HTTP1Bridge {
    /// Where the connection stands.
    enum Phase {
        /// Nothing sent to the HTTP/2 side yet: the first request decides between translating
        /// and an h2c upgrade.
        case awaitingFirstRequest
        case translating
        /// After 101: HTTP/2 bytes both ways.
        case upgraded(H2CPassthrough)
        case closed
    }

    /// The request being answered.
    private struct Exchange {
        let streamID: UInt32
        let method: String
        let version: HTTP1Version
        let keepAlive: Bool
        var streamWindow: Int
        var requestEnded = false
        /// Body bytes parsed but not yet within the windows.
        var pendingBody: ByteBuffer?
        var response = Response.awaitingHead
        /// The response is complete first: what is left of the body is read and dropped.
        var discardingBody = false
        /// Response DATA bytes since we last gave the stream credit back.
        var received = 0
    }

    private enum Response {
        case awaitingHead
        case sending(HTTP1ResponseEncoder, keepAlive: Bool)
        case done(keepAlive: Bool)
    }

    let options: HTTP1Options
    /// `http` or `https`, for `:scheme`.
    let scheme: String
    private(set) var phase = Phase.awaitingFirstRequest
    private var parser: HTTP1RequestParser
    private var input = ByteBuffer()
    private var exchange: Exchange?
    private var nextStreamID: UInt32 = 1
    /// The HTTP/2 side sent GOAWAY: no new request starts.
    private var goingAway = false
    private var peerClosedInput = false
    /// The HTTP/2 side's output, read as its client reads it.
    private var decoder = HTTP2FrameDecoder(role: .client, maxHeaderListSize: 1 << 20)
    /// No Huffman coding: the HTTP/2 side, in this process, decodes it at once.
    private var encoder = HTTP2FrameEncoder(hpack: HPACKEncoder(huffman: .never))
    /// The HTTP/2 side's first output (its SETTINGS), kept until the first request decides:
    /// after an h2c upgrade it is the first thing the client must get.
    private var heldServerBytes = ByteBuffer()
    private var settingsToAcknowledge = 0
    // Request bodies towards the HTTP/2 side follow its windows.
    private var serverInitialWindow = 65_535
    private var connectionSendWindow = 65_535
    private var serverMaxFrameSize = 16_384
    /// Response DATA bytes since we last gave the connection credit back.
    private var connectionReceived = 0

    /// Bytes for the HTTP/2 connection, as if read from the socket.
    var toHTTP2 = ByteBuffer()
    /// Bytes for the socket.
    var toSocket = ByteBuffer()
    /// The connection must close once ``toSocket`` is written (an error answered, `Connection:
    /// close`, the HTTP/2 side going away).
    private(set) var closeRequested = false
    /// The HTTP/2 side should now hear that the peer closed its input (``takeInputClosed()``).
    private(set) var inputClosedForHTTP2 = false
    private var inputClosedDelivered = false

    /// True once: when the HTTP/2 side is to hear that the peer closed its input.
    mutating func takeInputClosed() -> Bool {
        guard inputClosedForHTTP2, !inputClosedDelivered else { return false }
        inputClosedDelivered = true
        return true
    }
    /// The socket may be written: a new exchange starts only then, so a client that pipelines
    /// requests and reads no response cannot make responses pile up.
    var socketWritable = true

    /// Our SETTINGS as the HTTP/2 side's client: no push, windows as large as they go (the
    /// socket's writability is the backpressure on responses), large frames.
    static let clientSettings = [
        HTTP2Setting(HTTP2Setting.enablePush, 0),
        HTTP2Setting(HTTP2Setting.initialWindowSize, 0x7FFF_FFFF),
        HTTP2Setting(HTTP2Setting.maxFrameSize, 1 << 16),
    ]

    init(options: HTTP1Options, scheme: String) {
        self.options = options
        self.scheme = scheme
        self.parser = HTTP1RequestParser(limits: options.limits)
        decoder.maxFrameSize = 1 << 16
    }

    /// Bytes read ahead of the exchange: pipelined requests and body beyond the windows.
    var bufferedBytes: Int { input.readableBytes + (exchange?.pendingBody?.readableBytes ?? 0) }

    /// True while a request head has begun arriving but is not complete (its timeout runs).
    var isReceivingHead: Bool {
        switch phase {
        case .awaitingFirstRequest, .translating: return exchange == nil && input.readableBytes > 0 && !closeRequested
        case .upgraded, .closed: return false
        }
    }

    // MARK: From the socket

    /// Bytes the client sent.
    mutating func receive(_ bytes: ByteBuffer) {
        switch phase {
        case .closed:
            return
        case .upgraded(var passthrough):
            receiveUpgraded(bytes, &passthrough)
        case .awaitingFirstRequest, .translating:
            // After an answer that ends the connection nothing more is parsed: drop what comes.
            guard !closeRequested else { return }
            if input.readableBytes == 0 { input = bytes } else { input.writeImmutableBuffer(bytes) }
            advance()
        }
    }

    /// The client shut its writing side: what it sent is still answered.
    mutating func inputClosed() {
        peerClosedInput = true
        switch phase {
        case .upgraded:
            inputClosedForHTTP2 = true
        case .awaitingFirstRequest:
            requestClose()
        case .translating:
            advance()
        case .closed:
            break
        }
    }

    /// The request head did not arrive within ``HTTP1Options/requestHeadTimeout``.
    mutating func headTimedOut() {
        guard isReceivingHead else { return }
        answerError(HTTP1ParseError(status: 408, "the request head did not arrive within \(options.requestHeadTimeout)"))
    }

    /// Parses and forwards what it can: a new request when none is in flight, the current
    /// request's body within the windows.
    mutating func advance() {
        while !closeRequested {
            switch phase {
            case .awaitingFirstRequest, .translating: break
            case .upgraded, .closed: return
            }
            guard var current = exchange else {
                guard !goingAway, socketWritable else { break }
                guard let part = parseNext() else { break }
                guard case .head(let head) = part else { break }
                startExchange(head)
                continue
            }
            if current.requestEnded { break }
            if let pending = current.pendingBody {
                guard forward(pending, &current) else { exchange = current; break }
                exchange = current
                continue
            }
            guard let part = parseNext() else {
                if peerClosedInput, input.readableBytes == 0 {
                    // The client closed its side inside the body: the request can never complete.
                    inputClosedForHTTP2 = true
                    requestClose()
                }
                break
            }
            switch part {
            case .body(let bytes):
                if !current.discardingBody { current.pendingBody = bytes }
                exchange = current
            case .end(let trailers):
                exchange = current
                endRequest(trailers)
            case .head:
                break
            }
        }
        if exchange == nil, peerClosedInput, input.readableBytes == 0, !closeRequested {
            // Every request the client sent is answered.
            requestClose()
        }
    }

    private mutating func parseNext() -> HTTP1RequestPart? {
        do {
            return try parser.next(&input)
        } catch {
            answerError(error)
            return nil
        }
    }

    private mutating func startExchange(_ head: HTTP1RequestHead) {
        if case .awaitingFirstRequest = phase {
            if options.allowsH2CUpgrade, let settings = H2CUpgrade.settingsPayload(of: head) {
                return upgrade(head, settings: settings)
            }
            beginTranslating()
        }
        let id = nextStreamID
        guard id < 0x7FFF_FFFF else {
            return answerError(HTTP1ParseError(status: 503, "this connection has served all the requests it can; open a new one"))
        }
        nextStreamID += 2
        let hasBody: Bool
        switch head.framing {
        case .none, .length(0): hasBody = false
        default: hasBody = true
        }
        if hasBody, head.expectsContinue, head.version == .http1_1 {
            // RFC 9110 §10.1.1: the client waits for this before it sends the body; the
            // HTTP/2 side reads bodies as they come, so it may come at once.
            HTTP1ResponseEncoder.writeContinue(into: &toSocket)
        }
        encoder.writeHeaders(streamID: id, headers: HTTP1HeaderMapping.requestHeaders(head, scheme: scheme), endStream: !hasBody,
                             into: &toHTTP2)
        var started = Exchange(streamID: id, method: head.method, version: head.version, keepAlive: head.keepAlive,
                               streamWindow: serverInitialWindow)
        if !hasBody {
            // The parser's `.end` for a body-less request needs no bytes.
            _ = parseNext()
            started.requestEnded = true
        }
        exchange = started
    }

    private mutating func beginTranslating() {
        phase = .translating
        heldServerBytes = ByteBuffer(capacity: 0)
        toHTTP2.writeBytes(http2ClientPreface)
        HTTP2FrameEncoder.writeSettings(Self.clientSettings, into: &toHTTP2)
        HTTP2FrameEncoder.writeWindowUpdate(streamID: 0, increment: 0x7FFF_FFFF - 65_535, into: &toHTTP2)
        for _ in 0..<settingsToAcknowledge { HTTP2FrameEncoder.writeSettingsAck(into: &toHTTP2) }
        settingsToAcknowledge = 0
    }

    /// Body bytes within the windows (false: none fit, wait for WINDOW_UPDATE).
    private mutating func forward(_ pending: ByteBuffer, _ current: inout Exchange) -> Bool {
        let room = min(current.streamWindow, connectionSendWindow, serverMaxFrameSize)
        guard room > 0 else { return false }
        var pending = pending
        let take = min(room, pending.readableBytes)
        let slice = pending.readSlice(length: take)!
        HTTP2FrameEncoder.writeData(streamID: current.streamID, payload: slice, endStream: false, into: &toHTTP2)
        current.streamWindow -= take
        connectionSendWindow -= take
        current.pendingBody = pending.readableBytes > 0 ? pending : nil
        return true
    }

    private mutating func endRequest(_ trailers: HTTP1Fields) {
        guard var current = exchange else { return }
        current.requestEnded = true
        if !current.discardingBody {
            let fields = HTTP1HeaderMapping.trailers(trailers)
            if fields.isEmpty {
                HTTP2FrameEncoder.writeData(streamID: current.streamID, payload: ByteBuffer(capacity: 0), endStream: true, into: &toHTTP2)
            } else {
                encoder.writeHeaders(streamID: current.streamID, headers: fields, endStream: true, into: &toHTTP2)
            }
        }
        exchange = current
        exchangeProgressed()
    }

    /// After the response or the request ended: the exchange is over when both are.
    private mutating func exchangeProgressed() {
        guard var current = exchange, case .done(let keepAlive) = current.response else { return }
        guard current.requestEnded else {
            guard !current.discardingBody else { return }
            // RFC 9113 §8.1: a client with the complete response ends its side of the stream.
            HTTP2FrameEncoder.writeRSTStream(streamID: current.streamID, code: .noError, into: &toHTTP2)
            current.discardingBody = true
            current.pendingBody = nil
            exchange = current
            if !keepAlive { requestClose() }
            return
        }
        exchange = nil
        if !keepAlive || goingAway { requestClose() }
    }

    /// Answers a request we cannot pass on (its status and reason) and closes: after a framing
    /// error the next request's start is unknown (RFC 9112 §11.2, request smuggling).
    private mutating func answerError(_ error: HTTP1ParseError) {
        if let current = exchange {
            if case .awaitingHead = current.response {} else {
                // A response is under way: nothing else can be said on this connection.
                HTTP2FrameEncoder.writeRSTStream(streamID: current.streamID, code: .cancel, into: &toHTTP2)
                return requestClose()
            }
            HTTP2FrameEncoder.writeRSTStream(streamID: current.streamID, code: .cancel, into: &toHTTP2)
        }
        Self.writeErrorResponse(status: error.status, reason: error.reason, into: &toSocket)
        requestClose()
    }

    /// A complete response of ours: the status, `connection: close`, the reason as text.
    static func writeErrorResponse(status: Int, reason: String, into out: inout ByteBuffer) {
        var encoder = HTTP1ResponseEncoder(version: .http1_1, requestMethod: "GET")
        let body = ByteBuffer(string: reason + "\n")
        var fields = HTTP1Fields()
        fields.add("content-type", "text/plain; charset=utf-8")
        encoder.writeHead(HTTP1ResponseHead(status: status, fields: fields), contentLength: body.readableBytes, keepAlive: false, into: &out)
        encoder.writeBody(body, into: &out)
        encoder.writeEnd(into: &out)
    }

    private mutating func requestClose() {
        closeRequested = true
        exchange?.pendingBody = nil
        input = ByteBuffer(capacity: 0)
    }

    /// The connection closed: nothing more is done.
    mutating func closed() {
        phase = .closed
        closeRequested = true
        input = ByteBuffer(capacity: 0)
        exchange = nil
    }

    // MARK: The h2c upgrade

    private mutating func upgrade(_ head: HTTP1RequestHead, settings: ByteBuffer) {
        _ = parseNext()   // the body-less request's `.end`
        toSocket.writeString(H2CUpgrade.switchingProtocols)
        // The server's SETTINGS are the first HTTP/2 frame the client gets (RFC 9113 §3.4).
        toSocket.writeImmutableBuffer(heldServerBytes)
        heldServerBytes = ByteBuffer(capacity: 0)
        // The HTTP/2 side gets the preface, the client's SETTINGS from HTTP2-Settings (the 101
        // acknowledges them, RFC 7540 §3.2.1: the ACK the HTTP/2 side sends is dropped) and the
        // request as stream 1, half-closed. Literal fields only: the client's HPACK encoder
        // starts from an empty table.
        toHTTP2.writeBytes(http2ClientPreface)
        HTTP2FrameEncoder.writeFrameHeader(length: settings.readableBytes, type: 0x4, flags: 0, streamID: 0, into: &toHTTP2)
        toHTTP2.writeImmutableBuffer(settings)
        let headers = HTTP1HeaderMapping.requestHeaders(head, scheme: scheme).map { header in
            var literal = header
            literal.indexing = .nonIndexed
            return literal
        }
        encoder.writeHeaders(streamID: 1, headers: headers, endStream: true, into: &toHTTP2)
        var passthrough = H2CPassthrough()
        let rest = input
        input = ByteBuffer(capacity: 0)
        receiveUpgraded(rest, &passthrough)
        if peerClosedInput { inputClosedForHTTP2 = true }
    }

    private mutating func receiveUpgraded(_ bytes: ByteBuffer, _ passthrough: inout H2CPassthrough) {
        var bytes = bytes
        if !passthrough.inbound(&bytes) {
            phase = .closed
            closeRequested = true
            return
        }
        phase = .upgraded(passthrough)
        if bytes.readableBytes > 0 { toHTTP2.writeImmutableBuffer(bytes) }
    }

    // MARK: From the HTTP/2 side

    /// Bytes the HTTP/2 connection wrote. Returns true when the bridge can now move on (a
    /// window opened, an exchange finished): call ``advance()`` then, outside the write.
    mutating func outbound(_ bytes: ByteBuffer) -> Bool {
        switch phase {
        case .closed:
            return false
        case .upgraded(var passthrough):
            passthrough.outbound(bytes, into: &toSocket)
            phase = .upgraded(passthrough)
            return false
        case .awaitingFirstRequest:
            heldServerBytes.writeImmutableBuffer(bytes)
        case .translating:
            break
        }
        decoder.append(bytes)
        var progressed = false
        do {
            while let frame = try decoder.nextFrame() {
                if handle(frame) { progressed = true }
            }
        } catch {
            // Only our own HTTP/2 side writes here; it does not send what it cannot read.
            answerError(HTTP1ParseError(status: 500, "the server's HTTP/2 output could not be read: \(error)"))
        }
        return progressed
    }

    private mutating func handle(_ frame: HTTP2Frame) -> Bool {
        switch frame.payload {
        case .settings(let parameters):
            for parameter in parameters {
                switch parameter.identifier {
                case HTTP2Setting.initialWindowSize:
                    let delta = Int(parameter.value) - serverInitialWindow
                    serverInitialWindow = Int(parameter.value)
                    exchange?.streamWindow += delta
                case HTTP2Setting.maxFrameSize:
                    serverMaxFrameSize = Int(parameter.value)
                default:
                    break
                }
            }
            if case .translating = phase {
                HTTP2FrameEncoder.writeSettingsAck(into: &toHTTP2)
            } else {
                settingsToAcknowledge += 1
            }
            return true
        case .ping(let opaque, let ack):
            if !ack, case .translating = phase { HTTP2FrameEncoder.writePing(opaque, ack: true, into: &toHTTP2) }
            return !ack
        case .goAway(let lastStreamID, let code, _):
            goingAway = true
            if let current = exchange, current.streamID > lastStreamID {
                // Never processed (RFC 9113 §6.8): the client may retry it elsewhere.
                exchange = nil
                answerError(HTTP1ParseError(status: 503, "the server is shutting down; retry the request"))
            } else if exchange == nil, code == .settingsTimeout, isReceivingHead {
                // The HTTP/2 side's handshake timeout (which also bounds the first request's
                // head) ended the connection before the request-head timeout did: the same 408.
                answerError(HTTP1ParseError(status: 408, "the request head did not arrive in time"))
            } else if exchange == nil {
                requestClose()
            }
            return true
        case .windowUpdate(let increment):
            if frame.streamID == 0 {
                connectionSendWindow += Int(increment)
            } else if exchange?.streamID == frame.streamID {
                exchange?.streamWindow += Int(increment)
            }
            return true
        case .headers(let headers, let endStream):
            guard exchange?.streamID == frame.streamID else { return false }
            responseHeaders(headers, endStream: endStream)
            return exchange == nil || closeRequested
        case .data(let payload, let endStream, let length):
            guard exchange?.streamID == frame.streamID else { return false }
            credit(length)
            responseData(payload, endStream: endStream)
            return exchange == nil || closeRequested
        case .rstStream(let code):
            guard let current = exchange, current.streamID == frame.streamID else { return false }
            responseReset(code, current)
            return true
        default:
            return false
        }
    }

    /// Gives the HTTP/2 side back the credit its response DATA used (our windows start at
    /// 2^31-1, so this is rare).
    private mutating func credit(_ length: Int) {
        connectionReceived += length
        if connectionReceived >= 1 << 30 {
            HTTP2FrameEncoder.writeWindowUpdate(streamID: 0, increment: UInt32(connectionReceived), into: &toHTTP2)
            connectionReceived = 0
        }
        guard var current = exchange else { return }
        current.received += length
        if current.received >= 1 << 30 {
            HTTP2FrameEncoder.writeWindowUpdate(streamID: current.streamID, increment: UInt32(current.received), into: &toHTTP2)
            current.received = 0
        }
        exchange = current
    }

    private mutating func responseHeaders(_ headers: [HPACKHeader], endStream: Bool) {
        guard var current = exchange else { return }
        switch current.response {
        case .awaitingHead:
            guard let (head, declaredLength) = HTTP1HeaderMapping.responseHead(headers), head.status != 101 else {
                return answerError(HTTP1ParseError(status: 500, "the handler's response has no valid status"))
            }
            if (100..<200).contains(head.status) {
                // Interim responses (103 Early Hints, say) for HTTP/1.1 clients; a second 100 is not sent.
                guard current.version == .http1_1, head.status != 100 else { return }
                var interim = HTTP1ResponseEncoder(version: .http1_1, requestMethod: current.method)
                interim.writeHead(head, contentLength: nil, keepAlive: true, into: &toSocket)
                return
            }
            var responseEncoder = HTTP1ResponseEncoder(version: current.version, requestMethod: current.method)
            let length: Int?
            if endStream {
                // No body follows. HEAD and 304 may still tell the length of the representation.
                length = current.method == "HEAD" || head.status == 304 ? (declaredLength ?? 0) : 0
            } else {
                length = declaredLength
            }
            let keepAlive = current.keepAlive && !goingAway && !peerClosedInput
            let stays = responseEncoder.writeHead(head, contentLength: length, keepAlive: keepAlive, into: &toSocket)
            current.response = .sending(responseEncoder, keepAlive: stays)
            exchange = current
            if endStream { finishResponse(trailers: HTTP1Fields()) }
        case .sending:
            finishResponse(trailers: HTTP1HeaderMapping.responseTrailers(headers))
        case .done:
            break
        }
    }

    private mutating func responseData(_ payload: ByteBuffer, endStream: Bool) {
        guard var current = exchange, case .sending(var responseEncoder, let keepAlive) = current.response else { return }
        var payload = payload
        var overflow = false
        if case .length(let remaining) = responseEncoder.framing, payload.readableBytes > remaining {
            // More than the handler's own content-length: the extra bytes cannot be framed.
            payload = payload.getSlice(at: payload.readerIndex, length: remaining)!
            overflow = true
        }
        responseEncoder.writeBody(payload, into: &toSocket)
        current.response = .sending(responseEncoder, keepAlive: keepAlive && !overflow)
        exchange = current
        if overflow {
            HTTP2FrameEncoder.writeRSTStream(streamID: current.streamID, code: .cancel, into: &toHTTP2)
            return requestClose()
        }
        if endStream { finishResponse(trailers: HTTP1Fields()) }
    }

    private mutating func finishResponse(trailers: HTTP1Fields) {
        guard var current = exchange, case .sending(var responseEncoder, var keepAlive) = current.response else { return }
        switch responseEncoder.framing {
        case .length(let remaining) where remaining > 0:
            // Shorter than its content-length: the client can only tell from the close.
            keepAlive = false
        case .untilClose:
            keepAlive = false
        default:
            break
        }
        responseEncoder.writeEnd(trailers: trailers, into: &toSocket)
        current.response = .done(keepAlive: keepAlive)
        exchange = current
        exchangeProgressed()
    }

    private mutating func responseReset(_ code: HTTP2ErrorCode, _ current: Exchange) {
        switch current.response {
        case .done:
            // The stream-end rule's reset after a complete response: nothing is lost.
            return
        case .sending:
            // A response cut off: closing is the only way to tell an HTTP/1.1 client.
            exchange = nil
            requestClose()
        case .awaitingHead:
            exchange = nil
            let status: Int
            switch code {
            case .refusedStream: status = 503
            case .protocolError: status = 400
            default: status = 500
            }
            Self.writeErrorResponse(status: status, reason: "the request was reset (\(code))", into: &toSocket)
            requestClose()
        }
    }
}
