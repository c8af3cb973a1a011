import Loop

/// The receive side of ``HTTP2Connection``: frame dispatch, and what each frame does to the
/// streams, the windows and the shutdown (RFC 9113 §6). Frames are checked against the
/// stream-id rules (§5.1.1) and each stream's ``HTTP2StreamState``; a stream error resets
/// that stream, a connection error fails the connection with GOAWAY.
extension HTTP2Connection {
    // MARK: Receiving

    /// Processes bytes read from the socket. `now` (monotonic nanoseconds) drives the
    /// abuse limits and the bandwidth-delay estimate.
    public mutating func receive(_ bytes: ByteBuffer, now: UInt64 = 0) {
        guard state != .closed else { return }
        self.now = now
        keepalive.received(now: now)
        decoder.append(bytes)
        while state != .closed {
            do {
                guard let frame = try decoder.nextFrame() else { break }
                try handle(frame)
            } catch {
                guard let streamID = error.streamID else {
                    fail(error)
                    break
                }
                decoderStreamError(streamID, error)
            }
        }
        if decoder.ignoredFrames > 0 && state != .closed {
            // Unknown frame types (RFC 9113 §5.5) are skipped by the decoder: charged here.
            do throws(HTTP2ProtocolError) {
                for _ in 0..<decoder.ignoredFrames { try abuse.charge(.unknownFrame, now: now) }
            } catch {
                fail(error)
            }
            decoder.ignoredFrames = 0
        }
        scheduleWrites()
    }

    /// Processes a frame that arrives decoded rather than as bytes: the HTTP/1.1 bridge's
    /// requests, made in this process (no HPACK or framing round trip). It meets every rule a
    /// frame read from the socket meets, the header list's size limit included (RFC 9113
    /// §6.5.2: each field's octets plus 32) — but one: each field's characters (§8.2.1) and
    /// the connection-specific fields (§8.2.2) are not checked again when `fieldsChecked`
    /// says the maker of the list already did (the bridge's HTTP/1.1 parser is stricter:
    /// tokens for names, which the mapping lower-cases, no control characters in values,
    /// surrounding whitespace trimmed, connection fields and `te` other than "trailers"
    /// dropped). The pseudo-header rules (§8.3) are checked all the same.
    mutating func receive(decoded frame: HTTP2Frame, fieldsChecked: Bool = false, now: UInt64 = 0) {
        guard state != .closed else { return }
        decodedFieldsChecked = fieldsChecked
        defer { decodedFieldsChecked = false }
        self.now = now
        keepalive.received(now: now)
        var frame = frame
        if case .headers(let headers, let endStream) = frame.payload,
           headers.reduce(0, { $0 + $1.name.utf8.count + $1.value.utf8.count + 32 }) > decoder.hpack.maximumHeaderListSize {
            frame.payload = .oversizedHeaders(endStream: endStream)
        }
        do {
            try handle(frame)
        } catch {
            if let streamID = error.streamID { decoderStreamError(streamID, error) } else { fail(error) }
        }
        scheduleWrites()
    }

    /// A stream error found by the frame decoder (a PRIORITY of the wrong size, a
    /// WINDOW_UPDATE of 0 on a stream): the frame is consumed, that stream is reset and the
    /// connection goes on (RFC 9113 §5.4.2). RST_STREAM may not be sent on an idle stream
    /// (§6.4), and the first frame must be SETTINGS (§3.4): those become connection errors.
    mutating func decoderStreamError(_ streamID: UInt32, _ error: HTTP2ProtocolError) {
        if state == .handshaking {
            fail(.connection(.protocolError, "the peer's first frame is not SETTINGS (RFC 9113 §3.4)"))
        } else if isIdle(streamID) {
            fail(.connection(error.code, error.reason))
        } else {
            resetProvoked(streamID, error)
        }
    }

    /// Answers a stream error the peer's frame caused with RST_STREAM, charging the glitch
    /// budget (MadeYouReset, CVE-2025-8671: resets a peer provokes cost us what its own
    /// resets would, and must not escape the budget that bounds those).
    mutating func resetProvoked(_ streamID: UInt32, _ error: HTTP2ProtocolError) {
        do throws(HTTP2ProtocolError) {
            try abuse.charge(.provokedReset, now: now)
        } catch {
            fail(error)
            return
        }
        reset(streamID, code: error.code, reason: error.reason)
    }

