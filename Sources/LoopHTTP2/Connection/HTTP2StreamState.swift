/// The state of one stream, as RFC 9113 §5.1 draws it, plus what each side's header
/// sequence has reached (the head may be followed by trailers, a client may first receive
/// informational 1xx heads, §8.1).
///
/// ```
///                              +--------+
///                      send PP |        | recv PP
///                     ,--------+  idle  +--------.
///                    /         |        |         \
///                   v          +--------+          v
///            +----------+          |           +----------+
///            |          |          | send H /  |          |
///     ,------+ reserved |          | recv H    | reserved +------.
///     |      | (local)  |          |           | (remote) |      |
///     |      +---+------+          v           +------+---+      |
///     |          |             +--------+             |          |
///     |          |     recv ES |        | send ES     |          |
///     |   send H |     ,-------+  open  +-------.     | recv H   |
///     |          |    /        |        |        \    |          |
///     |          v   v         +---+----+         v   v          |
///     |      +----------+          |           +----------+      |
///     |      |   half-  |          |           |   half-  |      |
///     |      |  closed  |          | send R /  |  closed  |      |
///     |      | (remote) |          | recv R    | (local)  |      |
///     |      +----+-----+          |           +-----+----+      |
///     |           |                |                 |           |
///     |           | send ES /      |       recv ES / |           |
///     |           |  send R /      v        send R / |           |
///     |           |  recv R    +--------+   recv R   |           |
///     | send R /  `----------->|        |<-----------'  send R / |
///     | recv R                 | closed |               recv R   |
///     `----------------------->|        |<-----------------------'
///                              +--------+
///
///     send:  endpoint sends this frame        H:  HEADERS frame (with implied CONTINUATION frames)
///     recv:  endpoint receives this frame     ES: END_STREAM flag
///                                             R:  RST_STREAM frame
///     PP: PUSH_PROMISE frame (with implied CONTINUATION frames); the reserved states exist
///     only with server push, which Loop never enables (SETTINGS_ENABLE_PUSH = 0, §8.4).
/// ```
///
/// Each transition is a function that returns the next state or throws the exact stream or
/// connection error. What cannot happen has no representation: a half-closed (local) stream
/// has sent its head (END_STREAM rides on it or after it); a half-closed (remote) stream has
/// received its final head (END_STREAM on an informational head is an error).
///
/// ```swift
/// var state = HTTP2StreamState.idle.openedByReceiving(endStream: false)   // a request head
/// state = try state.receivingData(streamID: 1, endStream: true)            // .halfClosedRemote
/// state = state.sendingHeaders(endStream: true)                            // .closed
/// ```
enum HTTP2StreamState: Equatable, Sendable {
    /// Our side's header sequence.
    enum LocalHead: Equatable, Sendable {
        /// Nothing sent yet (a server that has not answered).
        case pending
        /// The head went out; further HEADERS are trailers.
        case sent
    }

    /// The peer's header sequence.
    enum RemoteHead: Equatable, Sendable {
        /// Nothing received yet (a client waiting for the response).
        case pending
        /// Only informational (1xx) heads so far (§8.1).
        case informational
        /// The final head arrived: DATA may follow, further HEADERS are trailers.
        case final
    }

    case idle
    case reservedLocal
    case reservedRemote
    case open(local: LocalHead, remote: RemoteHead)
    /// We sent END_STREAM; the peer may still send.
    case halfClosedLocal(remote: RemoteHead)
    /// The peer sent END_STREAM; we may still send.
    case halfClosedRemote(local: LocalHead)
    case closed

    // MARK: Opening (idle → open / half-closed)

    /// The peer's request head opens the stream (server side: "recv H", with "recv ES" when
    /// the request has no body).
    func openedByReceiving(endStream: Bool) -> HTTP2StreamState {
        endStream ? .halfClosedRemote(local: .pending) : .open(local: .pending, remote: .final)
    }

    /// Our request head opens the stream (client side: "send H", with "send ES").
    func openedBySending(endStream: Bool) -> HTTP2StreamState {
        endStream ? .halfClosedLocal(remote: .pending) : .open(local: .sent, remote: .pending)
    }

    // MARK: What a side may still do

    /// The peer may still send frames that carry data (not half-closed remote, not closed).
    var isRemoteOpen: Bool {
        switch self {
        case .open, .halfClosedLocal: return true
        case .idle, .reservedLocal, .reservedRemote, .halfClosedRemote, .closed: return false
        }
    }

