import Loop

/// One HTTP/2 connection's protocol logic, with no I/O: bytes and application calls in,
/// bytes (``output``) and events (``takeEvents()``) out.
///
/// The connection dispatches frames and keeps the stream-id rules (RFC 9113 §5.1.1,
/// §5.1.2); each other concern has a room of its own (docs/architecture.md):
/// - stream states: ``HTTP2StreamState`` (§5.1), in records of the ``HTTP2StreamTable``;
/// - outbound DATA and send windows: ``HTTP2OutboundScheduler`` (§5.2, §6.9);
/// - inbound windows, credit on consumption, BDP growth: ``HTTP2InboundWindows``;
/// - GOAWAY and the two-phase shutdown: ``HTTP2Shutdown`` (§6.8);
/// - abuse limits (rapid reset, control-frame and CONTINUATION floods): ``HTTP2AbuseLimits``;
/// - header field rules: ``HTTP2HeaderValidation`` (§8);
/// - closed-stream memory: ``RecentStreamIDs``.
/// Every violation produces the RFC's GOAWAY or RST_STREAM code.
///
/// ```swift
/// var connection = HTTP2Connection(configuration: .init(role: .server))
/// connection.start()                          // SETTINGS goes out at once
/// connection.receive(bytesFromSocket, now: clock)
/// for event in connection.takeEvents() { ... }
/// connection.drainOutput { socket.write($0) }
/// ```
public struct HTTP2Connection: Sendable {
    public let configuration: HTTP2Configuration
    public var role: HTTP2Configuration.Role { configuration.role }

    private var decoder: HTTP2FrameDecoder
    private var encoder: HTTP2FrameEncoder
    /// Bytes to send, in order. Read it freely; take the bytes with ``drainOutput(_:)`` or
    /// ``moveOutput(into:)``.
    public private(set) var output = HTTP2Output()
    private var events: [HTTP2ConnectionEvent] = []

    /// The peer's settings as received so far.
    public private(set) var peerSettings = HTTP2Settings()
    /// The settings we announced.
    public private(set) var localSettings: HTTP2Settings

    public enum State: Sendable, Equatable {
        /// Started; the peer's first SETTINGS has not arrived.
        case handshaking
        case active
        /// GOAWAY sent or received: existing streams finish, no new ones.
        case draining
        /// A connection error or the end of draining: close the socket after `output`.
        case closed
    }
    public private(set) var state: State = .handshaking

    private var streams = HTTP2StreamTable()
    /// Open streams the peer initiated (SETTINGS_MAX_CONCURRENT_STREAMS counts these), kept
    /// as a count so the check stays O(1) with thousands of streams.
    private var peerStreamCount = 0
    private var lastPeerStreamID: UInt32 = 0
    private var nextLocalStreamID: UInt32
    private var outbound = HTTP2OutboundScheduler()
    private var inbound: HTTP2InboundWindows
    private var shutdown = HTTP2Shutdown()
    private var abuse: HTTP2AbuseLimits
    private var recentlyReset = RecentStreamIDs(capacity: 64)
    /// Peer streams that closed normally: HEADERS on them is STREAM_CLOSED, while a lower
    /// id never used is PROTOCOL_ERROR (RFC 9113 §5.1, §5.1.1).
    private var recentlyClosed = RecentStreamIDs(capacity: 128)
    private var now: UInt64 = 0

    /// True while producing DATA is paused (``pauseOutput()``); control frames still go out.
    public var isOutputPaused: Bool { outbound.isPaused }

    public init(configuration: HTTP2Configuration) {
        self.configuration = configuration
        self.decoder = HTTP2FrameDecoder(role: configuration.role == .server ? .server : .client,
                                         maxHeaderListSize: Int(configuration.maxHeaderListSize),
                                         headerBlockLimits: HTTP2HeaderBlockLimits(maxHeaderListSize: Int(configuration.maxHeaderListSize),
                                                                                   maxContinuationFrames: configuration.maxContinuationFrames,
                                                                                   maxBlockSize: configuration.maxHeaderBlockSize))
        self.decoder.maxFrameSize = configuration.maxFrameSize
        self.decoder.hpack.setMaximumTableSizeLimit(Int(configuration.headerTableSize))
        self.encoder = HTTP2FrameEncoder()
        self.nextLocalStreamID = configuration.role == .client ? 1 : 2
        var settings = HTTP2Settings()
        settings.enablePush = false
        settings.maxConcurrentStreams = configuration.maxConcurrentStreams
        settings.initialWindowSize = configuration.initialStreamWindowSize
        settings.maxFrameSize = configuration.maxFrameSize
        settings.maxHeaderListSize = configuration.maxHeaderListSize
        settings.headerTableSize = configuration.headerTableSize
        self.localSettings = settings
        self.inbound = HTTP2InboundWindows(configuration: configuration)
        self.abuse = HTTP2AbuseLimits(configuration: configuration)
    }