    mutating func handle(_ frame: HTTP2Frame) throws(HTTP2ProtocolError) {
        if state == .handshaking {
            guard case .settings = frame.payload else {
                throw .connection(.protocolError, "the peer's first frame is not SETTINGS (RFC 9113 §3.4)")
            }
        }
        do throws(HTTP2ProtocolError) {
            switch frame.payload {
            case .data(let data, let endStream, let length):
                // Progress is counted once the stream takes the bytes (receiveData).
                if data.readableBytes == 0 && !endStream { try abuse.charge(.emptyData, now: now) }
                try receiveData(frame.streamID, data, endStream: endStream, flowControlledLength: length)
            case .headers(let headers, let endStream):
                let dependsOnItself = decoder.headersDependingOnThemselves == frame.streamID
                if dependsOnItself { decoder.headersDependingOnThemselves = nil }
                try receiveHeaders(frame.streamID, headers, endStream: endStream, dependsOnItself: dependsOnItself)
            case .oversizedHeaders(let endStream):
                decoder.headersDependingOnThemselves = nil
                try receiveOversizedHeaders(frame.streamID, endStream: endStream)
            case .priority:
                try abuse.charge(.priority, now: now)  // otherwise ignored (RFC 9113 §5.3.2)
            case .rstStream(let code):
                counters.resetReceived(code)
                try receiveReset(frame.streamID, code)
            case .settings(let parameters):
                try abuse.charge(.settings, now: now)
                try receiveSettings(parameters)
            case .settingsAck:
                break
            case .pushPromise:
                throw .connection(.protocolError, "PUSH_PROMISE received (RFC 9113 §8.4)")
            case .ping(let opaque, let ack):
                if ack {
                    receivePingAck(opaque)
                } else {
                    try abuse.charge(.ping, now: now)
                    HTTP2FrameEncoder.writePing(opaque, ack: true, into: &output.control)
                    // gRPC's PING policy (HTTP2Keepalive), beside the glitch budget: answered,
                    // then GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings") as grpc-go sends it.
                    if keepalive.pingReceived(now: now, openStreams: streams.count) {
                        throw .connection(.enhanceYourCalm, HTTP2Keepalive.tooManyPings)
                    }
                }
            case .goAway(let last, let code, let debug):
                receiveGoAway(lastStreamID: last, code: code, debugData: debug)
            case .windowUpdate(let increment):
                try abuse.charge(.windowUpdate, now: now)
                try receiveWindowUpdate(frame.streamID, increment: Int(increment))
            }
        } catch {
            guard let streamID = error.streamID else { throw error }
            resetProvoked(streamID, error)
        }
    }

    // MARK: Stream-id rules (RFC 9113 §5.1.1)

    func isPeerInitiated(_ streamID: UInt32) -> Bool {
        (streamID % 2 == 1) == (role == .server)
    }

    /// A stream id neither side has used yet (RFC 9113 §5.1 "idle").
    func isIdle(_ streamID: UInt32) -> Bool {
        isPeerInitiated(streamID) ? streamID > lastPeerStreamID : streamID >= nextLocalStreamID
    }

    /// A stream the peer opened after the last stream id of the GOAWAY we sent: its frames
    /// are ignored, not answered (RFC 9113 §6.8).
    func isAboveSentGoAway(_ streamID: UInt32) -> Bool {
        isPeerInitiated(streamID) && shutdown.isAboveSentGoAway(streamID)
    }

    // MARK: HEADERS

