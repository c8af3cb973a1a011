import FuzzSupport
import Loop
import LoopHTTP2

/// What the connection fuzzer checks after each call into an `HTTP2Connection`: it drains
/// the output and the events, parses the output as the peer would, and keeps what it needs
/// to check the next call against the last (docs in `ConnectionFuzzer`).
struct ConnectionInvariants {
    let configuration: HTTP2Configuration
    /// Whether DATA delivered must stay within the initial windows (no consumption, no growth).
    let checksWindows: Bool
    /// Streams the connection opened itself (a client's requests).
    var localStreams: Set<UInt32> = []
    var shutdownStarted = false

    /// Parses our output as the peer does (a client's output starts with the preface).
    private var peer: HTTP2FrameDecoder
    private var inputBytes = 0
    private var outputBytes = 0
    private var sawReady = false
    private var wasClosed = false
    /// The code of the GOAWAY last written, if it was the last frame written.
    private var lastFrameGoAway: HTTP2ErrorCode?
    private var closedStreams = Set<UInt32>()
    private var delivered: [UInt32: Int] = [:]
    private var deliveredTotal = 0

    /// Output allowed before any input (SETTINGS, WINDOW_UPDATE, a client's requests) and per
    /// input byte: the smallest frame a peer sends is 9 bytes and provokes at most a
    /// response of a few dozen (an answered request, a PING ack, a reset).
    static let outputBudget = 8192
    static let outputPerInputByte = 32

    init(configuration: HTTP2Configuration, checksWindows: Bool) {
        self.configuration = configuration
        self.checksWindows = checksWindows
        peer = HTTP2FrameDecoder(role: configuration.role == .client ? .server : .client,
                                 maxHeaderListSize: 1 << 28,
                                 headerBlockLimits: HTTP2HeaderBlockLimits(maxHeaderListSize: 1 << 28,
                                                                           maxContinuationFrames: 1 << 28,
                                                                           maxBlockSize: 1 << 28))
        peer.maxFrameSize = (1 << 24) - 1
        // The peer may announce any SETTINGS_HEADER_TABLE_SIZE; our encoder may use up to it.
        peer.hpack.setMaximumTableSizeLimit(Int(UInt32.max))
    }

    /// Checks the connection after a call that fed it `inputBytes` peer bytes; returns the
    /// events for the harness to answer.
    @discardableResult
    mutating func afterCall(_ connection: inout HTTP2Connection, inputBytes: Int) -> [HTTP2ConnectionEvent] {
        self.inputBytes += inputBytes
        let events = connection.takeEvents()
        if wasClosed {
            FuzzCheck.check(connection.state == .closed, "a closed connection became \(connection.state)")
            FuzzCheck.check(events.isEmpty && connection.output.isEmpty, "a closed connection still produced \(events)")
        }
        var output: [ByteBuffer] = []
        connection.drainOutput { output.append($0) }
        for buffer in output { parse(buffer) }
        FuzzCheck.check(outputBytes <= Self.outputBudget + Self.outputPerInputByte * self.inputBytes,
                        "\(outputBytes) bytes written for \(self.inputBytes) bytes read")

        for event in events { check(event, connection) }
        if connection.state == .closed {
            wasClosed = true
            FuzzCheck.check(connection.openStreamCount == 0, "closed with \(connection.openStreamCount) streams open")
        }
        if !sawReady && !shutdownStarted {
            FuzzCheck.check(connection.state == .handshaking || connection.state == .closed,
                            "\(connection.state) before the peer's SETTINGS")
        }
        if let limit = configuration.maxConcurrentStreams {
            FuzzCheck.check(connection.openStreamCount <= Int(limit) + localStreams.count,
                            "\(connection.openStreamCount) streams open, limit \(limit)")
        }
        return events
    }

    private mutating func parse(_ buffer: ByteBuffer) {
        outputBytes += buffer.readableBytes
        peer.append(buffer)
        while true {
            let frame: HTTP2Frame?
            do {
                frame = try peer.nextFrame()
            } catch {
                FuzzCheck.check(false, "our output does not parse: \(error)")
                return
            }
            guard let frame else { break }
            FuzzCheck.check(lastFrameGoAway == nil || lastFrameGoAway == .noError,
                            "\(frame) written after GOAWAY(\(lastFrameGoAway!))")
            if case .goAway(_, let code, _) = frame.payload {
                lastFrameGoAway = code
            } else if lastFrameGoAway != nil {
                // Frames may follow a graceful GOAWAY(NO_ERROR): streams finish.
                lastFrameGoAway = nil
            }
        }
    }

    private mutating func check(_ event: HTTP2ConnectionEvent, _ connection: HTTP2Connection) {
        switch event {
        case .ready:
            FuzzCheck.check(!sawReady, "ready twice")
            sawReady = true
        case .connectionError(let error):
            FuzzCheck.check(error.streamID == nil, "connection error \(error) names a stream")
            FuzzCheck.check(connection.state == .closed, "\(connection.state) after connection error \(error)")
            FuzzCheck.check(lastFrameGoAway == error.code,
                            "connection error \(error) but the last frame written is not GOAWAY(\(error.code))")
        case .headers(let streamID, _, _):
            checkPeerFrame(on: streamID, "HEADERS")
        case .data(let streamID, let payload, _):
            checkPeerFrame(on: streamID, "DATA")
            delivered[streamID, default: 0] += payload.readableBytes
            deliveredTotal += payload.readableBytes
            if checksWindows {
                FuzzCheck.check(delivered[streamID]! <= Int(configuration.initialStreamWindowSize),
                                "\(delivered[streamID]!) bytes delivered on stream \(streamID) past its window")
                FuzzCheck.check(deliveredTotal <= Int(configuration.connectionWindowSize),
                                "\(deliveredTotal) bytes delivered past the connection window")
            }
        case .reset(let streamID, _):
            FuzzCheck.check(!closedStreams.contains(streamID), "RST_STREAM reported on stream \(streamID) after it closed")
        case .closed(let streamID):
            FuzzCheck.check(closedStreams.insert(streamID).inserted, "stream \(streamID) closed twice")
        case .streamError, .writable, .headerListTooLarge, .pingAck, .goAway, .drained:
            break
        }
    }

    /// HEADERS and DATA reach only streams the peer may use: for a server, the client's
    /// odd ids; for a client, its own requests (push is disabled). Never after the close.
    private func checkPeerFrame(on streamID: UInt32, _ kind: String) {
        FuzzCheck.check(!closedStreams.contains(streamID), "\(kind) delivered on stream \(streamID) after it closed")
        if configuration.role == .client {
            FuzzCheck.check(localStreams.contains(streamID), "\(kind) delivered on stream \(streamID), never requested")
        } else {
            FuzzCheck.check(streamID & 1 == 1, "\(kind) delivered on even stream \(streamID)")
        }
    }
}
