import Loop
import LoopHTTP2

/// One HTTP/2 connection of a channel: routes stream events to its calls. Loop-bound.
// @unchecked Sendable: Created, fed and read on its channel's loop only; other threads reach it
// through onLoop hops.
final class GRPCClientConnection: HTTP2StreamDelegate, @unchecked Sendable {
    let loop: EventLoop
    private(set) var handler: HTTP2ConnectionHandler?
    private var calls: [UInt32: GRPCClientCall] = [:]
    /// Set when the server sent GOAWAY or the connection failed: no new calls here.
    private(set) var goingAway = false
    /// Called (on the loop) when the connection stops taking new calls.
    var onGoingAway: (() -> Void)?
    /// Called (on the loop) when the server answered our keepalive PINGs with
    /// GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings").
    var onTooManyPings: (() -> Void)?
    /// The server said "too_many_pings" (kept for a channel that sets `onTooManyPings` only
    /// after that GOAWAY already arrived).
    private(set) var toldTooManyPings = false
    /// The connection's limit on unfinished response messages, shared by its calls.
    let partialMessages: GRPCPartialMessageBudget

    init(loop: EventLoop, configuration: GRPCChannelConfiguration) {
        self.loop = loop
        self.partialMessages = GRPCPartialMessageBudget(limit: configuration.maxPartialMessageBytesPerConnection,
                                                        streamWindow: Int(configuration.http2.initialStreamWindowSize),
                                                        connectionWindow: Int(configuration.http2.connectionWindowSize))
    }

    func attach(_ handler: HTTP2ConnectionHandler) {
        self.handler = handler
    }

    /// Lets go of what refers back to this connection once its socket closed (on the loop): the
    /// handler holds it as its delegate, and the channel's going-away callback captures it.
    /// Keeping either would keep the connection (and through the handler its HTTP/2 state and
    /// buffers) alive for as long as the process runs.
    func detach() {
        handler = nil
        onGoingAway = nil
        onTooManyPings = nil
    }

    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS (unlimited when it sent none).
    var maxConcurrentStreams: Int {
        handler?.peerMaxConcurrentStreams.map(Int.init) ?? Int.max
    }

    /// A call that could not start on this connection: nothing of it left the client, so
    /// the channel may start it on another connection (gRPC's transparent retry).
    struct NotOpened: Error {
        let status: GRPCStatus
    }

    /// Opens a stream for `call` with `headers` (on the loop).
    /// - Throws: ``NotOpened`` when the connection is going away (GOAWAY arrived after the
    ///   call picked it) or the stream could not be opened.
    func open(_ call: GRPCClientCall, headers: [HPACKHeader]) throws(NotOpened) {
        guard let handler, !goingAway else {
            throw NotOpened(status: GRPCStatus(.unavailable, "the connection is going away"))
        }
        do {
            let stream = try handler.openStream(headers, endStream: false)
            call.attach(stream)
            calls[stream.id] = call
        } catch {
            throw NotOpened(status: GRPCStatus(.unavailable, "could not open a stream: \(error)"))
        }
    }

    func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
        calls[stream.id]?.receiveHeaders(headers, endStream: endStream)
    }

    func streamData(_ stream: HTTP2StreamHandle, _ data: ByteBuffer, endStream: Bool) {
        guard let call = calls[stream.id] else {
            stream.consumed(data.readableBytes)
            return
        }
        call.receiveData(data, endStream: endStream)
    }

    func streamReset(_ stream: HTTP2StreamHandle, code: HTTP2ErrorCode) {
        guard let call = calls[stream.id] else { return }
        if let reason = handler?.keepaliveFailure {
            // The keepalive closed the connection: the server stopped answering.
            call.connectionLost(GRPCStatus(.unavailable, reason))
        } else if let error = handler?.closeError {
            // The connection ended (its socket closed, or an error on either side): not the
            // server's answer to this call, so UNAVAILABLE, as gRPC reports a lost transport.
            call.connectionLost(error)
        } else {
            call.receiveReset(code)
        }
    }

    func streamClosed(_ stream: HTTP2StreamHandle) {
        calls.removeValue(forKey: stream.id)?.streamClosed()
    }

    func streamWritable(_ stream: HTTP2StreamHandle) {
        calls[stream.id]?.writable()
    }

    func connectionGoingAway(_ connection: HTTP2ConnectionHandler, lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: String) {
        if code == .enhanceYourCalm && debugData == "too_many_pings" {
            toldTooManyPings = true
            let callback = onTooManyPings
            onTooManyPings = nil
            callback?()
        }
        markGoingAway()
    }

    func connectionFailed(_ connection: HTTP2ConnectionHandler, error: HTTP2ProtocolError) {
        markGoingAway()
    }

    func markGoingAway() {
        guard !goingAway else { return }
        goingAway = true
        let callback = onGoingAway
        onGoingAway = nil
        callback?()
    }
}