    /// HEADERS on `streamID`. `dependsOnItself`: its priority names its own stream, a
    /// stream error (RFC 9113 §5.3.1) once the stream-id rules have had their say.
    mutating func receiveHeaders(_ streamID: UInt32, _ headers: [HPACKHeader], endStream: Bool,
                                 dependsOnItself: Bool = false) throws(HTTP2ProtocolError) {
        if dependsOnItself && streams.contains(streamID) { throw Self.selfDependency(streamID) }
        if var stream = streams[streamID] {
            let head = stream.state.remoteHead
            let isInformational = role == .client && head != .final
                && headers.first(where: { $0.name == ":status" })?.value.hasPrefix("1") == true
            stream.state = try stream.state.receivingHeaders(streamID: streamID, informational: isInformational, endStream: endStream)
            if head == .final {
                if let problem = HTTP2HeaderValidation.responseProblem(headers, isTrailers: true) {
                    throw .stream(streamID, .protocolError, problem)
                }
            } else if role == .client {
                if let problem = HTTP2HeaderValidation.responseProblem(headers, isTrailers: false) {
                    throw .stream(streamID, .protocolError, problem)
                }
                if !isInformational {
                    let status = headers.first(where: { $0.name == ":status" })?.value
                    // Responses to HEAD, and 204/304, carry no body whatever content-length says.
                    if !stream.requestIsHead && status != "204" && status != "304" {
                        stream.expectedLength = try HTTP2HeaderValidation.contentLength(headers, streamID: streamID)
                    }
                }
            }
            if endStream, let expected = stream.expectedLength, stream.receivedLength != expected {
                throw .stream(streamID, .protocolError, "\(stream.receivedLength) body bytes but content-length \(expected) (RFC 9113 §8.1.1)")
            }
            streams[streamID] = stream
            abuse.progress()
            events.append(.headers(streamID: streamID, headers, endStream: endStream))
            if endStream { remoteEnded(streamID) }
            return
        }
        guard isPeerInitiated(streamID), role == .server else {
            if isIdle(streamID) { throw .connection(.protocolError, "HEADERS on idle stream \(streamID) the server may not open (RFC 9113 §5.1.1, §8.4)") }
            if recentlyReset.contains(streamID) { return try abuse.charge(.ignoredFrame, now: now) }
            throw .connection(.streamClosed, "HEADERS on closed stream \(streamID) (RFC 9113 §5.1)")
        }
        if isAboveSentGoAway(streamID) {
            // RFC 9113 §6.8: ignored, and so are its later frames (trailers included).
            lastPeerStreamID = max(lastPeerStreamID, streamID)
            return try abuse.charge(.ignoredFrame, now: now)
        }
        guard streamID > lastPeerStreamID else {
            if recentlyReset.contains(streamID) { return try abuse.charge(.ignoredFrame, now: now) }
            if recentlyClosed.contains(streamID) {
                throw .connection(.streamClosed, "HEADERS on closed stream \(streamID) (RFC 9113 §5.1)")
            }
            throw .connection(.protocolError, "stream id \(streamID) is not greater than \(lastPeerStreamID) (RFC 9113 §5.1.1)")
        }
        lastPeerStreamID = streamID
        // The HEADERS opened the stream (idle → open), so it can be reset.
        if dependsOnItself { throw Self.selfDependency(streamID) }
        if let limit = configuration.maxConcurrentStreams, peerStreamCount >= Int(limit) {
            throw .stream(streamID, .refusedStream, "more than \(limit) concurrent streams (RFC 9113 §5.1.2)")
        }
        if let problem = HTTP2HeaderValidation.requestProblem(headers, checkingFields: !decodedFieldsChecked) {
            throw .stream(streamID, .protocolError, problem)
        }
        let expectedLength = try HTTP2HeaderValidation.contentLength(headers, streamID: streamID)
        if endStream, let expectedLength, expectedLength != 0 {
            throw .stream(streamID, .protocolError, "no body but content-length \(expectedLength) (RFC 9113 §8.1.1)")
        }
        var stream = HTTP2Stream(state: HTTP2StreamState.idle.openedByReceiving(endStream: endStream),
                                 sendWindow: Int(peerSettings.initialWindowSize),
                                 receiveWindow: Int(localSettings.initialWindowSize))
        stream.expectedLength = expectedLength
        streams[streamID] = stream
        peerStreamCount += 1
        counters.streamOpened()
        abuse.progress()
        events.append(.headers(streamID: streamID, headers, endStream: endStream))
        if endStream { remoteEnded(streamID) }
    }

    static func selfDependency(_ streamID: UInt32) -> HTTP2ProtocolError {
        .stream(streamID, .protocolError, "HEADERS makes stream \(streamID) depend on itself (RFC 9113 §5.3.1)")
    }

