import Testing
import Loop
@testable import LoopHTTP2

/// How HTTP2ConnectionHandler ends a connection. A clean end (GOAWAY NO_ERROR): GOAWAY, then
/// a half-close (FIN), and the socket closes when the peer closes or after the linger
/// timeout; closing at once made the kernel reset the connection when the peer's next bytes
/// arrived, and a peer that saw the reset first lost our GOAWAY (h2spec http2/7/1: GOAWAY
/// then PING). After a connection error: GOAWAY, then close at once.
@Suite struct HTTP2ConnectionHandlerCloseTests {
    private final class NoStreams: HTTP2StreamDelegate {
        func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {}
    }

    /// Everything the handler wrote since the last call, as frames.
    private func sentFrames(_ channel: EmbeddedChannel, _ decoder: inout HTTP2FrameDecoder) throws -> [FrameSummary] {
        var buffers: [ByteBuffer] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { buffers.append(buffer) }
        return decodeAll(joined(buffers), with: &decoder).map(FrameSummary.init)
    }

    private func startedServer() throws -> (EmbeddedChannel, HTTP2FrameDecoder) {
        let channel = EmbeddedChannel(handlers: [HTTP2ConnectionHandler(configuration: .init(role: .server), delegate: NoStreams())])
        var decoder = HTTP2FrameDecoder(role: .client)
        try channel.writeInbound(joined([prefaceBytes(), settingsFrame()]))
        _ = try sentFrames(channel, &decoder)  // SETTINGS, SETTINGS ACK
        return (channel, decoder)
    }

    @Test func rfc9113Section6_8PeerGoAwayWithUnknownCodeGetsGoAwayThenHalfCloseNotAnImmediateClose() throws {
        var (channel, decoder) = try startedServer()

        // RFC 9113 §7: an unknown error code triggers nothing special; no stream is open, so
        // the server ends the connection with its own GOAWAY.
        try channel.writeInbound(goAwayFrame(lastStreamID: 0, code: HTTP2ErrorCode(rawValue: 0xff)))
        #expect(try sentFrames(channel, &decoder) == [.goAway(last: 0, .noError)])
        #expect(channel.closeRequests == [.output])  // FIN after the GOAWAY; still reading
        #expect(channel.isActive)

        // The peer's PING, already on its way: read and ignored, never a reset or a reply.
        try channel.writeInbound(pingFrame(0x6832_7370_6563_0000))
        #expect(try sentFrames(channel, &decoder) == [])
        #expect(channel.isActive)

        // A peer that never closes its side does not keep the socket.
        channel.eventLoop.advanceTime(by: HTTP2ConnectionHandler.lingerTimeout)
        #expect(channel.closeRequests == [.output, .all])
        #expect(!channel.isActive)
    }

    @Test func rfc9113Section6_8AGracefulShutdownLingersAfterItsFinalGoAway() throws {
        let handler = HTTP2ConnectionHandler(configuration: .init(role: .server), delegate: NoStreams())
        let channel = EmbeddedChannel(handlers: [handler])
        var decoder = HTTP2FrameDecoder(role: .client)
        try channel.writeInbound(joined([prefaceBytes(), settingsFrame()]))
        _ = try sentFrames(channel, &decoder)

        handler.beginGracefulShutdown()
        channel.eventLoop.run()
        #expect(try sentFrames(channel, &decoder) == [.goAway(last: 0x7FFF_FFFF, .noError), .ping(HTTP2Shutdown.pingData, ack: false)])
        // The PING's ACK ends the first phase: the final GOAWAY names the last stream
        // processed, which a client with a request in flight relies on to retry it; it must
        // not be lost to a reset, so the socket half-closes and lingers.
        try channel.writeInbound(pingFrame(HTTP2Shutdown.pingData, ack: true))
        #expect(try sentFrames(channel, &decoder) == [.goAway(last: 0, .noError)])
        #expect(channel.closeRequests == [.output])
        channel.eventLoop.advanceTime(by: HTTP2ConnectionHandler.lingerTimeout)
        #expect(channel.closeRequests == [.output, .all])
    }

    @Test func rfc9113Section5_4_1AConnectionErrorClosesRightAfterItsGoAway() throws {
        var (channel, decoder) = try startedServer()

        // A PING on a stream is a connection error (RFC 9113 §6.7): GOAWAY(PROTOCOL_ERROR),
        // then the connection closes at once (§5.4.1); nothing more is read from such a peer.
        try channel.writeInbound(pingFrame(1, streamID: 1))
        #expect(try sentFrames(channel, &decoder) == [.goAway(last: 0, .protocolError)])
        #expect(channel.closeRequests == [.all])
        #expect(!channel.isActive)
    }
}
