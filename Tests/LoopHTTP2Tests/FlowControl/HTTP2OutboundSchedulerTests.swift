import Testing
import Loop
@testable import LoopHTTP2

/// Outbound DATA scheduling and send windows (RFC 9113 §5.2, §6.9) without a connection:
/// streams in a table, writes out.
@Suite struct HTTP2OutboundSchedulerTests {
    /// A table with open streams whose heads went out, each with `window` bytes of credit.
    private func table(_ ids: [UInt32], window: Int = 65_535) -> HTTP2StreamTable {
        var streams = HTTP2StreamTable()
        for id in ids {
            streams[id] = HTTP2Stream(state: .open(local: .sent, remote: .final), sendWindow: window, receiveWindow: 65_535)
        }
        return streams
    }

    private enum Written: Equatable {
        case data(UInt32, Int, end: Bool)
        case trailers(UInt32)
        case end(UInt32)
        case writable(UInt32)
    }

    /// Runs one pass and summarises what it wrote.
    private func pass(_ scheduler: inout HTTP2OutboundScheduler, _ streams: inout HTTP2StreamTable, maxFrameSize: Int = 16_384) -> [Written] {
        var written: [Written] = []
        scheduler.beginPass()
        while let write = scheduler.nextWrite(in: &streams, maxFrameSize: maxFrameSize) {
            switch write.step {
            case .data(let payload, let end): written.append(.data(write.streamID, payload.readableBytes, end: end))
            case .trailers: written.append(.trailers(write.streamID))
            case .end: written.append(.end(write.streamID))
            case nil: break
            }
            if write.becameWritable { written.append(.writable(write.streamID)) }
        }
        return written
    }

    private func bytes(_ count: Int) -> ByteBuffer { ByteBuffer(bytes: [UInt8](repeating: 7, count: count)) }

    @Test func rfc9113Section6_9DataIsSplitByTheStreamWindowAndTheFrameSize() {
        var streams = table([1], window: 20_000)
        var scheduler = HTTP2OutboundScheduler()
        #expect(scheduler.queueData(bytes(30_000), endStream: true, streamID: 1, in: &streams))
        // 16,384 (frame size), then 3,616 (what is left of the stream's 20,000 window): a
        // stream still ready after its turn takes another at the back of the line.
        #expect(pass(&scheduler, &streams) == [.data(1, 16_384, end: false), .data(1, 3_616, end: false)])
        #expect(pass(&scheduler, &streams) == [])  // waits for stream credit
        #expect(streams[1]?.outbound.pendingBytes == 10_000)
        try? scheduler.streamWindowUpdate(10_000, streamID: 1, in: &streams)
        #expect(pass(&scheduler, &streams) == [.data(1, 10_000, end: true)])
        #expect(scheduler.connectionWindow.size == 65_535 - 30_000)
    }

    @Test func rfc9113Section6_9ConnectionWindowHoldsEveryStreamAndKeepsTheirOrder() throws {
        var streams = table([1, 3])
        var scheduler = HTTP2OutboundScheduler()
        _ = scheduler.queueData(bytes(65_535), endStream: false, streamID: 1, in: &streams)
        _ = scheduler.queueData(bytes(100), endStream: true, streamID: 3, in: &streams)
        var written: [Written] = []
        for _ in 0..<6 { written += pass(&scheduler, &streams) }
        // Stream 3's 100 bytes went out in the first round; stream 1 then takes the rest.
        #expect(written.filter { if case .data(3, _, _) = $0 { return true }; return false } == [.data(3, 100, end: true)])
        #expect(scheduler.connectionWindow.size == 0)
        #expect(streams[1]?.outbound.pendingBytes == 100)
        try scheduler.connectionWindowUpdate(100)
        #expect(pass(&scheduler, &streams) == [.data(1, 100, end: false)])
    }

    @Test func oneFramePerStreamPerTurnRoundRobin() {
        var streams = table([1, 3, 5])
        var scheduler = HTTP2OutboundScheduler()
        for id in [UInt32(1), 3, 5] { _ = scheduler.queueData(bytes(40_000), endStream: false, streamID: id, in: &streams) }
        let written = pass(&scheduler, &streams)
        #expect(Array(written.prefix(3)) == [.data(1, 16_384, end: false), .data(3, 16_384, end: false), .data(5, 16_384, end: false)])
    }

