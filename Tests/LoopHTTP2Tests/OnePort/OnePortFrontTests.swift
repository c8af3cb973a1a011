import Testing
import Loop
@testable import LoopHTTP2

/// OnePortFront on an embedded channel: what the HTTP/2 handler sends once the front told
/// HTTP/2 from the client's first bytes.
@Suite struct OnePortFrontTests {
    private final class NoStreams: HTTP2StreamDelegate {
        func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {}
    }

    private func onePortServer() -> EmbeddedChannel {
        let handler = HTTP2ConnectionHandler(configuration: .init(role: .server), delegate: NoStreams())
        handler.front = OnePortFront(http2: handler, options: HTTP1Options(), tls: nil, deadlines: nil)
        return EmbeddedChannel(handlers: [handler])
    }

    private func sent(_ channel: EmbeddedChannel) throws -> [FrameSummary] {
        var buffers: [ByteBuffer] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { buffers.append(buffer) }
        var decoder = HTTP2FrameDecoder(role: .client)
        return decodeAll(joined(buffers), with: &decoder).map(FrameSummary.init)
    }

    /// RFC 9113 §3.4: the server's SETTINGS are its first frame. Decided on the preface, they
    /// leave at the end of that read, in the same write as the answer to the client's
    /// SETTINGS that came with it (one sendto, not two).
    @Test func rfc9113Section3_4TheSettingsLeaveFirstWithTheAnswerToWhatCameWithThePreface() throws {
        let channel = onePortServer()
        #expect(try sent(channel) == [], "nothing before the client's first bytes")
        try channel.writeInbound(joined([prefaceBytes(), settingsFrame()]))
        let frames = try sent(channel)
        if case .settings = frames.first {} else { Issue.record("the first frame is \(String(describing: frames.first))") }
        #expect(frames.last == .settingsAck, "\(frames)")
        #expect(channel.flushRequests == 1, "\(frames)")
    }

    /// The handshake rule: a client that sends the preface alone and waits (as grpc-go waits
    /// for the server's SETTINGS) gets them at once.
    @Test func aPrefaceAloneGetsTheSettingsAtOnce() throws {
        let channel = onePortServer()
        try channel.writeInbound(prefaceBytes())
        let frames = try sent(channel)
        if case .settings = frames.first {} else { Issue.record("sent \(frames)") }
        #expect(!frames.contains(.settingsAck), "\(frames)")
        #expect(channel.flushRequests == 1)
    }
}
