/// One stream's inbound flow control: its receive window and the DATA bytes delivered to
/// the application and not yet consumed.
struct HTTP2StreamInbound {
    var receiveWindow: ReceiveWindow
    /// DATA bytes delivered to the application and not yet consumed.
    var unconsumed = 0

    init(receiveWindow: Int) {
        self.receiveWindow = ReceiveWindow(receiveWindow)
    }
}

/// Inbound flow control (RFC 9113 §5.2, §6.9): the connection's receive window, each
/// stream's (in its ``HTTP2StreamInbound``), credit returned as the application consumes —
/// never on mere receipt, so a slow consumer stops the peer (docs/architecture.md,
/// backpressure) — and window growth from measured bandwidth-delay (BDP pings, as grpc-go
/// does). No I/O: it returns the WINDOW_UPDATE increments and PINGs to send.
///
/// ```swift
/// var windows = HTTP2InboundWindows(configuration: .init(role: .server))
/// try HTTP2InboundWindows.receive(1000, on: &stream.inbound, streamID: 1)   // DATA arrived
/// stream.inbound.unconsumed += 1000
/// let credit = windows.consume(1000, padding: 0, on: &stream.inbound, remoteOpen: true)
/// // send WINDOW_UPDATEs for credit.stream and credit.connection when not nil
/// ```
struct HTTP2InboundWindows {
    /// WINDOW_UPDATE increments to send after a consumption.
    struct Credit {
        var stream: UInt32?
        var connection: UInt32?
    }

    /// The connection's receive window (65,535 at first, §6.9.2, opened wider at start).
    private(set) var connectionWindow = ReceiveWindow(65_535)
    /// The connection window the configuration asks for.
    private let configuredConnectionWindow: Int
    /// Grows stream windows for big transfers (nil when the configuration fixes them).
    private var bandwidthDelay: BandwidthDelayEstimator?

    init(configuration: HTTP2Configuration) {
        configuredConnectionWindow = Int(configuration.connectionWindowSize)
        if let limit = configuration.maximumStreamWindowSize, limit > configuration.initialStreamWindowSize {
            bandwidthDelay = BandwidthDelayEstimator(initialWindow: Int(configuration.initialStreamWindowSize),
                                                     maximumWindow: Int(min(limit, 0x7FFF_FFFF)))
        }
    }

    /// The connection WINDOW_UPDATE that opens the configured connection window at start.
    mutating func openConnectionWindow() -> UInt32? {
        connectionWindow.grow(to: configuredConnectionWindow)
    }

    // MARK: Receiving

    /// Charges `length` flow-controlled bytes (payload and padding) of a DATA frame to the
    /// connection window, whatever stream it is on.
    /// - Throws: FLOW_CONTROL_ERROR when the peer sent more than the window (§6.9).
    mutating func receiveOnConnection(_ length: Int) throws(HTTP2ProtocolError) {
        guard connectionWindow.receive(length) else {
            throw .connection(.flowControlError, "DATA exceeds the connection window (RFC 9113 §6.9)")
        }
    }

    /// Charges `length` flow-controlled bytes to a stream's window.
    /// - Throws: a FLOW_CONTROL_ERROR stream error when the peer exceeded it (§6.9).
    static func receive(_ length: Int, on stream: inout HTTP2StreamInbound, streamID: UInt32) throws(HTTP2ProtocolError) {
        guard stream.receiveWindow.receive(length) else {
            throw .stream(streamID, .flowControlError, "DATA exceeds the stream window (RFC 9113 §6.9)")
        }
    }

    // MARK: Returning credit

    /// The application consumed `bytes` of a stream's DATA (`padding` bytes are returned
    /// with them, never delivered). The stream's credit is returned only while the peer may
    /// still send on it; the connection's always. Never more than was delivered: a closed
    /// stream's unconsumed bytes went back when it closed.
    mutating func consume(_ bytes: Int, padding: Int, on stream: inout HTTP2StreamInbound, remoteOpen: Bool) -> Credit {
        let bytes = min(bytes, stream.unconsumed)
        stream.unconsumed -= bytes
        var credit = Credit()
        if remoteOpen { credit.stream = stream.receiveWindow.consume(bytes + padding) }
        credit.connection = returnConnectionCredit(bytes + padding)
        return credit
    }

    /// Returns connection credit for bytes that will never be consumed (DATA on a closed
    /// stream, a closing stream's unconsumed bytes); the increment to send, if it is time.
    mutating func returnConnectionCredit(_ bytes: Int) -> UInt32? {
        guard bytes > 0 else { return nil }
        return connectionWindow.consume(bytes)
    }

    // MARK: Bandwidth-delay growth

    /// Opaque data of the BDP probe PINGs, so their ACKs are told apart.
    static let probePingData = BandwidthDelayEstimator.pingData

    /// Accounts a DATA frame for the bandwidth-delay estimate; true when a probe PING should
    /// go out now.
    mutating func shouldProbe(afterReceiving length: Int, now: UInt64) -> Bool {
        bandwidthDelay?.dataReceived(length, now: now) == true
    }

    /// Whether `opaque` acknowledges one of our probes.
    func isProbeAck(_ opaque: UInt64) -> Bool {
        opaque == HTTP2InboundWindows.probePingData && bandwidthDelay != nil
    }

    /// A probe's ACK arrived at `now`. When the transfer is window-bound, raises every open
    /// stream's window from `currentStreamWindow` to a larger one, widens the connection
    /// window to match, and returns the new SETTINGS_INITIAL_WINDOW_SIZE to announce (the
    /// peer adds the difference to every stream, §6.9.2) and the connection WINDOW_UPDATE.
    mutating func probeAcknowledged(now: UInt64, currentStreamWindow: Int, streams: inout HTTP2StreamTable) -> (streamWindow: UInt32, connectionIncrement: UInt32?)? {
        guard let window = bandwidthDelay?.probeAcknowledged(now: now) else { return nil }
        let delta = window - currentStreamWindow
        guard delta > 0 else { return nil }
        for id in streams.ids { streams.modify(id) { $0.inbound.receiveWindow.raise(by: delta) } }
        // The peer's view of a window may never pass 2^31-1 (RFC 9113 §6.9.1).
        let increment = connectionWindow.grow(to: min(max(connectionWindow.target, window * 4), 0x7FFF_FFFF))
        return (UInt32(window), increment)
    }
}
