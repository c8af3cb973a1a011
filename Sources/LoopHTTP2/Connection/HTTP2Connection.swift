import Loop

/// One HTTP/2 connection's protocol logic, with no I/O: bytes and application calls in,
/// bytes (``output``) and events (``takeEvents()``) out.
///
/// The connection dispatches frames and keeps the stream-id rules (RFC 9113 §5.1.1,
/// §5.1.2); each other concern has a room of its own (docs/architecture.md):
/// - stream states: `HTTP2StreamState` (§5.1), in records of the `HTTP2StreamTable`;
/// - outbound DATA and send windows: `HTTP2OutboundScheduler` (§5.2, §6.9);
/// - inbound windows, credit on consumption, BDP growth: `HTTP2InboundWindows`;
/// - GOAWAY and the two-phase shutdown: `HTTP2Shutdown` (§6.8);
/// - the stream-end rule and the peer's half-close: `HTTP2Connection+StreamEnd.swift`, with
///   the reset grace in `HTTP2ResetGrace`;
/// - abuse limits (rapid reset, control-frame and CONTINUATION floods): `HTTP2AbuseLimits`;
/// - keepalive PINGs, the peer's PING policy, the maximum age: `HTTP2Keepalive`, acted on in
///   `HTTP2Connection+Keepalive.swift`;
/// - header field rules: `HTTP2HeaderValidation` (§8);
/// - closed-stream memory: `RecentStreamIDs`.
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

    var decoder: HTTP2FrameDecoder
    var encoder: HTTP2FrameEncoder
    /// Bytes to send, in order. Read it freely; take the bytes with ``drainOutput(_:)`` or
    /// ``moveOutput(into:)``.
    public internal(set) var output = HTTP2Output()
    var events: [HTTP2ConnectionEvent] = []

    /// The peer's settings as received so far.
    public internal(set) var peerSettings = HTTP2Settings()
    /// The settings we announced.
    public internal(set) var localSettings: HTTP2Settings

    public enum State: Sendable, Equatable {
        /// Started; the peer's first SETTINGS has not arrived.
        case handshaking
        case active
        /// GOAWAY sent or received: existing streams finish, no new ones.
        case draining
        /// A connection error or the end of draining: close the socket after `output`.
        case closed
    }
    public internal(set) var state: State = .handshaking

    var streams = HTTP2StreamTable()
    /// Open streams the peer initiated (SETTINGS_MAX_CONCURRENT_STREAMS counts these), kept
    /// as a count so the check stays O(1) with thousands of streams.
    var peerStreamCount = 0
    var lastPeerStreamID: UInt32 = 0
    var nextLocalStreamID: UInt32
    var outbound = HTTP2OutboundScheduler()
    var inbound: HTTP2InboundWindows
    var shutdown = HTTP2Shutdown()
    var abuse: HTTP2AbuseLimits
    var recentlyReset = RecentStreamIDs(capacity: 64)
    /// Peer streams that closed normally: HEADERS on them is STREAM_CLOSED, while a lower
    /// id never used is PROTOCOL_ERROR (RFC 9113 §5.1, §5.1.1).
    var recentlyClosed = RecentStreamIDs(capacity: 128)
    /// Server streams waiting for the client's end before their reset (the stream-end rule).
    var resetGrace: HTTP2ResetGrace
    var now: UInt64 = 0
    /// While a decoded frame whose fields its maker checked is handled (`receive(decoded:fieldsChecked:)`).
    var decodedFieldsChecked = false
    /// The peer shut down its side of the socket (TCP half-close): no frame will arrive.
    var peerInputClosed = false
    /// Streams whose sender waits for the connection's queued DATA to fall back under half
    /// of `maxQueuedOutboundBytes` (their own queue is already low enough).
    var streamsWaitingForRoom: [UInt32] = []
    /// Streams opened and resets sent and received, for metrics (the handler reports and clears them).
    public internal(set) var counters = HTTP2ConnectionCounters()
    /// Keepalive PINGs, the peer's PING policy, the maximum age (HTTP2Connection+Keepalive.swift).
    var keepalive: HTTP2Keepalive
    /// Why the keepalive closed the connection: the peer sent nothing within the timeout
    /// after our PING. Set before the streams' `.reset` events, so their delegates can tell
    /// a peer that is gone from one that reset them.
    public internal(set) var keepaliveFailure: String?

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
        self.resetGrace = HTTP2ResetGrace(maxWaitingStreams: configuration.maxConcurrentStreams)
        self.keepalive = HTTP2Keepalive(configuration: configuration, ageJitter: HTTP2Keepalive.randomAgeJitter())
    }

    // MARK: Start

    /// Writes our side of the handshake: the client preface (clients) and our SETTINGS,
    /// at once — never waiting for the peer (docs/architecture.md, the handshake rule) —
    /// plus a connection WINDOW_UPDATE opening the configured connection window. `now`
    /// (monotonic nanoseconds) starts the keepalive interval and the connection's age.
    public mutating func start(now: UInt64 = 0) {
        keepalive.start(now: now)
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

    /// True while the peer has started a header block and not finished it.
    // Inlined: called through the handler's stored connection, an out-of-line getter made
    // the optimizer copy the whole connection (twice per request in the timeout check).
    @inline(__always) public var isInHeaderBlock: Bool { decoder.isInHeaderBlock }

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

    /// Behind an HTTP/1.1 bridge: streams' HEADERS and DATA stay frames from now on (see
    /// `HTTP2Output.handsOverFrames`).
    mutating func handOverFrames() {
        output.handsOverFrames = true
    }

    /// What is pending, in order, when frames are handed over (``handOverFrames()``).
    mutating func moveOutput(into list: inout [HTTP2Output.HandedOver]) {
        output.moveHandedOver(into: &list)
    }

    /// HEADERS (or trailers) for the peer: HPACK-encoded, or handed over as they are.
    mutating func writeHeaders(streamID: UInt32, _ headers: [HPACKHeader], endStream: Bool) {
        if output.handsOverFrames {
            output.appendFrame(HTTP2Frame(streamID: streamID, payload: .headers(headers, endStream: endStream)))
        } else {
            encoder.writeHeaders(streamID: streamID, headers: headers, endStream: endStream, into: &output.control)
        }
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

    // MARK: Sending

    /// What a header list sent on an existing stream is.
    private enum HeadersKind {
        /// The head: it goes out now.
        case head
        /// Trailers: they wait behind the stream's DATA.
        case trailers
        /// Our side of the stream is closed (or unknown).
        case refused
    }

    /// Opens a stream (clients) or answers one (servers) with a header list; on a stream
    /// whose head went out, queues trailers after its DATA.
    /// - Returns: the stream id (new for a client request).
    @discardableResult
    public mutating func sendHeaders(streamID: UInt32? = nil, _ headers: [HPACKHeader], endStream: Bool) throws(HTTP2StreamError) -> UInt32 {
        guard state != .closed else { throw .connectionClosed }
        // What we send keeps the rules we hold peers to (RFC 9113 §8.2, §8.3).
        if let problem = HTTP2HeaderValidation.outgoingProblem(headers) { throw .invalidHeaders(problem) }
        let id: UInt32
        if let streamID {
            // In place: copying the stream's record out and back costs more than the rest.
            let kind = streams.modify(streamID) { stream -> HeadersKind in
                guard stream.state.isLocalOpen else { return .refused }
                if stream.state.localHeadSent { return .trailers }
                guard let next = try? stream.state.sendingHeaders(streamID: streamID, endStream: endStream) else { return .refused }
                stream.state = next
                return .head
            } ?? .refused
            switch kind {
            case .head:
                id = streamID
            case .trailers:
                guard outbound.queueTrailers(headers, streamID: streamID, in: &streams) else { throw .streamClosed(streamID) }
                scheduleWrites()
                return streamID
            case .refused:
                throw .streamClosed(streamID)
            }
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
            counters.streamOpened()
        }
        writeHeaders(streamID: id, headers, endStream: endStream)
        keepalive.sentHeadersOrData()
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

    /// DATA bytes queued on all streams and not yet sent.
    public var queuedOutboundBytes: Int { outbound.queuedBytes }

    /// True when the connection's queued DATA is above `maxQueuedOutboundBytes`: senders wait.
    public var isOutboundFull: Bool { outbound.queuedBytes > configuration.maxQueuedOutboundBytes }

    /// True once the connection's queued DATA is back under half of `maxQueuedOutboundBytes`.
    var hasOutboundRoom: Bool { outbound.queuedBytes <= configuration.maxQueuedOutboundBytes / 2 }

    /// Asks for a `.writable` event once the stream's queued bytes drop to `threshold` or
    /// less and the connection's queued DATA is under half of `maxQueuedOutboundBytes`.
    public mutating func notifyWhenBuffered(streamID: UInt32, atMost threshold: Int) {
        let low = streams.modify(streamID) { stream -> Bool in
            if stream.outbound.pendingBytes <= threshold { return true }
            stream.outbound.writableThreshold = threshold
            return false
        }
        guard low == true else { return }
        // Only the connection's queue holds this sender back.
        if hasOutboundRoom { events.append(.writable(streamID: streamID)) } else { streamsWaitingForRoom.append(streamID) }
    }

    /// Tells the senders that waited for the connection's queue to drain that it has.
    mutating func releaseStreamsWaitingForRoom() {
        guard !streamsWaitingForRoom.isEmpty, hasOutboundRoom else { return }
        for id in streamsWaitingForRoom where streams.contains(id) { events.append(.writable(streamID: id)) }
        streamsWaitingForRoom.removeAll()
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
    mutating func reset(_ streamID: UInt32, code: HTTP2ErrorCode, reason: String) {
        guard state != .closed else { return }
        HTTP2FrameEncoder.writeRSTStream(streamID: streamID, code: code, into: &output.control)
        counters.resetSent(code)
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

    mutating func consume(streamID: UInt32, bytes: Int, padding: Int) {
        // In place: a copy of the stream out of the table and back cost its reference counts.
        guard let credit = streams.modify(streamID, { stream in
            inbound.consume(bytes, padding: padding, on: &stream.inbound, remoteOpen: stream.state.isRemoteOpen)
        }) else { return }
        if let increment = credit.stream {
            HTTP2FrameEncoder.writeWindowUpdate(streamID: streamID, increment: increment, into: &output.control)
        }
        // Nothing follows the GOAWAY of a failed connection (fail() closes its streams).
        if let increment = credit.connection, state != .closed {
            HTTP2FrameEncoder.writeWindowUpdate(streamID: 0, increment: increment, into: &output.control)
        }
    }

    mutating func returnConnectionCredit(_ bytes: Int) {
        // Nothing follows the GOAWAY of a failed connection (fail() closes its streams).
        guard state != .closed, let increment = inbound.returnConnectionCredit(bytes) else { return }
        HTTP2FrameEncoder.writeWindowUpdate(streamID: 0, increment: increment, into: &output.control)
    }

    /// Sends a PING; the ack arrives as `.pingAck`.
    public mutating func ping(_ opaque: UInt64) {
        HTTP2FrameEncoder.writePing(opaque, ack: false, into: &output.control)
    }

    /// What ended the connection when it ended on an error or because its socket closed
    /// (not after a graceful drain): streams reset by that end were not reset by the peer.
    public internal(set) var closeError: HTTP2ProtocolError?

    // MARK: Shutdown

    /// Starts a graceful shutdown (RFC 9113 §6.8, `HTTP2Shutdown`): a server sends GOAWAY
    /// with the largest stream id and a PING, and once the PING is acknowledged, GOAWAY with
    /// the last stream actually accepted. Streams already open finish; the state becomes
    /// `.closed` when none is left.
    public mutating func beginGracefulShutdown() {
        beginGracefulShutdown(debugData: "")
    }

    /// The graceful shutdown with debug data in its first GOAWAY ("max_age" at the maximum age).
    mutating func beginGracefulShutdown(debugData: String) {
        guard state == .active || state == .handshaking else { return }
        state = .draining
        shutdown.beginGraceful(role: role, lastPeerStreamID: lastPeerStreamID, debugData: debugData, into: &output.control)
        closeIfDrained()
    }

    /// Ends the connection now with GOAWAY(`code`).
    public mutating func close(code: HTTP2ErrorCode, reason: String) {
        fail(.connection(code, reason))
    }

    /// Ends the connection for `error`: GOAWAY unless `sendingGoAway` is false (a peer that
    /// stopped answering), and every open stream reset with its code.
    mutating func fail(_ error: HTTP2ProtocolError, sendingGoAway: Bool = true) {
        guard state != .closed else { return }
        if sendingGoAway {
            shutdown.sendGoAway(lastStreamID: lastPeerStreamID, code: error.code, reason: error.reason, into: &output.control)
        }
        state = .closed
        closeError = error
        for id in streams.ids {
            closeStream(id)
            events.append(.reset(streamID: id, error.code))
            events.append(.closed(streamID: id))
        }
        events.append(.connectionError(error))
    }

    mutating func closeIfDrained() {
        // A PING of the graceful shutdown cannot be answered once the peer's side is closed.
        guard state == .draining, shutdown.isDrained(openStreams: streams.count) || (peerInputClosed && streams.count == 0) else { return }
        if shutdown.sentLastStreamID == nil {
            shutdown.sendGoAway(lastStreamID: lastPeerStreamID, code: .noError, reason: "", into: &output.control)
        }
        state = .closed
        events.append(.drained)
    }

    // MARK: Stream lifecycle (ends: HTTP2Connection+StreamEnd.swift)

    mutating func finishStream(_ streamID: UInt32) {
        closeStream(streamID)
        events.append(.closed(streamID: streamID))
        closeIfDrained()
    }

    /// Removes a stream, returning connection credit for DATA the application never took.
    mutating func closeStream(_ streamID: UInt32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        if stream.outbound.pendingBytes > 0 {
            outbound.dropped(stream.outbound.pendingBytes)
            releaseStreamsWaitingForRoom()
        }
        if isPeerInitiated(streamID) {
            recentlyClosed.insert(streamID)
            peerStreamCount -= 1
        }
        if stream.inbound.unconsumed > 0 { returnConnectionCredit(stream.inbound.unconsumed) }
    }

    // MARK: Writing DATA

    /// Writes queued DATA (and trailers after it) as the ``HTTP2OutboundScheduler`` hands
    /// it out, one frame per stream per turn, within the stream and connection windows.
    mutating func scheduleWrites() {
        outbound.beginPass()
        while let write = outbound.nextWrite(in: &streams, maxFrameSize: encoder.maxFrameSize) {
            switch write.step {
            case .data(let payload, let endStream):
                output.appendData(streamID: write.streamID, payload, endStream: endStream)
                // DATA we send is work for the peer too: a client that only downloads sends
                // nothing but WINDOW_UPDATE and BDP PINGs, which must not add up to a
                // "flood" while its response streams (grpc-go resets its ping strikes on
                // every send as well).
                abuse.dataSent()
                keepalive.sentHeadersOrData()
            case .trailers(let trailers):
                writeHeaders(streamID: write.streamID, trailers, endStream: true)
                keepalive.sentHeadersOrData()
            case .end:
                // An empty DATA with END_STREAM (an empty buffer allocates nothing).
                output.appendData(streamID: write.streamID, ByteBuffer(capacity: 0), endStream: true)
                keepalive.sentHeadersOrData()
            case nil:
                break
            }
            if write.becameWritable {
                if hasOutboundRoom { events.append(.writable(streamID: write.streamID)) } else { streamsWaitingForRoom.append(write.streamID) }
            }
            if write.endsStream { localEnded(write.streamID) }
        }
        releaseStreamsWaitingForRoom()
        if peerInputClosed { failIfCreditCannotCome() }
    }
}
