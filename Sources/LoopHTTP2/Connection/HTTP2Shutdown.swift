import Loop

/// GOAWAY and the graceful two-phase shutdown (RFC 9113 §6.8): the last stream ids sent and
/// received, and the PING that separates the two phases.
///
/// A server that shuts down gracefully first sends GOAWAY with the largest stream id
/// (2^31-1) and a PING: requests already in flight toward it are still accepted. When the
/// PING's ACK comes back, every request the client sent before seeing the first GOAWAY has
/// arrived, so a second GOAWAY names the last stream actually accepted. Streams at or below
/// it finish; the connection closes when none is left. Frames on streams above a GOAWAY we
/// sent are ignored, never answered. A received GOAWAY refuses our streams above its last
/// stream id (REFUSED_STREAM: the peer never processed them, a client may retry).
///
/// ```swift
/// var shutdown = HTTP2Shutdown()
/// shutdown.beginGraceful(role: .server, lastPeerStreamID: 7, into: &control)  // GOAWAY(2^31-1) + PING
/// if shutdown.pingAcknowledged(HTTP2Shutdown.pingData) {
///     shutdown.sendGoAway(lastStreamID: 7, code: .noError, reason: "", into: &control)
/// }
/// ```
struct HTTP2Shutdown {
    /// The last stream id of the GOAWAY we sent (the lowest, if we sent several).
    private(set) var sentLastStreamID: UInt32?
    /// The last stream id of the GOAWAY the peer sent (the lowest, if it sent several).
    private(set) var receivedLastStreamID: UInt32?
    /// The first phase's PING is waiting for its ACK.
    private(set) var isPingOutstanding = false

    /// Opaque data of the shutdown PING ("LoopGOAW").
    static let pingData: UInt64 = 0x4C6F_6F70_474F_4157

    // MARK: Sending

    /// Writes GOAWAY. A later GOAWAY never raises the last stream id (§6.8).
    mutating func sendGoAway(lastStreamID: UInt32, code: HTTP2ErrorCode, reason: String, into control: inout ByteBuffer) {
        let last = min(lastStreamID, sentLastStreamID ?? lastStreamID)
        sentLastStreamID = last
        HTTP2FrameEncoder.writeGoAway(lastStreamID: last, code: code, debugData: reason, into: &control)
    }

    /// Starts a graceful shutdown. A server announces GOAWAY(2^31-1) and sends the PING; a
    /// client, which accepts no streams, sends its final GOAWAY at once. `debugData` goes in
    /// that first GOAWAY ("max_age" when the connection reached its maximum age).
    mutating func beginGraceful(role: HTTP2Configuration.Role, lastPeerStreamID: UInt32, debugData: String = "", into control: inout ByteBuffer) {
        if role == .server {
            sendGoAway(lastStreamID: 0x7FFF_FFFF, code: .noError, reason: debugData, into: &control)
            isPingOutstanding = true
            HTTP2FrameEncoder.writePing(HTTP2Shutdown.pingData, ack: false, into: &control)
        } else {
            sendGoAway(lastStreamID: lastPeerStreamID, code: .noError, reason: debugData, into: &control)
        }
    }

    /// A PING ACK arrived; true when it ends the first phase (send the final GOAWAY now).
    mutating func pingAcknowledged(_ opaque: UInt64) -> Bool {
        guard opaque == HTTP2Shutdown.pingData && isPingOutstanding else { return false }
        isPingOutstanding = false
        return true
    }

    /// A stream the peer opened after the last stream id of the GOAWAY we sent: its frames
    /// are ignored, not answered (§6.8).
    func isAboveSentGoAway(_ streamID: UInt32) -> Bool {
        guard let last = sentLastStreamID else { return false }
        return streamID > last
    }

    // MARK: Receiving

    /// Records the peer's GOAWAY; the last stream id in force is the lowest seen.
    mutating func received(lastStreamID: UInt32) {
        receivedLastStreamID = min(lastStreamID, receivedLastStreamID ?? lastStreamID)
    }

    /// Whether we may open new streams: not after the peer's GOAWAY.
    var allowsNewLocalStreams: Bool { receivedLastStreamID == nil }

    /// Draining is over once no stream is left and the first phase's PING came back.
    func isDrained(openStreams: Int) -> Bool {
        openStreams == 0 && !isPingOutstanding
    }
}
