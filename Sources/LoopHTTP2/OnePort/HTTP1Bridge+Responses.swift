import Loop
import LoopHTTP1

/// The HTTP/2 side's output read back as HTTP/1.1: the connection's SETTINGS, PING, GOAWAY
/// and WINDOW_UPDATE as its client would act on them, and each stream's response HEADERS,
/// DATA, trailers or reset turned into the HTTP/1.1 response (RFC 9112 §6 framing,
/// interim responses, HEAD and 304, a response cut short → close).
extension HTTP1Bridge {
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

    /// A frame the HTTP/2 side handed over in this process (a stream's HEADERS or DATA, see
    /// `HTTP2Output.handsOverFrames`): read as ``outbound(_:)`` reads the same frame's bytes.
    mutating func outbound(_ frame: HTTP2Frame) -> Bool {
        guard case .translating = phase else { return false }
        return handle(frame)
    }

    mutating func handle(_ frame: HTTP2Frame) -> Bool {
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
    mutating func credit(_ length: Int) {
        connectionReceived += length
        if connectionReceived >= 1 << 30 {
            HTTP2FrameEncoder.writeWindowUpdate(streamID: 0, increment: UInt32(connectionReceived), into: &toHTTP2)
            connectionReceived = 0
        }
        guard let current = exchange else { return }
        current.received += length
        if current.received >= 1 << 30 {
            HTTP2FrameEncoder.writeWindowUpdate(streamID: current.streamID, increment: UInt32(current.received), into: &toHTTP2)
            current.received = 0
        }
    }

    mutating func responseHeaders(_ headers: [HPACKHeader], endStream: Bool) {
        guard let current = exchange else { return }
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
            if endStream { finishResponse(trailers: HTTP1Fields()) }
        case .sending:
            finishResponse(trailers: HTTP1HeaderMapping.responseTrailers(headers))
        case .done:
            break
        }
    }

    mutating func responseData(_ payload: ByteBuffer, endStream: Bool) {
        guard let current = exchange, case .sending(var responseEncoder, let keepAlive) = current.response else { return }
        var payload = payload
        var overflow = false
        if case .length(let remaining) = responseEncoder.framing, payload.readableBytes > remaining {
            // More than the handler's own content-length: the extra bytes cannot be framed.
            payload = payload.getSlice(at: payload.readerIndex, length: remaining)!
            overflow = true
        }
        responseEncoder.writeBody(payload, into: &toSocket)
        current.response = .sending(responseEncoder, keepAlive: keepAlive && !overflow)
        if overflow {
            HTTP2FrameEncoder.writeRSTStream(streamID: current.streamID, code: .cancel, into: &toHTTP2)
            return requestClose()
        }
        if endStream { finishResponse(trailers: HTTP1Fields()) }
    }

    mutating func finishResponse(trailers: HTTP1Fields) {
        guard let current = exchange, case .sending(var responseEncoder, var keepAlive) = current.response else { return }
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
        exchangeProgressed()
    }

    mutating func responseReset(_ code: HTTP2ErrorCode, _ current: Exchange) {
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
