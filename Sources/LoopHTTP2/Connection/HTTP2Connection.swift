import Loop

/// One HTTP/2 connection's protocol logic, with no I/O: bytes and application calls in,
/// bytes (``output``) and events (``takeEvents()``) out.
///
/// It enforces the stream state machine (RFC 9113 §5.1), stream-id rules, concurrency
/// limits, flow control in both directions (§5.2, §6.9), the handshake (§3.4), GOAWAY and
/// the graceful two-phase shutdown (§6.8), DESIGN.md's stream-end rule, and abuse limits
/// (rapid reset, control-frame floods). Every violation produces the RFC's GOAWAY or
/// RST_STREAM code.
///
/// ```swift
/// var connection = HTTP2Connection(configuration: .init(role: .server))
/// connection.start()                          // SETTINGS goes out at once
/// connection.receive(bytesFromSocket, now: clock)
/// for event in connection.takeEvents() { ... }
/// connection.output.drain { socket.write($0) }
/// ```
public struct HTTP2Connection: Sendable {
    public let configuration: HTTP2Configuration
    public var role: HTTP2Configuration.Role { configuration.role }

    private var decoder: HTTP2FrameDecoder
    private var encoder: HTTP2FrameEncoder
    /// Bytes to send, in order.
    public var output = HTTP2Output()
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
    private var connectionSendWindow = SendWindow(65_535)
    private var connectionReceiveWindow = ReceiveWindow(65_535)
    /// Grows stream windows for big transfers (nil when the configuration fixes them).
    private var bandwidthDelay: BandwidthDelayEstimator?
    private var ready = StreamQueue()
    private var recentlyReset = RecentStreamIDs(capacity: 64)
    /// Peer streams that closed normally: HEADERS on them is STREAM_CLOSED, while a lower
    /// id never used is PROTOCOL_ERROR (RFC 9113 §5.1, §5.1.1).
    private var recentlyClosed = RecentStreamIDs(capacity: 128)

    // GOAWAY.
    private var sentGoAwayLastStreamID: UInt32?
    private var receivedGoAwayLastStreamID: UInt32?
    private var gracefulPingOutstanding = false
    private static let gracefulShutdownPing: UInt64 = 0x4C6F_6F70_474F_4157  // "LoopGOAW"

    // Abuse limits.
    private var resetWindowStart: UInt64 = 0
    private var resetsInWindow = 0
    private var controlFramesWithoutProgress = 0
    private var controlWindowStart: UInt64 = 0
    private var now: UInt64 = 0

    /// Pauses producing DATA (when the socket is not writable); control frames still go out.
    public var isOutputPaused = false {
        didSet { if !isOutputPaused { scheduleWrites() } }
    }

    public init(configuration: HTTP2Configuration) {
        self.configuration = configuration
        self.decoder = HTTP2FrameDecoder(role: configuration.role == .server ? .server : .client,
                                         maxHeaderListSize: Int(configuration.maxHeaderListSize))
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
        if let limit = configuration.maximumStreamWindowSize, limit > configuration.initialStreamWindowSize {
            self.bandwidthDelay = BandwidthDelayEstimator(initialWindow: Int(configuration.initialStreamWindowSize),
                                                          maximumWindow: Int(min(limit, 0x7FFF_FFFF)))
        }
    }

    // MARK: Start

