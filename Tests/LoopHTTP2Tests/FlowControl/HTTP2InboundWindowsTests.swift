import Testing
@testable import LoopHTTP2

/// Inbound flow control (RFC 9113 §5.2, §6.9) without a connection: bytes received and
/// consumed in, WINDOW_UPDATE increments out.
@Suite struct HTTP2InboundWindowsTests {
    private func configuration(window: UInt32 = 1000, connectionWindow: UInt32 = 65_535, maximum: UInt32? = nil) -> HTTP2Configuration {
        var configuration = HTTP2Configuration(role: .server)
        configuration.initialStreamWindowSize = window
        configuration.connectionWindowSize = connectionWindow
        configuration.maximumStreamWindowSize = maximum
        return configuration
    }

    @Test func rfc9113Section6_9_2TheConnectionWindowIsOpenedToTheConfiguredSizeAtStart() {
        var windows = HTTP2InboundWindows(configuration: configuration(connectionWindow: 16 << 20))
        #expect(windows.openConnectionWindow() == UInt32(16 << 20) - 65_535)
        var small = HTTP2InboundWindows(configuration: configuration(connectionWindow: 65_535))
        #expect(small.openConnectionWindow() == nil)
    }

    @Test func rfc9113Section6_9DataBeyondAWindowIsAFlowControlError() throws {
        var windows = HTTP2InboundWindows(configuration: configuration())
        var stream = HTTP2StreamInbound(receiveWindow: 1000)
        try HTTP2InboundWindows.receive(1000, on: &stream, streamID: 1)
        #expect(throws: HTTP2ProtocolError.stream(1, .flowControlError, "DATA exceeds the stream window (RFC 9113 §6.9)")) {
            try HTTP2InboundWindows.receive(1, on: &stream, streamID: 1)
        }
        try windows.receiveOnConnection(65_535)
        #expect(throws: HTTP2ProtocolError.connection(.flowControlError, "DATA exceeds the connection window (RFC 9113 §6.9)")) {
            try windows.receiveOnConnection(1)
        }
    }

    @Test func creditGoesBackOnlyAsTheApplicationConsumesInHalves() throws {
        var windows = HTTP2InboundWindows(configuration: configuration(connectionWindow: 4000))
        _ = windows.openConnectionWindow()
        var stream = HTTP2StreamInbound(receiveWindow: 1000)
        try windows.receiveOnConnection(1000)
        try HTTP2InboundWindows.receive(1000, on: &stream, streamID: 1)
        stream.unconsumed = 1000
        var credit = windows.consume(400, padding: 0, on: &stream, remoteOpen: true)
        #expect(credit.stream == nil && credit.connection == nil)  // less than half of each target
        credit = windows.consume(200, padding: 0, on: &stream, remoteOpen: true)
        #expect(credit.stream == 600 && credit.connection == nil)
        credit = windows.consume(400, padding: 0, on: &stream, remoteOpen: true)
        #expect(credit.stream == nil && credit.connection == nil)
        #expect(stream.unconsumed == 0)
        // Never more than was delivered.
        credit = windows.consume(5000, padding: 0, on: &stream, remoteOpen: true)
        #expect(credit.stream == nil && credit.connection == nil)
    }

    @Test func noStreamCreditOnceThePeerEndedItsSide() throws {
        var windows = HTTP2InboundWindows(configuration: configuration())
        var stream = HTTP2StreamInbound(receiveWindow: 40_000)
        try windows.receiveOnConnection(40_000)
        try HTTP2InboundWindows.receive(40_000, on: &stream, streamID: 1)
        stream.unconsumed = 40_000
        let credit = windows.consume(40_000, padding: 0, on: &stream, remoteOpen: false)
        #expect(credit.stream == nil)
        #expect(credit.connection == 40_000)  // more than half of the 65,535 connection window
    }

    @Test func paddingIsReturnedWithTheBytes() throws {
        var windows = HTTP2InboundWindows(configuration: configuration())
        var stream = HTTP2StreamInbound(receiveWindow: 65_535)
        try windows.receiveOnConnection(40_000)
        try HTTP2InboundWindows.receive(40_000, on: &stream, streamID: 1)
        let credit = windows.consume(0, padding: 40_000, on: &stream, remoteOpen: true)
        #expect(credit.stream == 40_000 && credit.connection == 40_000)
    }

    @Test func bandwidthDelayProbesOnlyForBigFramesAndGrowsEveryStream() {
        var windows = HTTP2InboundWindows(configuration: configuration(window: 16_384, maximum: 1 << 20))
        let small = windows.shouldProbe(afterReceiving: 100, now: 0)
        let big = windows.shouldProbe(afterReceiving: 16_384, now: 1_000)
        let again = windows.shouldProbe(afterReceiving: 16_384, now: 2_000)
        #expect(!small)  // small messages pay no PING
        #expect(big)
        #expect(!again)  // one probe at a time
        #expect(windows.isProbeAck(HTTP2InboundWindows.probePingData))
        #expect(!windows.isProbeAck(42))
        var streams = HTTP2StreamTable()
        streams[1] = HTTP2Stream(state: .open(local: .pending, remote: .final), sendWindow: 0, receiveWindow: 16_384)
        let grown = windows.probeAcknowledged(now: 1_000_000, currentStreamWindow: 16_384, streams: &streams)
        #expect(grown?.streamWindow == 65_536)
        #expect(streams[1]?.inbound.receiveWindow.target == 65_536)
    }

    @Test func fixedWindowsNeverProbe() {
        var windows = HTTP2InboundWindows(configuration: configuration(window: 16_384, maximum: nil))
        let probe = windows.shouldProbe(afterReceiving: 16_384, now: 0)
        #expect(!probe)
        #expect(!windows.isProbeAck(HTTP2InboundWindows.probePingData))
    }
}