    // MARK: Start

    /// Writes our side of the handshake: the client preface (clients) and our SETTINGS,
    /// at once — never waiting for the peer (docs/architecture.md, the handshake rule) —
    /// plus a connection WINDOW_UPDATE opening the configured connection window.
    public mutating func start() {
        if role == .client { output.control.writeBytes(http2ClientPreface) }
        HTTP2FrameEncoder.writeSettings(localSettings.nonDefaultParameters, into: &output.control)
        if let increment = inbound.openConnectionWindow() {
            HTTP2FrameEncoder.writeWindowUpdate(streamID: 0, increment: increment, into: &output.control)
        }
    }

    /// True once the peer's SETTINGS arrived (a client may send requests before, but a
    /// connection counts as ready only then).
    public var isReady: Bool { state == .active || state == .draining }

    /// Streams currently open.
    public var openStreamCount: Int { streams.count }

    /// Events since the last call, oldest first.
    public mutating func takeEvents() -> [HTTP2ConnectionEvent] {
        guard !events.isEmpty else { return [] }
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    /// Moves the events since the last call into `events` (which must be empty) without
    /// allocating: the two arrays swap storage.
    public mutating func takeEvents(into other: inout [HTTP2ConnectionEvent]) {
        precondition(other.isEmpty, "takeEvents(into:) needs an empty array")
        swap(&events, &other)
    }

    // MARK: Output

    /// Hands each pending buffer to `write`, in order, and empties the output (for callers
    /// whose `write` cannot re-enter the connection, such as tests).
    public mutating func drainOutput(_ write: (ByteBuffer) -> Void) {
        output.drain(write)
    }

    /// Moves the pending buffers, in order, to the end of `list`; call ``reclaimOutput()``
    /// once they are written so the frame buffer's storage is reused.
    public mutating func moveOutput(into list: inout [ByteBuffer]) {
        output.moveAll(into: &list)
    }

    /// Rewinds the frame buffer once everything in it was handed out.
    public mutating func reclaimOutput() {
        output.reclaim()
    }

    /// Drops everything pending (the connection is gone).
    public mutating func discardOutput() {
        output.discard()
    }

    /// Stops producing DATA (the socket is not writable); control frames still go out.
    public mutating func pauseOutput() {
        _ = outbound.setPaused(true)
    }

    /// Produces DATA again, as far as the windows allow.
    public mutating func resumeOutput() {
        if outbound.setPaused(false) { scheduleWrites() }
    }

    // MARK: Receiving

    /// Processes bytes read from the socket. `now` (monotonic nanoseconds) drives the
    /// abuse limits and the bandwidth-delay estimate.
    public mutating func receive(_ bytes: ByteBuffer, now: UInt64 = 0) {
        guard state != .closed else { return }
        self.now = now
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
        scheduleWrites()
    }

    /// A stream error found by the frame decoder (a PRIORITY of the wrong size, a
    /// WINDOW_UPDATE of 0 on a stream): the frame is consumed, that stream is reset and the
    /// connection goes on (RFC 9113 §5.4.2). RST_STREAM may not be sent on an idle stream
    /// (§6.4), and the first frame must be SETTINGS (§3.4): those become connection errors.
    private mutating func decoderStreamError(_ streamID: UInt32, _ error: HTTP2ProtocolError) {
        if state == .handshaking {
            fail(.connection(.protocolError, "the peer's first frame is not SETTINGS (RFC 9113 §3.4)"))
        } else if isIdle(streamID) {
            fail(.connection(error.code, error.reason))
        } else {
            reset(streamID, code: error.code, reason: error.reason)
        }
    }

    private mutating func handle(_ frame: HTTP2Frame) throws(HTTP2ProtocolError) {
        if state == .handshaking {
            guard case .settings = frame.payload else {
                throw .connection(.protocolError, "the peer's first frame is not SETTINGS (RFC 9113 §3.4)")
            }
        }
        do throws(HTTP2ProtocolError) {
            switch frame.payload {
            case .data(let data, let endStream, let length):
                abuse.progress()
                try receiveData(frame.streamID, data, endStream: endStream, flowControlledLength: length)
            case .headers(let headers, let endStream):
                abuse.progress()
                try receiveHeaders(frame.streamID, headers, endStream: endStream)
            case .oversizedHeaders(let endStream):
                try receiveOversizedHeaders(frame.streamID, endStream: endStream)
            case .priority:
                break  // RFC 9113 §5.3.2: ignored
            case .rstStream(let code):
                try receiveReset(frame.streamID, code)
            case .settings(let parameters):
                try abuse.controlFrame(now: now)
                try receiveSettings(parameters)
            case .settingsAck:
                break
            case .pushPromise:
                throw .connection(.protocolError, "PUSH_PROMISE received (RFC 9113 §8.4)")
            case .ping(let opaque, let ack):
                if ack {
                    receivePingAck(opaque)
                } else {
                    try abuse.controlFrame(now: now)
                    HTTP2FrameEncoder.writePing(opaque, ack: true, into: &output.control)
                }
            case .goAway(let last, let code, let debug):
                receiveGoAway(lastStreamID: last, code: code, debugData: debug)
            case .windowUpdate(let increment):
                try receiveWindowUpdate(frame.streamID, increment: Int(increment))
            }
        } catch {
            guard let streamID = error.streamID else { throw error }
            reset(streamID, code: error.code, reason: error.reason)
        }
    }

    // MARK: Stream-id rules (RFC 9113 §5.1.1)

    private func isPeerInitiated(_ streamID: UInt32) -> Bool {
        (streamID % 2 == 1) == (role == .server)
    }

    /// A stream id neither side has used yet (RFC 9113 §5.1 "idle").
    private func isIdle(_ streamID: UInt32) -> Bool {
        isPeerInitiated(streamID) ? streamID > lastPeerStreamID : streamID >= nextLocalStreamID
    }

    /// A stream the peer opened after the last stream id of the GOAWAY we sent: its frames
    /// are ignored, not answered (RFC 9113 §6.8).
    private func isAboveSentGoAway(_ streamID: UInt32) -> Bool {
        isPeerInitiated(streamID) && shutdown.isAboveSentGoAway(streamID)
    }

    // MARK: HEADERS

    private mutating func receiveHeaders(_ streamID: UInt32, _ headers: [HPACKHeader], endStream: Bool) throws(HTTP2ProtocolError) {
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
            events.append(.headers(streamID: streamID, headers, endStream: endStream))
            if endStream { remoteEnded(streamID) }
            return
        }
        guard isPeerInitiated(streamID), role == .server else {
            if isIdle(streamID) { throw .connection(.protocolError, "HEADERS on idle stream \(streamID) the server may not open (RFC 9113 §5.1.1, §8.4)") }
            if recentlyReset.contains(streamID) { return }
            throw .connection(.streamClosed, "HEADERS on closed stream \(streamID) (RFC 9113 §5.1)")
        }
        if isAboveSentGoAway(streamID) {
            // RFC 9113 §6.8: ignored, and so are its later frames (trailers included).
            lastPeerStreamID = max(lastPeerStreamID, streamID)
            return
        }
        guard streamID > lastPeerStreamID else {
            if recentlyReset.contains(streamID) { return }
            if recentlyClosed.contains(streamID) {
                throw .connection(.streamClosed, "HEADERS on closed stream \(streamID) (RFC 9113 §5.1)")
            }
            throw .connection(.protocolError, "stream id \(streamID) is not greater than \(lastPeerStreamID) (RFC 9113 §5.1.1)")
        }
        lastPeerStreamID = streamID
        if let limit = configuration.maxConcurrentStreams, peerStreamCount >= Int(limit) {
            throw .stream(streamID, .refusedStream, "more than \(limit) concurrent streams (RFC 9113 §5.1.2)")
        }
        if let problem = HTTP2HeaderValidation.requestProblem(headers) {
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
        events.append(.headers(streamID: streamID, headers, endStream: endStream))
        if endStream { remoteEnded(streamID) }
    }

    private mutating func receiveOversizedHeaders(_ streamID: UInt32, endStream: Bool) throws(HTTP2ProtocolError) {
        if streams[streamID] == nil && isAboveSentGoAway(streamID) {
            lastPeerStreamID = max(lastPeerStreamID, streamID)  // ignored (RFC 9113 §6.8)
            return
        }
        if role == .server && streams[streamID] == nil && isPeerInitiated(streamID) && streamID > lastPeerStreamID {
            // Refuse the request with 431 (RFC 6585) and leave the connection alone.
            lastPeerStreamID = streamID
            encoder.writeHeaders(streamID: streamID, headers: [HPACKHeader(":status", "431")], endStream: true, into: &output.control)
            if !endStream { HTTP2FrameEncoder.writeRSTStream(streamID: streamID, code: .noError, into: &output.control) }
            recentlyReset.insert(streamID)
            events.append(.headerListTooLarge(streamID: streamID))
            return
        }
        throw .stream(streamID, .protocolError, "header list exceeds SETTINGS_MAX_HEADER_LIST_SIZE \(configuration.maxHeaderListSize) (RFC 9113 §6.5.2)")
    }

    // MARK: DATA

    private mutating func receiveData(_ streamID: UInt32, _ data: ByteBuffer, endStream: Bool, flowControlledLength: Int) throws(HTTP2ProtocolError) {
        try inbound.receiveOnConnection(flowControlledLength)
        guard var stream = streams[streamID] else {
            returnConnectionCredit(flowControlledLength)
            if isAboveSentGoAway(streamID) { return }
            if isIdle(streamID) { throw .connection(.protocolError, "DATA on idle stream \(streamID) (RFC 9113 §5.1)") }
            if recentlyReset.contains(streamID) { return }
            throw .stream(streamID, .streamClosed, "DATA on closed stream \(streamID) (RFC 9113 §5.1)")
        }
        do throws(HTTP2ProtocolError) {
            stream.state = try stream.state.receivingData(streamID: streamID, endStream: endStream)
            try inbound.receive(flowControlledLength, on: &stream.inbound, streamID: streamID)
        } catch {
            returnConnectionCredit(flowControlledLength)
            throw error
        }
        stream.inbound.unconsumed += data.readableBytes
        stream.receivedLength += data.readableBytes
        if let expected = stream.expectedLength,
           stream.receivedLength > expected || (endStream && stream.receivedLength != expected) {
            streams[streamID] = stream
            throw .stream(streamID, .protocolError, "\(stream.receivedLength) body bytes but content-length \(expected) (RFC 9113 §8.1.1)")
        }
        streams[streamID] = stream
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

    private mutating func receiveReset(_ streamID: UInt32, _ code: HTTP2ErrorCode) throws(HTTP2ProtocolError) {
        guard streams[streamID] != nil else {
            if isIdle(streamID) { throw .connection(.protocolError, "RST_STREAM on idle stream \(streamID) (RFC 9113 §6.4)") }
            return
        }
        if role == .server { try abuse.peerReset(now: now) }
        closeStream(streamID)
        events.append(.reset(streamID: streamID, code))
        events.append(.closed(streamID: streamID))
    }

    private mutating func receiveSettings(_ parameters: [HTTP2Setting]) throws(HTTP2ProtocolError) {
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
            events.append(.ready)
        }
    }

    private mutating func receivePingAck(_ opaque: UInt64) {
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
        } else {
            events.append(.pingAck(opaque))
        }
    }

