import Testing
import Loop
@testable import LoopHTTP2

/// The timeouts after the handshake (HTTP2Timeouts): idle, unfinished header block, stalled
/// output. Each fires only when its condition held without a break for its limit.
@Suite struct HTTP2TimeoutsTests {
    private static let second: UInt64 = 1_000_000_000

    private static func timeouts(idle: Duration? = .seconds(300), headerBlock: Duration? = .seconds(10),
                                 writeStall: Duration? = .seconds(30)) -> HTTP2Timeouts {
        var configuration = HTTP2Configuration(role: .server)
        configuration.idleTimeout = idle
        configuration.headerBlockTimeout = headerBlock
        configuration.writeStallTimeout = writeStall
        return HTTP2Timeouts(configuration: configuration)
    }

    @Test func serversHaveAllThreeClientsOnlyTheHeaderBlockOne() {
        let server = HTTP2Configuration(role: .server)
        #expect(server.idleTimeout == .seconds(300) && server.headerBlockTimeout == .seconds(10) && server.writeStallTimeout == .seconds(30))
        let client = HTTP2Configuration(role: .client)
        #expect(client.idleTimeout == nil && client.writeStallTimeout == nil && client.headerBlockTimeout == .seconds(10))
    }

    @Test func idleFiresAfterTheLimitWithNoStreamAndStartsOverWithAStream() {
        var timeouts = Self.timeouts()
        timeouts.observe(now: 0, idle: true, headerBlockPending: false, outputWaiting: false, outputMoved: false)
        #expect(timeouts.nextDeadline == 300 * Self.second)
        timeouts.observe(now: 299 * Self.second, idle: true, headerBlockPending: false, outputWaiting: false, outputMoved: false)
        #expect(timeouts.expired(now: 299 * Self.second) == nil)
        timeouts.observe(now: 299 * Self.second, idle: false, headerBlockPending: false, outputWaiting: false, outputMoved: false)
        #expect(timeouts.nextDeadline == nil)
        timeouts.observe(now: 400 * Self.second, idle: true, headerBlockPending: false, outputWaiting: false, outputMoved: false)
        #expect(timeouts.expired(now: 699 * Self.second) == nil)
        let expiry = timeouts.expired(now: 700 * Self.second)
        #expect(expiry == .idle(.seconds(300)))
        #expect(expiry?.code == .noError)
    }

    @Test func anUnfinishedHeaderBlockFiresFirst() {
        var timeouts = Self.timeouts()
        timeouts.observe(now: 0, idle: true, headerBlockPending: true, outputWaiting: false, outputMoved: false)
        #expect(timeouts.nextDeadline == 10 * Self.second)
        let expiry = timeouts.expired(now: 10 * Self.second)
        #expect(expiry == .headerBlock(.seconds(10)))
        #expect(expiry?.code == .enhanceYourCalm)
        #expect(expiry?.reason == "header block not finished within 10.0 seconds")
    }

    @Test func aWriteStallStartsOverWhenOutputMoves() {
        var timeouts = Self.timeouts()
        timeouts.observe(now: 0, idle: false, headerBlockPending: false, outputWaiting: true, outputMoved: false)
        timeouts.observe(now: 20 * Self.second, idle: false, headerBlockPending: false, outputWaiting: true, outputMoved: true)
        #expect(timeouts.nextDeadline == 50 * Self.second)
        timeouts.observe(now: 49 * Self.second, idle: false, headerBlockPending: false, outputWaiting: true, outputMoved: false)
        #expect(timeouts.expired(now: 49 * Self.second) == nil)
        #expect(timeouts.expired(now: 50 * Self.second) == .writeStall(.seconds(30)))
    }

    @Test func nilTurnsATimeoutOff() {
        var timeouts = Self.timeouts(idle: nil, headerBlock: nil, writeStall: nil)
        #expect(timeouts.isEmpty)
        timeouts.observe(now: 0, idle: true, headerBlockPending: true, outputWaiting: true, outputMoved: false)
        #expect(timeouts.nextDeadline == nil)
        #expect(timeouts.expired(now: .max) == nil)
    }

    // MARK: The decoder's view of a header block

    @Test func rfc9113Section6_10AHeaderBlockIsPendingUntilEndHeaders() {
        var server = PeerHarness.server()
        server.handshake()
        #expect(!server.connection.isInHeaderBlock)
        server.receive(headersFrame(streamID: 1, block: server.block(requestHead()), endHeaders: false))
        #expect(server.connection.isInHeaderBlock)
        server.receive(continuationFrame(streamID: 1, block: [], endHeaders: true))
        #expect(!server.connection.isInHeaderBlock)
        // Part of a HEADERS frame counts too (a request head sent a byte at a time).
        let frame = headersFrame(streamID: 3, block: server.block(requestHead()), endStream: true)
        server.receive(frame.getSlice(at: frame.readerIndex, length: 6)!)
        #expect(server.connection.isInHeaderBlock)
        server.receive(frame.getSlice(at: frame.readerIndex + 6, length: frame.readableBytes - 6)!)
        #expect(!server.connection.isInHeaderBlock)
        // Part of any other frame does not.
        server.receive(pingFrame(1).getSlice(at: 0, length: 8)!)
        #expect(!server.connection.isInHeaderBlock)
    }
}
