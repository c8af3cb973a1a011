import Testing
import Loop
@testable import LoopHTTP2

/// The connection's outbound budget (`HTTP2Configuration.maxQueuedOutboundBytes`): per-stream
/// water marks alone multiply by the number of streams, so senders also wait while the
/// connection's queued DATA is above the budget, and go on once it is under half of it.
@Suite struct HTTP2OutboundBudgetTests {
    /// A server whose client keeps every stream window shut, with `streams` requests open
    /// and answered with a head.
    private static func server(budget: Int, streams: Int) throws -> PeerHarness {
        var server = PeerHarness.server { $0.maxQueuedOutboundBytes = budget }
        server.handshake([HTTP2Setting(HTTP2Setting.initialWindowSize, 0)])
        for index in 0..<streams {
            let id = UInt32(2 * index + 1)
            server.sendRequest(streamID: id, endStream: true)
            try server.connection.sendHeaders(streamID: id, responseHead(), endStream: false)
        }
        _ = server.sent()
        _ = server.events()
        return server
    }

    @Test func queuedBytesAreCountedAcrossStreamsAndReleasedOnSendAndOnClose() throws {
        var server = try Self.server(budget: 1000, streams: 3)
        for id: UInt32 in [1, 3, 5] { try server.connection.sendData(streamID: id, ByteBuffer(bytes: patternBytes(400)), endStream: false) }
        #expect(server.connection.queuedOutboundBytes == 1200)
        #expect(server.connection.isOutboundFull)
        server.receive(windowUpdateFrame(streamID: 1, increment: 150))
        #expect(server.connection.queuedOutboundBytes == 1050)
        server.connection.resetStream(3, code: .cancel)   // its 400 bytes will never leave
        #expect(server.connection.queuedOutboundBytes == 650)
        #expect(!server.connection.isOutboundFull)
    }

    @Test func aWaitingSenderGoesOnOnlyOnceTheConnectionIsUnderHalfItsBudget() throws {
        var server = try Self.server(budget: 1000, streams: 3)
        for id: UInt32 in [1, 3, 5] { try server.connection.sendData(streamID: id, ByteBuffer(bytes: patternBytes(400)), endStream: false) }
        // Stream 1's own queue is low, but the connection is over budget: it waits.
        server.connection.notifyWhenBuffered(streamID: 1, atMost: 1000)
        #expect(server.events() == [])
        // Stream 3 waits for its own queue to fall to 100, and for the connection's.
        server.connection.notifyWhenBuffered(streamID: 3, atMost: 100)
        server.receive(windowUpdateFrame(streamID: 3, increment: 300))   // 900 queued: still over half
        #expect(!server.events().contains(.writable(3)))
        #expect(!server.events().contains(.writable(1)))
        server.receive(windowUpdateFrame(streamID: 5, increment: 400))   // 500 queued: half
        let events = server.events()
        #expect(events.contains(.writable(1)) && events.contains(.writable(3)), "\(events)")
    }

    @Test func aSenderWithRoomIsToldAtOnce() throws {
        var server = try Self.server(budget: 1000, streams: 1)
        try server.connection.sendData(streamID: 1, ByteBuffer(bytes: patternBytes(100)), endStream: false)
        server.connection.notifyWhenBuffered(streamID: 1, atMost: 200)
        #expect(server.events() == [.writable(1)])
    }

    @Test func aThousandStreamsCannotQueueMoreThanTheBudgetThroughWritersThatWait() throws {
        // Each stream's sender queues 64 KiB and waits as isAboveWaterMark says (what
        // HTTP2Writer and gRPC calls do): with 1,000 streams and windows shut, the
        // connection holds the budget plus at most one write per stream that saw room.
        let budget = 4 << 20
        var server = try Self.server(budget: budget, streams: 1000)
        var waiting = 0
        for index in 0..<1000 {
            let id = UInt32(2 * index + 1)
            if server.connection.isOutboundFull || server.connection.bufferedBytes(streamID: id) > 256 * 1024 {
                waiting += 1
                continue
            }
            try server.connection.sendData(streamID: id, ByteBuffer(bytes: patternBytes(64 * 1024)), endStream: false)
        }
        #expect(server.connection.queuedOutboundBytes <= budget + 64 * 1024)
        #expect(waiting == 1000 - (budget / (64 * 1024) + 1))
    }
}