    /// We may still send (not half-closed local, not closed).
    var isLocalOpen: Bool {
        switch self {
        case .open, .halfClosedRemote: return true
        case .idle, .reservedLocal, .reservedRemote, .halfClosedLocal, .closed: return false
        }
    }

    /// How far the peer's header sequence has come (`.final` once the peer ended its side:
    /// END_STREAM only comes with or after the final head).
    var remoteHead: RemoteHead {
        switch self {
        case .open(_, let remote), .halfClosedLocal(let remote): return remote
        case .halfClosedRemote, .closed: return .final
        case .idle, .reservedLocal, .reservedRemote: return .pending
        }
    }

    /// Whether our head went out (true once we ended our side).
    var localHeadSent: Bool {
        switch self {
        case .open(let local, _), .halfClosedRemote(let local): return local == .sent
        case .halfClosedLocal, .closed: return true
        case .idle, .reservedLocal, .reservedRemote: return false
        }
    }

    // MARK: Receiving

    /// HEADERS from the peer on this stream: an informational head, the final head, or
    /// trailers (after the final head).
    /// - Throws: STREAM_CLOSED after the peer's END_STREAM (§5.1); PROTOCOL_ERROR for
    ///   trailers without END_STREAM or an informational head with END_STREAM (§8.1).
    func receivingHeaders(streamID: UInt32, informational: Bool, endStream: Bool) throws(HTTP2ProtocolError) -> HTTP2StreamState {
        guard isRemoteOpen else {
            throw .stream(streamID, .streamClosed, "HEADERS after END_STREAM (RFC 9113 §5.1)")
        }
        if remoteHead == .final {
            guard endStream else {
                throw .stream(streamID, .protocolError, "trailers without END_STREAM (RFC 9113 §8.1)")
            }
            return endingRemote()
        }
        if informational {
            guard !endStream else {
                throw .stream(streamID, .protocolError, "informational response with END_STREAM (RFC 9113 §8.1)")
            }
            return withRemoteHead(.informational)
        }
        return endStream ? endingRemote() : withRemoteHead(.final)
    }

    /// DATA from the peer.
    /// - Throws: STREAM_CLOSED after the peer's END_STREAM (§5.1); PROTOCOL_ERROR before
    ///   the final head (§8.1).
    func receivingData(streamID: UInt32, endStream: Bool) throws(HTTP2ProtocolError) -> HTTP2StreamState {
        guard isRemoteOpen else {
            throw .stream(streamID, .streamClosed, "DATA after END_STREAM (RFC 9113 §5.1)")
        }
        guard remoteHead == .final else {
            throw .stream(streamID, .protocolError, "DATA before the final HEADERS (RFC 9113 §8.1)")
        }
        return endStream ? endingRemote() : self
    }

    // MARK: Sending

    /// Our head goes out on a stream the peer opened ("send H"; with "send ES" too when
    /// `endStream`). Trailers and END_STREAM on DATA are queued behind data first and
    /// change the state when they leave (``sendingEndStream()``).
    /// - Throws: `streamClosed` when our side has ended or the head was already sent.
    func sendingHeaders(streamID: UInt32, endStream: Bool) throws(HTTP2StreamError) -> HTTP2StreamState {
        guard case .open(.pending, let remote) = self else {
            guard case .halfClosedRemote(.pending) = self else { throw .streamClosed(streamID) }
            return endStream ? .closed : .halfClosedRemote(local: .sent)
        }
        return endStream ? .halfClosedLocal(remote: remote) : .open(local: .sent, remote: remote)
    }

    /// END_STREAM left on DATA or trailers ("send ES").
    func sendingEndStream() -> HTTP2StreamState {
        switch self {
        case .open(_, let remote): return .halfClosedLocal(remote: remote)
        case .halfClosedRemote: return .closed
        case .idle, .reservedLocal, .reservedRemote, .halfClosedLocal, .closed: return self
        }
    }

    // MARK: Private

    private func endingRemote() -> HTTP2StreamState {
        switch self {
        case .open(let local, _): return .halfClosedRemote(local: local)
        case .halfClosedLocal: return .closed
        case .idle, .reservedLocal, .reservedRemote, .halfClosedRemote, .closed: return self
        }
    }

    private func withRemoteHead(_ head: RemoteHead) -> HTTP2StreamState {
        switch self {
        case .open(let local, _): return .open(local: local, remote: head)
        case .halfClosedLocal: return .halfClosedLocal(remote: head)
        case .idle, .reservedLocal, .reservedRemote, .halfClosedRemote, .closed: return self
        }
    }
}
