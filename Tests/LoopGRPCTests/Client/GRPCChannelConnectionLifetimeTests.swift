import Testing
import Loop
@testable import LoopGRPC

/// What a channel's connection holds once its socket closed. The HTTP/2 handler holds the
/// connection as its delegate, and the channel's going-away callback captures it; a connection
/// that kept either after the close was never freed, nor (through the handler) its HTTP/2
/// state and buffers (LeakSanitizer under `make test-sanitizers`: about 10 KB per connection
/// in InteropClient).
@Suite struct GRPCChannelConnectionLifetimeTests {
    @Test func aClosedConnectionLetsGoOfWhatRefersBackToIt() async throws {
        try await withEchoServer { channel, _ in
            let connection = try await channel.acquire(waitForReady: true)
            channel.release(connection)
            #expect(await onLoop(connection.loop) { connection.handler != nil && connection.onGoingAway != nil })
            // Returns once the socket closed, after the channel's own close callbacks ran.
            await channel.close()
            #expect(await onLoop(connection.loop) { connection.handler == nil },
                    "the closed connection still holds its HTTP2ConnectionHandler, which holds it: neither is ever freed")
            #expect(await onLoop(connection.loop) { connection.onGoingAway == nil },
                    "the closed connection still holds the going-away callback, which captures it")
        }
    }
}