    private mutating func receiveGoAway(lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: ByteBuffer) {
        _ = shutdown.received(lastStreamID: lastStreamID)
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

    private mutating func receiveWindowUpdate(_ streamID: UInt32, increment: Int) throws(HTTP2ProtocolError) {
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

    // MARK: Sending

    /// Opens a stream (clients) or answers one (servers) with a header list; on a stream
    /// whose head went out, queues trailers after its DATA.
    /// - Returns: the stream id (new for a client request).
    @discardableResult
    public mutating func sendHeaders(streamID: UInt32? = nil, _ headers: [HPACKHeader], endStream: Bool) throws(HTTP2StreamError) -> UInt32 {
        guard state != .closed else { throw .connectionClosed }
        let id: UInt32
        if let streamID {
            guard var stream = streams[streamID], stream.state.isLocalOpen else { throw .streamClosed(streamID) }
            if stream.state.localHeadSent {
                guard outbound.queueTrailers(headers, streamID: streamID, in: &streams) else { throw .streamClosed(streamID) }
                scheduleWrites()
                return streamID
            }
            stream.state = try stream.state.sendingHeaders(streamID: streamID, endStream: endStream)
            streams[streamID] = stream
            id = streamID
        } else {
            guard role == .client else { throw .streamClosed(0) }
            guard state != .draining, shutdown.allowsNewLocalStreams else { throw .goingAway }
            if let limit = peerSettings.maxConcurrentStreams, streams.count >= Int(limit) { throw .streamLimitReached(Int(limit)) }
            guard nextLocalStreamID <= 0x7FFF_FFFF else { throw .streamIDsExhausted }
            id = nextLocalStreamID
            nextLocalStreamID += 2
            var stream = HTTP2Stream(state: HTTP2StreamState.idle.openedBySending(endStream: endStream),
                                     sendWindow: Int(peerSettings.initialWindowSize),
                                     receiveWindow: Int(localSettings.initialWindowSize))
            stream.requestIsHead = headers.contains { $0.name == ":method" && $0.value == "HEAD" }
            streams[id] = stream
        }
        encoder.writeHeaders(streamID: id, headers: headers, endStream: endStream, into: &output.control)
        if endStream { localEnded(id) }
        return id
    }

    /// Queues DATA; it goes out as flow control allows, fairly across streams.
    public mutating func sendData(streamID: UInt32, _ data: ByteBuffer, endStream: Bool) throws(HTTP2StreamError) {
        guard state != .closed else { throw .connectionClosed }
        guard outbound.queueData(data, endStream: endStream, streamID: streamID, in: &streams) else {
            throw .streamClosed(streamID)
        }
        scheduleWrites()
    }

    /// Bytes queued on `streamID` and not yet sent (for backpressure).
    public func bufferedBytes(streamID: UInt32) -> Int {
        streams[streamID]?.outbound.pendingBytes ?? 0
    }

    /// Asks for a `.writable` event once the stream's queued bytes drop to `threshold` or less.
    public mutating func notifyWhenBuffered(streamID: UInt32, atMost threshold: Int) {
        streams.modify(streamID) { $0.outbound.writableThreshold = threshold }
    }

    /// Resets an open stream with RST_STREAM(`code`). A stream that is already closed (it
    /// completed, or the peer reset it) is left alone: nothing may be sent on a closed
    /// stream (RFC 9113 §5.1), least of all RST_STREAM in answer to RST_STREAM (§5.4.2).
    public mutating func resetStream(_ streamID: UInt32, code: HTTP2ErrorCode, reason: String = "") {
        guard streams.contains(streamID) else { return }
        reset(streamID, code: code, reason: reason)
    }

    /// Sends RST_STREAM for `streamID`, open or not (a stream error may concern a stream
    /// that was never opened or is already closed), and closes its record.
    private mutating func reset(_ streamID: UInt32, code: HTTP2ErrorCode, reason: String) {
        guard state != .closed else { return }
        HTTP2FrameEncoder.writeRSTStream(streamID: streamID, code: code, into: &output.control)
        recentlyReset.insert(streamID)
        if streams.contains(streamID) {
            closeStream(streamID)
            events.append(.closed(streamID: streamID))
        }
        if code != .noError && code != .cancel, !reason.isEmpty {
            events.append(.streamError(streamID: streamID, HTTP2ProtocolError.stream(streamID, code, reason)))
        }
    }

    /// The application consumed `bytes` of a stream's DATA: credit goes back to the peer.
    public mutating func consumed(streamID: UInt32, bytes: Int) {
        consume(streamID: streamID, bytes: bytes, padding: 0)
    }

    private mutating func consume(streamID: UInt32, bytes: Int, padding: Int) {
        guard var stream = streams[streamID] else { return }
        let credit = inbound.consume(bytes, padding: padding, on: &stream.inbound, remoteOpen: stream.state.isRemoteOpen)
        streams[streamID] = stream
        if let increment = credit.stream {
            HTTP2FrameEncoder.writeWindowUpdate(streamID: streamID, increment: increment, into: &output.control)
        }
        // Nothing follows the GOAWAY of a failed connection (fail() closes its streams).
        if let increment = credit.connection, state != .closed {
            HTTP2FrameEncoder.writeWindowUpdate(streamID: 0, increment: increment, into: &output.control)
        }
    }

    private mutating func returnConnectionCredit(_ bytes: Int) {
        // Nothing follows the GOAWAY of a failed connection (fail() closes its streams).
        guard state != .closed, let increment = inbound.returnConnectionCredit(bytes) else { return }
        HTTP2FrameEncoder.writeWindowUpdate(streamID: 0, increment: increment, into: &output.control)
    }

    /// Sends a PING; the ack arrives as `.pingAck`.
    public mutating func ping(_ opaque: UInt64) {
        HTTP2FrameEncoder.writePing(opaque, ack: false, into: &output.control)
    }

    // MARK: Shutdown

    /// Starts a graceful shutdown (RFC 9113 §6.8, ``HTTP2Shutdown``): a server sends GOAWAY
    /// with the largest stream id and a PING, and once the PING is acknowledged, GOAWAY with
    /// the last stream actually accepted. Streams already open finish; the state becomes
    /// `.closed` when none is left.
    public mutating func beginGracefulShutdown() {
        guard state == .active || state == .handshaking else { return }
        state = .draining
        shutdown.beginGraceful(role: role, lastPeerStreamID: lastPeerStreamID, into: &output.control)
        closeIfDrained()
    }

    /// Ends the connection now with GOAWAY(`code`).
    public mutating func close(code: HTTP2ErrorCode, reason: String) {
        fail(.connection(code, reason))
    }

    private mutating func fail(_ error: HTTP2ProtocolError) {
        guard state != .closed else { return }
        shutdown.sendGoAway(lastStreamID: lastPeerStreamID, code: error.code, reason: error.reason, into: &output.control)
        state = .closed
        for id in streams.ids {
            closeStream(id)
            events.append(.reset(streamID: id, error.code))
            events.append(.closed(streamID: id))
        }
        events.append(.connectionError(error))
    }

    private mutating func closeIfDrained() {
        guard state == .draining, shutdown.isDrained(openStreams: streams.count) else { return }
        if shutdown.sentLastStreamID == nil {
            shutdown.sendGoAway(lastStreamID: lastPeerStreamID, code: .noError, reason: "", into: &output.control)
        }
        state = .closed
        events.append(.drained)
    }

    // MARK: Stream lifecycle

    private mutating func remoteEnded(_ streamID: UInt32) {
        guard let state = streams[streamID]?.state, state == .closed else { return }
        finishStream(streamID)
    }

    /// END_STREAM left on our side.
    private mutating func localEnded(_ streamID: UInt32) {
        guard let state = streams.modify(streamID, { stream -> HTTP2StreamState in
            stream.state = stream.state.sendingEndStream()
            return stream.state
        }) else { return }
        if state == .closed {
            finishStream(streamID)
        } else if role == .server {
            // The stream-end rule (docs/architecture.md): the response is complete before
            // the request; tell the client to stop uploading (RFC 9113 §8.1).
            HTTP2FrameEncoder.writeRSTStream(streamID: streamID, code: .noError, into: &output.control)
            recentlyReset.insert(streamID)
            finishStream(streamID)
        }
    }

    private mutating func finishStream(_ streamID: UInt32) {
        closeStream(streamID)
        events.append(.closed(streamID: streamID))
        closeIfDrained()
    }

    /// Removes a stream, returning connection credit for DATA the application never took.
    private mutating func closeStream(_ streamID: UInt32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        if isPeerInitiated(streamID) {
            recentlyClosed.insert(streamID)
            peerStreamCount -= 1
        }
        if stream.inbound.unconsumed > 0 { returnConnectionCredit(stream.inbound.unconsumed) }
    }

    // MARK: Writing DATA

    /// Writes queued DATA (and trailers after it) as the ``HTTP2OutboundScheduler`` hands
    /// it out, one frame per stream per turn, within the stream and connection windows.
    private mutating func scheduleWrites() {
        outbound.beginPass()
        while let write = outbound.nextWrite(in: &streams, maxFrameSize: encoder.maxFrameSize) {
            switch write.step {
            case .data(let payload, let endStream):
                output.appendData(streamID: write.streamID, payload, endStream: endStream)
            case .trailers(let trailers):
                encoder.writeHeaders(streamID: write.streamID, headers: trailers, endStream: true, into: &output.control)
            case .end:
                HTTP2FrameEncoder.writeDataHeader(streamID: write.streamID, length: 0, endStream: true, into: &output.control)
            case nil:
                break
            }
            if write.becameWritable { events.append(.writable(streamID: write.streamID)) }
            if write.endsStream { localEnded(write.streamID) }
        }
    }
}