    /// Writes our side of the handshake: the client preface (clients) and our SETTINGS,
    /// at once — never waiting for the peer (DESIGN.md's handshake rule) — plus a
    /// connection WINDOW_UPDATE opening the configured connection window.
    public mutating func start() {
        if role == .client { output.control.writeBytes(http2ClientPreface) }
        HTTP2FrameEncoder.writeSettings(localSettings.nonDefaultParameters, into: &output.control)
        if let increment = connectionReceiveWindow.grow(to: Int(configuration.connectionWindowSize)) {
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

    // MARK: Receiving

    /// Processes bytes read from the socket. `now` (monotonic nanoseconds) drives the
    /// rapid-reset limit.
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
                controlFramesWithoutProgress = 0
                try receiveData(frame.streamID, data, endStream: endStream, flowControlledLength: length)
            case .headers(let headers, let endStream):
                controlFramesWithoutProgress = 0
                try receiveHeaders(frame.streamID, headers, endStream: endStream)
            case .oversizedHeaders(let endStream):
                try receiveOversizedHeaders(frame.streamID, endStream: endStream)
            case .priority:
                break  // RFC 9113 §5.3.2: ignored
            case .rstStream(let code):
                try receiveReset(frame.streamID, code)
            case .settings(let parameters):
                try countControlFrame()
                try receiveSettings(parameters)
            case .settingsAck:
                break
            case .pushPromise:
                throw .connection(.protocolError, "PUSH_PROMISE received (RFC 9113 §8.4)")
            case .ping(let opaque, let ack):
                if ack {
                    receivePingAck(opaque)
                } else {
                    try countControlFrame()
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

    private mutating func countControlFrame() throws(HTTP2ProtocolError) {
        // A flood is many control frames in a short time with no request in between; a
        // keepalive PING every few seconds on an idle connection never adds up to one.
        if now &- controlWindowStart > 10_000_000_000 {
            controlWindowStart = now
            controlFramesWithoutProgress = 0
        }
        controlFramesWithoutProgress += 1
        guard controlFramesWithoutProgress <= configuration.maxControlFramesWithoutProgress else {
            throw .connection(.enhanceYourCalm, "more than \(configuration.maxControlFramesWithoutProgress) PING/SETTINGS frames within 10 s without a request")
        }
    }

    private func isPeerInitiated(_ streamID: UInt32) -> Bool {
        (streamID % 2 == 1) == (role == .server)
    }

    /// A stream id neither side has used yet (RFC 9113 §5.1 "idle").
    private func isIdle(_ streamID: UInt32) -> Bool {
        isPeerInitiated(streamID) ? streamID > lastPeerStreamID : streamID >= nextLocalStreamID
    }

    private mutating func receiveHeaders(_ streamID: UInt32, _ headers: [HPACKHeader], endStream: Bool) throws(HTTP2ProtocolError) {
        if var stream = streams[streamID] {
            guard stream.remoteOpen else {
                throw .stream(streamID, .streamClosed, "HEADERS after END_STREAM (RFC 9113 §5.1)")
            }
            let isInformational = role == .client && !stream.headersReceived.isFinal
                && headers.first(where: { $0.name == ":status" })?.value.hasPrefix("1") == true
            if stream.headersReceived.isFinal {
                guard endStream else {
                    throw .stream(streamID, .protocolError, "trailers without END_STREAM (RFC 9113 §8.1)")
                }
                if let problem = HTTP2HeaderValidation.responseProblem(headers, isTrailers: true) {
                    throw .stream(streamID, .protocolError, problem)
                }
            } else if role == .client {
                if let problem = HTTP2HeaderValidation.responseProblem(headers, isTrailers: false) {
                    throw .stream(streamID, .protocolError, problem)
                }
                if isInformational && endStream {
                    throw .stream(streamID, .protocolError, "informational response with END_STREAM (RFC 9113 §8.1)")
                }
                stream.headersReceived = isInformational ? .informational : .final
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
        var stream = HTTP2StreamState(sendWindow: Int(peerSettings.initialWindowSize),
                                      receiveWindow: Int(localSettings.initialWindowSize))
        stream.headersReceived = .final
        stream.expectedLength = expectedLength
        streams[streamID] = stream
        peerStreamCount += 1
        events.append(.headers(streamID: streamID, headers, endStream: endStream))
        if endStream { remoteEnded(streamID) }
    }

    /// A stream the peer opened after the last stream id of the GOAWAY we sent: its frames
    /// are ignored, not answered (RFC 9113 §6.8).
    private func isAboveSentGoAway(_ streamID: UInt32) -> Bool {
        guard let last = sentGoAwayLastStreamID else { return false }
        return streamID > last && isPeerInitiated(streamID)
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

    private mutating func receiveData(_ streamID: UInt32, _ data: ByteBuffer, endStream: Bool, flowControlledLength: Int) throws(HTTP2ProtocolError) {
        guard connectionReceiveWindow.receive(flowControlledLength) else {
            throw .connection(.flowControlError, "DATA exceeds the connection window (RFC 9113 §6.9)")
        }
        guard var stream = streams[streamID] else {
            returnConnectionCredit(flowControlledLength)
            if isAboveSentGoAway(streamID) { return }
            if isIdle(streamID) { throw .connection(.protocolError, "DATA on idle stream \(streamID) (RFC 9113 §5.1)") }
            if recentlyReset.contains(streamID) { return }
            throw .stream(streamID, .streamClosed, "DATA on closed stream \(streamID) (RFC 9113 §5.1)")
        }
        guard stream.remoteOpen else {
            returnConnectionCredit(flowControlledLength)
            throw .stream(streamID, .streamClosed, "DATA after END_STREAM (RFC 9113 §5.1)")
        }
        guard stream.headersReceived.isFinal else {
            returnConnectionCredit(flowControlledLength)
            throw .stream(streamID, .protocolError, "DATA before the final HEADERS (RFC 9113 §8.1)")
        }
        guard stream.receiveWindow.receive(flowControlledLength) else {
            returnConnectionCredit(flowControlledLength)
            throw .stream(streamID, .flowControlError, "DATA exceeds the stream window (RFC 9113 §6.9)")
        }
        stream.unconsumed += data.readableBytes
        stream.receivedLength += data.readableBytes
        if let expected = stream.expectedLength,
           stream.receivedLength > expected || (endStream && stream.receivedLength != expected) {
            streams[streamID] = stream
            throw .stream(streamID, .protocolError, "\(stream.receivedLength) body bytes but content-length \(expected) (RFC 9113 §8.1.1)")
        }
        streams[streamID] = stream
        if bandwidthDelay?.dataReceived(flowControlledLength, now: now) == true {
            HTTP2FrameEncoder.writePing(BandwidthDelayEstimator.pingData, ack: false, into: &output.control)
        }
        // Padding is never delivered, so it is returned at once.
        let padding = flowControlledLength - data.readableBytes
        if padding > 0 { consume(streamID: streamID, bytes: 0, padding: padding) }
        events.append(.data(streamID: streamID, data, endStream: endStream))
        if endStream { remoteEnded(streamID) }
    }

    private mutating func receiveReset(_ streamID: UInt32, _ code: HTTP2ErrorCode) throws(HTTP2ProtocolError) {
        guard streams[streamID] != nil else {
            if isIdle(streamID) { throw .connection(.protocolError, "RST_STREAM on idle stream \(streamID) (RFC 9113 §6.4)") }
            return
        }
        if role == .server {
            if now &- resetWindowStart > 1_000_000_000 {
                resetWindowStart = now
                resetsInWindow = 0
            }
            resetsInWindow += 1
            if resetsInWindow > configuration.maxResetsPerSecond {
                throw .connection(.enhanceYourCalm, "more than \(configuration.maxResetsPerSecond) streams reset by the peer in a second (rapid reset)")
            }
        }
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
        let delta = Int(peerSettings.initialWindowSize) - oldWindow
        if delta != 0 {
            for id in streams.ids {
                guard streams[id]!.sendWindow.increase(by: delta) else {
                    throw .connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE makes stream \(id)'s window exceed 2^31-1 (RFC 9113 §6.9.2)")
                }
                if delta > 0 { enqueueIfSendable(id) }
            }
        }
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
        if opaque == BandwidthDelayEstimator.pingData, bandwidthDelay != nil {
            if let window = bandwidthDelay!.probeAcknowledged(now: now) { growReceiveWindows(to: window) }
        } else if opaque == HTTP2Connection.gracefulShutdownPing && gracefulPingOutstanding {
            gracefulPingOutstanding = false
            sendGoAway(lastStreamID: lastPeerStreamID, code: .noError, reason: "")
            closeIfDrained()
        } else {
            events.append(.pingAck(opaque))
        }
    }

    /// Announces a larger SETTINGS_INITIAL_WINDOW_SIZE (the peer adds the difference to every
    /// stream's window, RFC 9113 §6.9.2) and widens the connection window to match.
    private mutating func growReceiveWindows(to window: Int) {
        let delta = window - Int(localSettings.initialWindowSize)
        guard delta > 0 else { return }
        localSettings.initialWindowSize = UInt32(window)
        HTTP2FrameEncoder.writeSettings([HTTP2Setting(HTTP2Setting.initialWindowSize, UInt32(window))], into: &output.control)
        for id in streams.ids { streams[id]!.receiveWindow.raise(by: delta) }
        if let increment = connectionReceiveWindow.grow(to: max(connectionReceiveWindow.target, window * 4)) {
            HTTP2FrameEncoder.writeWindowUpdate(streamID: 0, increment: increment, into: &output.control)
        }
    }

    private mutating func receiveGoAway(lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: ByteBuffer) {
        receivedGoAwayLastStreamID = min(lastStreamID, receivedGoAwayLastStreamID ?? lastStreamID)
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
            guard connectionSendWindow.increase(by: increment) else {
                throw .connection(.flowControlError, "connection window exceeds 2^31-1 (RFC 9113 §6.9.1)")
            }
            return
        }
        guard streams[streamID] != nil else {
            if isIdle(streamID) { throw .connection(.protocolError, "WINDOW_UPDATE on idle stream \(streamID) (RFC 9113 §5.1)") }
            return
        }
        guard streams[streamID]!.sendWindow.increase(by: increment) else {
            throw .stream(streamID, .flowControlError, "stream window exceeds 2^31-1 (RFC 9113 §6.9.1)")
        }
        enqueueIfSendable(streamID)
    }

    // MARK: Sending

    /// Opens a stream (clients) or answers one (servers) with a header list.
    /// - Returns: the stream id (new for a client request).
    @discardableResult
    public mutating func sendHeaders(streamID: UInt32? = nil, _ headers: [HPACKHeader], endStream: Bool) throws(HTTP2StreamError) -> UInt32 {
        guard state != .closed else { throw .connectionClosed }
        let id: UInt32
        if let streamID {
            guard var stream = streams[streamID], stream.localOpen else { throw .streamClosed(streamID) }
            if stream.headersSent {
                // Trailers: after any queued data.
                stream.pendingTrailers = headers
                stream.pendingEnd = true
                streams[streamID] = stream
                enqueueIfSendable(streamID)
                scheduleWrites()
                return streamID
            }
            stream.headersSent = true
            streams[streamID] = stream
            id = streamID
        } else {
            guard role == .client else { throw .streamClosed(0) }
            guard state != .draining, receivedGoAwayLastStreamID == nil else { throw .goingAway }
            if let limit = peerSettings.maxConcurrentStreams, streams.count >= Int(limit) { throw .streamLimitReached(Int(limit)) }
            guard nextLocalStreamID <= 0x7FFF_FFFF else { throw .streamIDsExhausted }
            id = nextLocalStreamID
            nextLocalStreamID += 2
            var stream = HTTP2StreamState(sendWindow: Int(peerSettings.initialWindowSize),
                                          receiveWindow: Int(localSettings.initialWindowSize))
            stream.headersSent = true
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
        let accepted = streams.modify(streamID) { stream -> Bool in
            guard stream.localOpen, !stream.pendingEnd, stream.headersSent else { return false }
            if data.readableBytes > 0 {
                stream.pendingData.append(data)
                stream.pendingBytes += data.readableBytes
            }
            if endStream { stream.pendingEnd = true }
            return true
        }
        guard accepted == true else { throw .streamClosed(streamID) }
        enqueueIfSendable(streamID)
        scheduleWrites()
    }

    /// Bytes queued on `streamID` and not yet sent (for backpressure).
    public func bufferedBytes(streamID: UInt32) -> Int {
        streams[streamID]?.pendingBytes ?? 0
    }

    /// Asks for a `.writable` event once the stream's queued bytes drop to `threshold` or less.
    public mutating func notifyWhenBuffered(streamID: UInt32, atMost threshold: Int) {
        guard streams[streamID] != nil else { return }
        streams[streamID]!.writableThreshold = threshold
    }

    /// Resets an open stream with RST_STREAM(`code`). A stream that is already closed (it
    /// completed, or the peer reset it) is left alone: nothing may be sent on a closed
    /// stream (RFC 9113 §5.1), least of all RST_STREAM in answer to RST_STREAM (§5.4.2).
    public mutating func resetStream(_ streamID: UInt32, code: HTTP2ErrorCode, reason: String = "") {
        guard streams[streamID] != nil else { return }
        reset(streamID, code: code, reason: reason)
    }

    /// Sends RST_STREAM for `streamID`, open or not (a stream error may concern a stream
    /// that was never opened or is already closed), and closes its record.
    private mutating func reset(_ streamID: UInt32, code: HTTP2ErrorCode, reason: String) {
        guard state != .closed else { return }
        HTTP2FrameEncoder.writeRSTStream(streamID: streamID, code: code, into: &output.control)
        recentlyReset.insert(streamID)
        if streams[streamID] != nil {
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
        // A closed stream's unconsumed bytes went back to the connection window when it
        // closed (closeStream): crediting them again would grow the peer's window past what
        // we can take. Likewise never credit more than was delivered.
        guard var stream = streams[streamID] else { return }
        let bytes = min(bytes, stream.unconsumed)
        stream.unconsumed -= bytes
        if stream.remoteOpen, let increment = stream.receiveWindow.consume(bytes + padding) {
            HTTP2FrameEncoder.writeWindowUpdate(streamID: streamID, increment: increment, into: &output.control)
        }
        streams[streamID] = stream
        returnConnectionCredit(bytes + padding)
    }

    private mutating func returnConnectionCredit(_ bytes: Int) {
        // Nothing follows the GOAWAY of a failed connection (fail() closes its streams).
        guard bytes > 0, state != .closed, let increment = connectionReceiveWindow.consume(bytes) else { return }
        HTTP2FrameEncoder.writeWindowUpdate(streamID: 0, increment: increment, into: &output.control)
    }

    /// Sends a PING; the ack arrives as `.pingAck`.
    public mutating func ping(_ opaque: UInt64) {
        HTTP2FrameEncoder.writePing(opaque, ack: false, into: &output.control)
    }

    /// Starts a graceful shutdown (RFC 9113 §6.8): GOAWAY with the largest stream id and a
    /// PING; once the PING is acknowledged, GOAWAY with the last stream actually accepted.
    /// Streams already open finish; the state becomes `.closed` when none is left.
    public mutating func beginGracefulShutdown() {
        guard state == .active || state == .handshaking else { return }
        state = .draining
        if role == .server {
            sendGoAway(lastStreamID: 0x7FFF_FFFF, code: .noError, reason: "")
            gracefulPingOutstanding = true
            HTTP2FrameEncoder.writePing(HTTP2Connection.gracefulShutdownPing, ack: false, into: &output.control)
        } else {
            sendGoAway(lastStreamID: lastPeerStreamID, code: .noError, reason: "")
            closeIfDrained()
        }
    }

    /// Ends the connection now with GOAWAY(`code`).
    public mutating func close(code: HTTP2ErrorCode, reason: String) {
        fail(.connection(code, reason))
    }

    private mutating func sendGoAway(lastStreamID: UInt32, code: HTTP2ErrorCode, reason: String) {
        sentGoAwayLastStreamID = min(lastStreamID, sentGoAwayLastStreamID ?? lastStreamID)
        HTTP2FrameEncoder.writeGoAway(lastStreamID: sentGoAwayLastStreamID!, code: code, debugData: reason, into: &output.control)
    }

    private mutating func fail(_ error: HTTP2ProtocolError) {
        guard state != .closed else { return }
        sendGoAway(lastStreamID: lastPeerStreamID, code: error.code, reason: error.reason)
        state = .closed
        for id in streams.ids {
            closeStream(id)
            events.append(.reset(streamID: id, error.code))
            events.append(.closed(streamID: id))
        }
        events.append(.connectionError(error))
    }

    private mutating func closeIfDrained() {
        guard state == .draining, streams.isEmpty, !gracefulPingOutstanding else { return }
        if sentGoAwayLastStreamID == nil { sendGoAway(lastStreamID: lastPeerStreamID, code: .noError, reason: "") }
        state = .closed
        events.append(.drained)
    }

    // MARK: Stream lifecycle

    private mutating func remoteEnded(_ streamID: UInt32) {
        let localOpen = streams.modify(streamID) { stream -> Bool in
            stream.remoteOpen = false
            return stream.localOpen
        }
        if localOpen == false { finishStream(streamID) }
    }

    private mutating func localEnded(_ streamID: UInt32) {
        guard let remoteOpen = streams.modify(streamID, { stream -> Bool in
            stream.localOpen = false
            return stream.remoteOpen
        }) else { return }
        if !remoteOpen {
            finishStream(streamID)
        } else if role == .server {
            // DESIGN.md's stream-end rule: the response is complete before the request;
            // tell the client to stop uploading (RFC 9113 §8.1).
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
        if stream.unconsumed > 0 { returnConnectionCredit(stream.unconsumed) }
    }

    // MARK: Scheduling DATA

    /// Puts the stream in the send queue if it has output it may send; true if it did.
    @discardableResult
    private mutating func enqueueIfSendable(_ streamID: UInt32) -> Bool {
        let queue = streams.modify(streamID) { stream -> Bool in
            guard !stream.isQueued, stream.hasPendingOutput,
                  stream.sendWindow.size > 0 || stream.pendingBytes == 0 else { return false }
            stream.isQueued = true
            return true
        }
        if queue == true { ready.push(streamID) }
        return queue == true
    }

    /// What one turn of the scheduler does for one stream.
    private enum WriteStep {
        case data(ByteBuffer, endStream: Bool)
        case trailers([HPACKHeader])
        case end
        case waitForConnectionCredit
        case waitForStreamCredit
        case nothing
    }

    /// Writes queued DATA (and trailers after it), one frame per stream per turn, within
    /// the stream and connection windows. Each stream's state is changed in place.
    private mutating func scheduleWrites() {
        guard !isOutputPaused else { return }
        var turns = ready.count
        while turns > 0, let streamID = ready.pop() {
            turns -= 1
            let connectionWindow = connectionSendWindow.size
            let maxFrameSize = encoder.maxFrameSize
            guard let (step, writable) = streams.modify(streamID, { stream -> (WriteStep, Bool) in
                stream.isQueued = false
                let step: WriteStep
                if let first = stream.pendingData.first {
                    let allowed = min(stream.sendWindow.size, connectionWindow, maxFrameSize)
                    if allowed <= 0 {
                        if connectionWindow <= 0 && stream.sendWindow.size > 0 {
                            stream.isQueued = true
                            return (.waitForConnectionCredit, false)
                        }
                        return (.waitForStreamCredit, false)
                    }
                    var chunk = first
                    let length = min(allowed, chunk.readableBytes)
                    let payload = chunk.readSlice(length: length)!
                    if chunk.readableBytes == 0 {
                        stream.pendingData.removeFirst()
                    } else {
                        stream.pendingData.replaceFirst(chunk)
                    }
                    stream.pendingBytes -= length
                    stream.sendWindow.consume(length)
                    let ended = stream.pendingData.isEmpty && stream.pendingEnd && stream.pendingTrailers == nil
                    step = .data(payload, endStream: ended)
                } else if let trailers = stream.pendingTrailers {
                    stream.pendingTrailers = nil
                    step = .trailers(trailers)
                } else if stream.pendingEnd {
                    step = .end
                } else {
                    step = .nothing
                }
                var writable = false
                if let threshold = stream.writableThreshold, stream.pendingBytes <= threshold {
                    stream.writableThreshold = nil
                    writable = true
                }
                switch step {
                case .data(_, endStream: true), .trailers, .end: stream.pendingEnd = false
                default: break
                }
                return (step, writable)
            }) else { continue }

            var endedStream = false
            switch step {
            case .waitForConnectionCredit:
                // Keeps its place in line until the connection window opens.
                ready.pushFront(streamID)
                return
            case .waitForStreamCredit:
                continue  // a WINDOW_UPDATE queues it again
            case .data(let payload, let endStream):
                connectionSendWindow.consume(payload.readableBytes)
                output.appendData(streamID: streamID, payload, endStream: endStream)
                endedStream = endStream
            case .trailers(let trailers):
                encoder.writeHeaders(streamID: streamID, headers: trailers, endStream: true, into: &output.control)
                endedStream = true
            case .end:
                HTTP2FrameEncoder.writeDataHeader(streamID: streamID, length: 0, endStream: true, into: &output.control)
                endedStream = true
            case .nothing:
                break
            }
            if writable { events.append(.writable(streamID: streamID)) }
            if endedStream {
                localEnded(streamID)
            } else {
                if enqueueIfSendable(streamID) { turns += 1 }
            }
        }
    }
}

/// What an ``HTTP2Connection`` reports to the layer above.
public enum HTTP2ConnectionEvent: Sendable {
    /// The peer's first SETTINGS arrived: the connection is ready.
    case ready
    /// A header list: a request or response head, informational headers, or trailers.
    case headers(streamID: UInt32, [HPACKHeader], endStream: Bool)
    /// DATA; call `consumed(streamID:bytes:)` once the application has taken it.
    case data(streamID: UInt32, ByteBuffer, endStream: Bool)
    /// The peer reset the stream (or it was refused by GOAWAY, or the connection failed).
    case reset(streamID: UInt32, HTTP2ErrorCode)
    /// We reset the stream for a protocol violation (the RST_STREAM is in the output).
    case streamError(streamID: UInt32, HTTP2ProtocolError)
    /// The stream is finished; its record is gone.
    case closed(streamID: UInt32)
    /// Queued bytes fell to the threshold set with `notifyWhenBuffered`.
    case writable(streamID: UInt32)
    /// A request was refused with 431 for its header list size.
    case headerListTooLarge(streamID: UInt32)
    case pingAck(UInt64)
    case goAway(lastStreamID: UInt32, HTTP2ErrorCode, debugData: String)
    /// Graceful shutdown finished: every stream closed; close the socket after the output.
    case drained
    /// A connection error: GOAWAY is in the output; close the socket after it.
    case connectionError(HTTP2ProtocolError)
}

/// Why a send was refused.
public enum HTTP2StreamError: Error, Equatable, CustomStringConvertible {
    case streamClosed(UInt32)
    case connectionClosed
    case goingAway
    case streamLimitReached(Int)
    case streamIDsExhausted

    public var description: String {
        switch self {
        case .streamClosed(let id): return "HTTP2StreamError.streamClosed: stream \(id) is closed for sending"
        case .connectionClosed: return "HTTP2StreamError.connectionClosed: the connection is closed"
        case .goingAway: return "HTTP2StreamError.goingAway: the connection is shutting down and takes no new streams"
        case .streamLimitReached(let limit): return "HTTP2StreamError.streamLimitReached: the peer allows \(limit) concurrent streams"
        case .streamIDsExhausted: return "HTTP2StreamError.streamIDsExhausted: no stream ids left on this connection"
        }
    }
}
