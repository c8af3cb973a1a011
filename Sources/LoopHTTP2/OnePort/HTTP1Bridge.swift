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

    /// The request being answered. A class: the bridge updates it in place several times per
    /// request, where a struct in an optional was copied out and back each time.
    final class Exchange {
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

        init(streamID: UInt32, method: String, version: HTTP1Version, keepAlive: Bool, streamWindow: Int) {
            self.streamID = streamID
            self.method = method
            self.version = version
            self.keepAlive = keepAlive
            self.streamWindow = streamWindow
        }
    }

    enum Response {
        case awaitingHead
        case sending(HTTP1ResponseEncoder, keepAlive: Bool)
        case done(keepAlive: Bool)
    }

    let options: HTTP1Options
    /// `http` or `https`, for `:scheme`.
    let scheme: String
    var phase = Phase.awaitingFirstRequest
    var parser: HTTP1RequestParser
    var input = ByteBuffer()
    var exchange: Exchange?
    var nextStreamID: UInt32 = 1
    /// The HTTP/2 side sent GOAWAY: no new request starts.
    var goingAway = false
    var peerClosedInput = false
    /// The HTTP/2 side's output, read as its client reads it.
    var decoder = HTTP2FrameDecoder(role: .client, maxHeaderListSize: 1 << 20)
    /// No Huffman coding: the HTTP/2 side, in this process, decodes it at once.
    var encoder = HTTP2FrameEncoder(hpack: HPACKEncoder(huffman: .never))
    /// The HTTP/2 side's first output (its SETTINGS), kept until the first request decides:
    /// after an h2c upgrade it is the first thing the client must get.
    var heldServerBytes = ByteBuffer()
    var settingsToAcknowledge = 0
    // Request bodies towards the HTTP/2 side follow its windows.
    var serverInitialWindow = 65_535
    var connectionSendWindow = 65_535
    var serverMaxFrameSize = 16_384
    /// Response DATA bytes since we last gave the connection credit back.
    var connectionReceived = 0

    /// Bytes for the HTTP/2 connection, as if read from the socket (the preface, SETTINGS,
    /// body DATA). They follow the inputs queued in ``takeHTTP2Input()``.
    var toHTTP2 = ByteBuffer()
    /// What the HTTP/2 side is to read, in order: bytes, and request HEADERS and DATA handed
    /// over as frames (made here and read there in one process: no HPACK or framing round trip).
    enum HTTP2Input {
        case bytes(ByteBuffer)
        case frame(HTTP2Frame)
    }
    var http2Inputs: [HTTP2Input] = []
    /// Something waits for the HTTP/2 side.
    var hasHTTP2Input: Bool { !http2Inputs.isEmpty || toHTTP2.readableBytes > 0 }

    /// Everything for the HTTP/2 side, in order (then empty).
    mutating func takeHTTP2Input() -> [HTTP2Input] {
        var inputs: [HTTP2Input] = []
        takeHTTP2Input(into: &inputs)
        return inputs
    }

    /// Moves everything for the HTTP/2 side, in order, into `inputs` (empty, its storage kept
    /// from the last time): no array is made per request.
    mutating func takeHTTP2Input(into inputs: inout [HTTP2Input]) {
        if toHTTP2.readableBytes > 0 {
            http2Inputs.append(.bytes(toHTTP2))
            toHTTP2 = ByteBuffer(capacity: 0)
        }
        swap(&inputs, &http2Inputs)
    }

    /// Hand request HEADERS and DATA over as frames (the adapter holds the HTTP/2 handler
    /// itself), or encode them into ``toHTTP2`` like every other frame.
    var handsOverDecodedHeaders = false

    /// Request HEADERS (or trailers) for the HTTP/2 side, after the bytes queued before them.
    mutating func sendHeaders(streamID: UInt32, _ headers: [HPACKHeader], endStream: Bool) {
        guard handsOverDecodedHeaders else {
            return encoder.writeHeaders(streamID: streamID, headers: headers, endStream: endStream, into: &toHTTP2)
        }
        handOver(HTTP2Frame(streamID: streamID, payload: .headers(headers, endStream: endStream)))
    }

    /// Request body DATA for the HTTP/2 side (within its windows), after the bytes queued before it.
    mutating func sendData(streamID: UInt32, _ payload: ByteBuffer, endStream: Bool) {
        guard handsOverDecodedHeaders else {
            return HTTP2FrameEncoder.writeData(streamID: streamID, payload: payload, endStream: endStream, into: &toHTTP2)
        }
        handOver(HTTP2Frame(streamID: streamID, payload: .data(payload, endStream: endStream, flowControlledLength: payload.readableBytes)))
    }

    /// A frame for the HTTP/2 side as it is, in order with the bytes before it.
    private mutating func handOver(_ frame: HTTP2Frame) {
        if toHTTP2.readableBytes > 0 {
            http2Inputs.append(.bytes(toHTTP2))
            toHTTP2 = ByteBuffer(capacity: 0)
        }
        http2Inputs.append(.frame(frame))
    }
    /// Bytes for the socket.
    var toSocket = ByteBuffer()
    /// The connection must close once ``toSocket`` is written (an error answered, `Connection:
    /// close`, the HTTP/2 side going away).
    private(set) var closeRequested = false
    /// The HTTP/2 side should now hear that the peer closed its input (``takeInputClosed()``).
    private(set) var inputClosedForHTTP2 = false
    var inputClosedDelivered = false

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

    /// Translating HTTP/1.1 requests (not waiting for the first, not upgraded to h2c).
    var isTranslating: Bool {
        if case .translating = phase { return true }
        return false
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
            guard let current = exchange else {
                guard !goingAway, socketWritable else { break }
                guard let part = parseNext() else { break }
                guard case .head(let head) = part else { break }
                startExchange(head)
                continue
            }
            if current.requestEnded { break }
            if let pending = current.pendingBody {
                guard forward(pending, current) else { break }
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
            case .end(let trailers):
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

    mutating func parseNext() -> HTTP1RequestPart? {
        do {
            return try parser.next(&input)
        } catch {
            answerError(error)
            return nil
        }
    }

    mutating func startExchange(_ head: HTTP1RequestHead) {
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
        sendHeaders(streamID: id, HTTP1HeaderMapping.requestHeaders(head, scheme: scheme), endStream: !hasBody)
        let started = Exchange(streamID: id, method: head.method, version: head.version, keepAlive: head.keepAlive,
                               streamWindow: serverInitialWindow)
        if !hasBody {
            // The parser's `.end` for a body-less request needs no bytes.
            _ = parseNext()
            started.requestEnded = true
        }
        exchange = started
    }

    mutating func beginTranslating() {
        phase = .translating
        heldServerBytes = ByteBuffer(capacity: 0)
        toHTTP2.writeBytes(http2ClientPreface)
        HTTP2FrameEncoder.writeSettings(Self.clientSettings, into: &toHTTP2)
        HTTP2FrameEncoder.writeWindowUpdate(streamID: 0, increment: 0x7FFF_FFFF - 65_535, into: &toHTTP2)
        for _ in 0..<settingsToAcknowledge { HTTP2FrameEncoder.writeSettingsAck(into: &toHTTP2) }
        settingsToAcknowledge = 0
    }

    /// Body bytes within the windows (false: none fit, wait for WINDOW_UPDATE).
    mutating func forward(_ pending: ByteBuffer, _ current: Exchange) -> Bool {
        let room = min(current.streamWindow, connectionSendWindow, serverMaxFrameSize)
        guard room > 0 else { return false }
        var pending = pending
        let take = min(room, pending.readableBytes)
        let slice = pending.readSlice(length: take)!
        sendData(streamID: current.streamID, slice, endStream: false)
        current.streamWindow -= take
        connectionSendWindow -= take
        current.pendingBody = pending.readableBytes > 0 ? pending : nil
        return true
    }

    mutating func endRequest(_ trailers: HTTP1Fields) {
        guard let current = exchange else { return }
        current.requestEnded = true
        if !current.discardingBody {
            let fields = HTTP1HeaderMapping.trailers(trailers)
            if fields.isEmpty {
                sendData(streamID: current.streamID, ByteBuffer(capacity: 0), endStream: true)
            } else {
                sendHeaders(streamID: current.streamID, fields, endStream: true)
            }
        }
        exchangeProgressed()
    }

    /// After the response or the request ended: the exchange is over when both are.
    mutating func exchangeProgressed() {
        guard let current = exchange, case .done(let keepAlive) = current.response else { return }
        guard current.requestEnded else {
            guard !current.discardingBody else { return }
            // RFC 9113 §8.1: a client with the complete response ends its side of the stream.
            HTTP2FrameEncoder.writeRSTStream(streamID: current.streamID, code: .noError, into: &toHTTP2)
            current.discardingBody = true
            current.pendingBody = nil
            if !keepAlive { requestClose() }
            return
        }
        exchange = nil
        if !keepAlive || goingAway { requestClose() }
    }

    /// Answers a request we cannot pass on (its status and reason) and closes: after a framing
    /// error the next request's start is unknown (RFC 9112 §11.2, request smuggling).
    mutating func answerError(_ error: HTTP1ParseError) {
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

    mutating func requestClose() {
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

    mutating func upgrade(_ head: HTTP1RequestHead, settings: ByteBuffer) {
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

    mutating func receiveUpgraded(_ bytes: ByteBuffer, _ passthrough: inout H2CPassthrough) {
        var bytes = bytes
        if !passthrough.inbound(&bytes) {
            phase = .closed
            closeRequested = true
            return
        }
        phase = .upgraded(passthrough)
        if bytes.readableBytes > 0 { toHTTP2.writeImmutableBuffer(bytes) }
    }
}
