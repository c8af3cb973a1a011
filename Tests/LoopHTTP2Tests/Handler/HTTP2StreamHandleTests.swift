import Testing
import Loop
@testable import LoopHTTP2

/// HTTP2StreamHandle keeps its connection handler alive: a handle used after the connection
/// closed fails with a clear error instead of touching freed memory.
@Suite struct HTTP2StreamHandleTests {
    private final class NoStreams: HTTP2StreamDelegate {
        func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {}
    }

    @Test func aHandleUsedAfterItsConnectionIsGoneFailsClearly() throws {
        var channel: EmbeddedChannel? = EmbeddedChannel()
        var handler: HTTP2ConnectionHandler? = HTTP2ConnectionHandler(configuration: .init(role: .client), delegate: NoStreams())
        weak let weakHandler = handler
        try channel!.pipeline.addHandler(handler!)
        var handle: HTTP2StreamHandle? = try handler!.openStream(requestHead(method: "POST"), endStream: false)
        #expect(handle!.id == 1)
        try handle!.sendData(ByteBuffer(string: "before"), endStream: false)

        // The connection goes away: the channel closes and nothing else holds the handler.
        _ = try channel!.finish()
        channel = nil
        handler = nil
        #expect(weakHandler != nil)  // the handle keeps it alive, so using it is safe

        #expect(throws: HTTP2StreamError.connectionClosed) { try handle!.sendData(ByteBuffer(string: "after"), endStream: true) }
        #expect(throws: HTTP2StreamError.connectionClosed) { try handle!.sendTrailers([HPACKHeader("x-done", "1")]) }
        #expect(handle!.bufferedBytes == 0)
        handle!.reset(.cancel)  // nothing to reset: ignored
        handle!.consumed(100)   // nothing to credit: ignored
        #expect(String(describing: HTTP2StreamError.connectionClosed) == "HTTP2StreamError.connectionClosed: the connection is closed")

        handle = nil
        #expect(weakHandler == nil)  // and it is freed with the last handle: no leak
    }
}