    mutating func receiveOversizedHeaders(_ streamID: UInt32, endStream: Bool) throws(HTTP2ProtocolError) {
        if !streams.contains(streamID) && isAboveSentGoAway(streamID) {
            lastPeerStreamID = max(lastPeerStreamID, streamID)  // ignored (RFC 9113 §6.8)
            return try abuse.charge(.ignoredFrame, now: now)
        }
        if role == .server && !streams.contains(streamID) && isPeerInitiated(streamID) && streamID > lastPeerStreamID {
            try abuse.charge(.provokedReset, now: now)
            // Refuse the request with 431 (RFC 6585) and leave the connection alone.
            lastPeerStreamID = streamID
            writeHeaders(streamID: streamID, [HPACKHeader(":status", "431")], endStream: true)
            if !endStream {
                HTTP2FrameEncoder.writeRSTStream(streamID: streamID, code: .noError, into: &output.control)
                counters.resetSent(.noError)
            }
            recentlyReset.insert(streamID)
            events.append(.headerListTooLarge(streamID: streamID))
            return
        }
        if !streams.contains(streamID) {
            // Not a stream it may open, nor an open one: the stream-id rules first (§5.1.1).
            if isIdle(streamID) { throw .connection(.protocolError, "HEADERS on idle stream \(streamID) the \(role == .server ? "client" : "server") may not open (RFC 9113 §5.1.1)") }
            if recentlyReset.contains(streamID) { return try abuse.charge(.ignoredFrame, now: now) }
            throw .connection(.streamClosed, "HEADERS on closed stream \(streamID) (RFC 9113 §5.1)")
        }
        throw .stream(streamID, .protocolError, "header list exceeds SETTINGS_MAX_HEADER_LIST_SIZE \(configuration.maxHeaderListSize) (RFC 9113 §6.5.2)")
    }

    // MARK: DATA

    /// What a DATA frame did to its stream.
    private enum DataOutcome {
        case accepted
        /// Taken for a stream whose response is complete and which waits for the client's
        /// end (``HTTP2ResetGrace``): nothing can use it, so it is credited and dropped.
        case discarded
        /// Not taken (stream state or window): its connection credit goes back now.
        case refused(HTTP2ProtocolError)
        /// Taken but more or less than content-length: the reset that follows closes the
        /// stream and gives its unconsumed bytes back.
        case wrongLength(HTTP2ProtocolError)
    }

    mutating func receiveData(_ streamID: UInt32, _ data: ByteBuffer, endStream: Bool, flowControlledLength: Int) throws(HTTP2ProtocolError) {
        try inbound.receiveOnConnection(flowControlledLength)
        // The record is changed in place (copying it out and back costs more than the rest):
        // the closure reports what went wrong, and the connection acts after it.
        let received = streams.modify(streamID) { stream -> DataOutcome in
            let next: HTTP2StreamState
            do throws(HTTP2ProtocolError) {
                next = try stream.state.receivingData(streamID: streamID, endStream: endStream)
                try HTTP2InboundWindows.receive(flowControlledLength, on: &stream.inbound, streamID: streamID)
            } catch {
                return .refused(error)
            }
            stream.state = next
            stream.inbound.unconsumed += data.readableBytes
            stream.receivedLength += data.readableBytes
            if let expected = stream.expectedLength,
               stream.receivedLength > expected || (endStream && stream.receivedLength != expected) {
                // Delivered but wrong: the reset that follows closes the stream and gives the
                // unconsumed bytes back to the connection.
                return .wrongLength(.stream(streamID, .protocolError, "\(stream.receivedLength) body bytes but content-length \(expected) (RFC 9113 §8.1.1)"))
            }
            return stream.awaitsPeerEnd ? .discarded : .accepted
        }
        switch received {
        case nil:
            returnConnectionCredit(flowControlledLength)
            if isAboveSentGoAway(streamID) { return try abuse.charge(.ignoredFrame, now: now) }
            if isIdle(streamID) { throw .connection(.protocolError, "DATA on idle stream \(streamID) (RFC 9113 §5.1)") }
            if recentlyReset.contains(streamID) { return try abuse.charge(.ignoredFrame, now: now) }
            throw .stream(streamID, .streamClosed, "DATA on closed stream \(streamID) (RFC 9113 §5.1)")
        case .refused(let error)?:
            returnConnectionCredit(flowControlledLength)
            throw error
        case .wrongLength(let error)?:
            throw error
        case .discarded?:
            if flowControlledLength > 0 { abuse.progress() }
            consume(streamID: streamID, bytes: data.readableBytes, padding: flowControlledLength - data.readableBytes)
            if endStream { remoteEnded(streamID) }
            return
        case .accepted?:
            if flowControlledLength > 0 || endStream { abuse.progress() }
        }
        if inbound.shouldProbe(afterReceiving: flowControlledLength, now: now) {
            HTTP2FrameEncoder.writePing(HTTP2InboundWindows.probePingData, ack: false, into: &output.control)
        }
        // Padding is never delivered, so it is returned at once.
        let padding = flowControlledLength - data.readableBytes
        if padding > 0 { consume(streamID: streamID, bytes: 0, padding: padding) }
        events.append(.data(streamID: streamID, data, endStream: endStream))
        if endStream { remoteEnded(streamID) }
    }