    @Test func trailersAndEndStreamWaitBehindTheData() {
        var streams = table([1, 3], window: 10)
        var scheduler = HTTP2OutboundScheduler()
        _ = scheduler.queueData(bytes(20), endStream: false, streamID: 1, in: &streams)
        #expect(scheduler.queueTrailers([HPACKHeader("grpc-status", "0")], streamID: 1, in: &streams))
        _ = scheduler.queueData(ByteBuffer(), endStream: true, streamID: 3, in: &streams)
        #expect(pass(&scheduler, &streams) == [.data(1, 10, end: false), .end(3)])
        try? scheduler.streamWindowUpdate(10, streamID: 1, in: &streams)
        #expect(pass(&scheduler, &streams) == [.data(1, 10, end: false), .trailers(1)])
    }

    @Test func nothingIsQueuedOnAStreamWhoseSideEndedOrWhoseHeadIsNotSent() {
        var streams = table([1])
        streams[3] = HTTP2Stream(state: .open(local: .pending, remote: .final), sendWindow: 100, receiveWindow: 100)
        streams[5] = HTTP2Stream(state: .halfClosedLocal(remote: .final), sendWindow: 100, receiveWindow: 100)
        var scheduler = HTTP2OutboundScheduler()
        #expect(!scheduler.queueData(bytes(1), endStream: false, streamID: 3, in: &streams))
        #expect(!scheduler.queueData(bytes(1), endStream: false, streamID: 5, in: &streams))
        #expect(!scheduler.queueData(bytes(1), endStream: false, streamID: 7, in: &streams))
        #expect(scheduler.queueData(bytes(1), endStream: true, streamID: 1, in: &streams))
        #expect(!scheduler.queueData(bytes(1), endStream: false, streamID: 1, in: &streams))  // END_STREAM is queued
    }

    @Test func writableIsReportedWhenTheQueueFallsToTheThreshold() {
        var streams = table([1])
        var scheduler = HTTP2OutboundScheduler()
        _ = scheduler.queueData(bytes(40_000), endStream: false, streamID: 1, in: &streams)
        streams.modify(1) { $0.outbound.writableThreshold = 10_000 }
        let written = pass(&scheduler, &streams)
        #expect(written == [.data(1, 16_384, end: false), .data(1, 16_384, end: false), .writable(1), .data(1, 7_232, end: false)])
    }

    @Test func pausedSchedulerWritesNothingUntilResumed() {
        var streams = table([1])
        var scheduler = HTTP2OutboundScheduler()
        _ = scheduler.queueData(bytes(10), endStream: true, streamID: 1, in: &streams)
        let pausing = scheduler.setPaused(true)
        #expect(!pausing)
        #expect(pass(&scheduler, &streams) == [])
        let resuming = scheduler.setPaused(false)
        #expect(resuming)
        #expect(pass(&scheduler, &streams) == [.data(1, 10, end: true)])
    }

    @Test func rfc9113Section6_9_2InitialWindowChangesMoveEveryStreamWindow() throws {
        var streams = table([1, 3], window: 100)
        var scheduler = HTTP2OutboundScheduler()
        _ = scheduler.queueData(bytes(300), endStream: false, streamID: 1, in: &streams)
        #expect(pass(&scheduler, &streams) == [.data(1, 100, end: false)])
        try scheduler.initialWindowSizeChanged(by: -150, in: &streams)
        #expect(streams[1]?.outbound.sendWindow.size == -150)
        #expect(streams[3]?.outbound.sendWindow.size == -50)
        try scheduler.initialWindowSizeChanged(by: 250, in: &streams)
        #expect(pass(&scheduler, &streams) == [.data(1, 100, end: false)])
    }

    @Test func rfc9113Section6_9_1WindowsPast2To31Minus1AreFlowControlErrors() {
        var streams = table([1], window: 0x7FFF_FFFF)
        var scheduler = HTTP2OutboundScheduler()
        #expect(throws: HTTP2ProtocolError.stream(1, .flowControlError, "stream window exceeds 2^31-1 (RFC 9113 §6.9.1)")) {
            try scheduler.streamWindowUpdate(1, streamID: 1, in: &streams)
        }
        #expect(throws: HTTP2ProtocolError.connection(.flowControlError, "connection window exceeds 2^31-1 (RFC 9113 §6.9.1)")) {
            try scheduler.connectionWindowUpdate(0x7FFF_FFFF)
        }
        #expect(throws: HTTP2ProtocolError.connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE makes stream 1's window exceed 2^31-1 (RFC 9113 §6.9.2)")) {
            try scheduler.initialWindowSizeChanged(by: 1, in: &streams)
        }
    }
}