    // MARK: RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE

    mutating func receiveReset(_ streamID: UInt32, _ code: HTTP2ErrorCode) throws(HTTP2ProtocolError) {
        guard streams.contains(streamID) else {
            if isIdle(streamID) { throw .connection(.protocolError, "RST_STREAM on idle stream \(streamID) (RFC 9113 §6.4)") }
            return try abuse.charge(.ignoredFrame, now: now)
        }
        // Rapid reset (CVE-2023-44487) is cancelling work the server still does; a reset after
        // the whole response went out (half-closed local: a client ending its side, as the
        // stream-end rule has it) costs nothing more than the request did, so it is not counted.
        if role == .server, streams.modify(streamID, { $0.state.isLocalOpen }) == true { try abuse.charge(.peerReset, now: now) }
        closeStream(streamID)
        events.append(.reset(streamID: streamID, code))
        events.append(.closed(streamID: streamID))
    }

    mutating func receiveSettings(_ parameters: [HTTP2Setting]) throws(HTTP2ProtocolError) {
        let oldWindow = Int(peerSettings.initialWindowSize)
        for parameter in parameters {
            if role == .client && parameter.identifier == HTTP2Setting.enablePush && parameter.value == 1 {
                throw .connection(.protocolError, "the server sent SETTINGS_ENABLE_PUSH=1 (RFC 9113 §6.5.2)")
            }
            try peerSettings.apply(parameter)
        }
        try outbound.initialWindowSizeChanged(by: Int(peerSettings.initialWindowSize) - oldWindow, in: &streams)
        encoder.maxFrameSize = Int(peerSettings.maxFrameSize)
        let tableSize = min(Int(peerSettings.headerTableSize), 4096)
        if tableSize != encoder.hpack.currentMaximumTableSize { encoder.hpack.setMaximumTableSize(tableSize) }
        HTTP2FrameEncoder.writeSettingsAck(into: &output.control)
        if state == .handshaking {
            state = .active
            keepalive.handshakeCompleted()
            events.append(.ready)
        }
    }

    mutating func receivePingAck(_ opaque: UInt64) {
        if inbound.isProbeAck(opaque) {
            guard let grown = inbound.probeAcknowledged(now: now, currentStreamWindow: Int(localSettings.initialWindowSize), streams: &streams) else { return }
            // The peer adds the difference to every stream's window (RFC 9113 §6.9.2).
            localSettings.initialWindowSize = grown.streamWindow
            HTTP2FrameEncoder.writeSettings([HTTP2Setting(HTTP2Setting.initialWindowSize, grown.streamWindow)], into: &output.control)
            if let increment = grown.connectionIncrement {
                HTTP2FrameEncoder.writeWindowUpdate(streamID: 0, increment: increment, into: &output.control)
            }
        } else if shutdown.pingAcknowledged(opaque) {
            shutdown.sendGoAway(lastStreamID: lastPeerStreamID, code: .noError, reason: "", into: &output.control)
            closeIfDrained()
        } else if opaque != HTTP2Keepalive.pingData {
            // Our keepalive PING's ACK needs nothing more: reading it was the sign of life.
            events.append(.pingAck(opaque))
        }
    }

    mutating func receiveGoAway(lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: ByteBuffer) {
        shutdown.received(lastStreamID: lastStreamID)
        // Streams we opened above the peer's last stream id were never processed: retryable.
        for id in streams.ids where !isPeerInitiated(id) && id > lastStreamID {
            closeStream(id)
            events.append(.reset(streamID: id, .refusedStream))
            events.append(.closed(streamID: id))
        }
        events.append(.goAway(lastStreamID: lastStreamID, code, debugData: String(decoding: debugData.readableBytesView, as: UTF8.self)))
        if state != .closed { state = .draining }
        closeIfDrained()
    }

    mutating func receiveWindowUpdate(_ streamID: UInt32, increment: Int) throws(HTTP2ProtocolError) {
        if streamID == 0 {
            try outbound.connectionWindowUpdate(increment)
            return
        }
        guard streams.contains(streamID) else {
            if isIdle(streamID) { throw .connection(.protocolError, "WINDOW_UPDATE on idle stream \(streamID) (RFC 9113 §5.1)") }
            return
        }
        try outbound.streamWindowUpdate(increment, streamID: streamID, in: &streams)
    }
}
