import Testing
import Loop
@testable import LoopHTTP2

/// Frames decoded from raw bytes, each frame rule with its exact error (RFC 9113 §4, §6).
@Suite struct HTTP2FrameDecoderTests {
    /// Decodes all complete frames; throws the decoder's error.
    private func decode(_ buffers: ByteBuffer..., role: HTTP2FrameDecoder.Role = .client,
                        configure: (inout HTTP2FrameDecoder) -> Void = { _ in }) throws(HTTP2ProtocolError) -> [HTTP2Frame] {
        var decoder = HTTP2FrameDecoder(role: role)
        configure(&decoder)
        decoder.append(joined(buffers))
        var frames: [HTTP2Frame] = []
        while let frame = try decoder.nextFrame() { frames.append(frame) }
        return frames
    }

    /// The error decoding `buffers` throws, or nil.
    private func error(_ buffers: ByteBuffer..., role: HTTP2FrameDecoder.Role = .client,
                       configure: (inout HTTP2FrameDecoder) -> Void = { _ in }) -> HTTP2ProtocolError? {
        var decoder = HTTP2FrameDecoder(role: role)
        configure(&decoder)
        decoder.append(joined(buffers))
        do {
            while try decoder.nextFrame() != nil {}
            return nil
        } catch {
            return error
        }
    }

    private func expectConnectionError(_ error: HTTP2ProtocolError?, _ code: HTTP2ErrorCode, _ section: String,
                                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(error?.code == code, "\(section)", sourceLocation: sourceLocation)
        #expect(error?.isConnectionError == true, "\(section): a connection error", sourceLocation: sourceLocation)
        #expect(error?.reason.isEmpty == false, sourceLocation: sourceLocation)
    }

    // MARK: Preface (RFC 9113 §3.4)

    @Test func serverDecoderConsumesThePrefaceThenFrames() throws {
        let frames = try decode(prefaceBytes(), settingsFrame([HTTP2Setting(HTTP2Setting.enablePush, 0)]), role: .server)
        #expect(frames.map(FrameSummary.init) == [.settings([HTTP2Setting(HTTP2Setting.enablePush, 0)])])
    }

    @Test func rfc9113Section3_4InvalidPrefaceIsProtocolError() {
        let err = error(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), role: .server)
        expectConnectionError(err, .protocolError, "RFC 9113 §3.4")
        #expect(err?.reason.contains("§3.4") == true)
    }

    @Test func rfc9113Section3_4PrefaceMismatchIsDetectedBeforeItIsComplete() {
        // "PRI * HTTP/2.0\r\n\r\nSX": wrong at byte 20 of 24.
        var bytes = Array(http2ClientPreface.prefix(20))
        bytes[19] = UInt8(ascii: "X")
        expectConnectionError(error(ByteBuffer(bytes: bytes), role: .server), .protocolError, "RFC 9113 §3.4")
    }

    @Test func prefaceAndFramesArriveOneByteAtATime() throws {
        let all = joined([prefaceBytes(), settingsFrame(), pingFrame(7)])
        var decoder = HTTP2FrameDecoder(role: .server)
        var frames: [HTTP2Frame] = []
        for byte in all.readableBytesView {
            decoder.append(ByteBuffer(bytes: [byte]))
            while let frame = try decoder.nextFrame() { frames.append(frame) }
        }
        #expect(frames.map(FrameSummary.init) == [.settings([]), .ping(7, ack: false)])
        #expect(!decoder.hasBufferedBytes)
    }

    @Test func clientDecoderExpectsNoPreface() throws {
        #expect(try decode(settingsFrame()).map(FrameSummary.init) == [.settings([])])
    }

    // MARK: Frame size (RFC 9113 §4.2)

    @Test func rfc9113Section4_2FrameLargerThanMaxFrameSizeIsFrameSizeError() {
        // Detected from the header alone, before the payload arrives.
        let header = rawFrameHeader(length: 16_385, type: HTTP2FrameType.data, streamID: 1)
        expectConnectionError(error(header), .frameSizeError, "RFC 9113 §4.2")
        // Unknown types are bound by the limit too.
        expectConnectionError(error(rawFrameHeader(length: 20_000, type: 0xEE, streamID: 0)), .frameSizeError, "RFC 9113 §4.2")
    }

    @Test func rfc9113Section4_2FrameOfExactlyMaxFrameSizeIsAccepted() throws {
        let frames = try decode(dataFrame(streamID: 1, patternBytes(16_384)))
        #expect(frames.map(FrameSummary.init) == [.data(1, length: 16_384, endStream: false)])
    }

    @Test func rfc9113Section4_2LargerAnnouncedMaxFrameSizeAcceptsLargerFrames() throws {
        let frames = try decode(dataFrame(streamID: 1, patternBytes(100_000)), configure: { $0.maxFrameSize = 100_000 })
        #expect(frames.map(FrameSummary.init) == [.data(1, length: 100_000, endStream: false)])
        let err = error(rawFrameHeader(length: 100_001, type: HTTP2FrameType.data, streamID: 1), configure: { $0.maxFrameSize = 100_000 })
        expectConnectionError(err, .frameSizeError, "RFC 9113 §4.2")
    }

    // MARK: Unknown types and the reserved bit (RFC 9113 §4.1, §5.5)

    @Test func rfc9113Section5_5UnknownFrameTypesAreIgnored() throws {
        let frames = try decode(rawFrame(type: 0xFA, flags: 0xFF, streamID: 3, payload: [1, 2, 3]),
                                rawFrame(type: 0x0A, streamID: 0, payload: patternBytes(100)),
                                pingFrame(42))
        #expect(frames.map(FrameSummary.init) == [.ping(42, ack: false)])
    }

    @Test func rfc9113Section4_1ReservedBitOfTheStreamIdIsIgnored() throws {
        let frames = try decode(dataFrame(streamID: 0x8000_0001, [9]), windowUpdateFrame(streamID: 0x8000_0003, increment: 0x8000_0010))
        #expect(frames.map(FrameSummary.init) == [.data(1, length: 1, endStream: false), .windowUpdate(3, increment: 0x10)])
    }

    @Test func rfc9113Section4_1UndefinedFlagsAreIgnored() throws {
        let frames = try decode(rawFrame(type: HTTP2FrameType.data, flags: 0xF6, streamID: 1, payload: [1, 2]),
                                rawFrame(type: HTTP2FrameType.ping, flags: 0xFE, streamID: 0, payload: bigEndianBytes(UInt64(5))))
        #expect(frames.map(FrameSummary.init) == [.data(1, length: 2, endStream: false), .ping(5, ack: false)])
    }

    // MARK: Stream-0 rules

    @Test(arguments: [
        (HTTP2FrameType.data, [UInt8](), "RFC 9113 §6.1"),
        (HTTP2FrameType.headers, [0x82], "RFC 9113 §6.2"),
        (HTTP2FrameType.priority, [0, 0, 0, 0, 16], "RFC 9113 §6.3"),
        (HTTP2FrameType.rstStream, [0, 0, 0, 8], "RFC 9113 §6.4"),
    ])
    func streamFramesOnStreamZeroAreProtocolErrors(type: UInt8, payload: [UInt8], section: String) {
        let err = error(rawFrame(type: type, flags: HTTP2FrameFlags.endHeaders, streamID: 0, payload: payload))
        expectConnectionError(err, .protocolError, section)
        #expect(err?.reason.contains(section.dropFirst(9)) == true, "reason names \(section): \(String(describing: err))")
    }

    @Test(arguments: [
        (HTTP2FrameType.settings, [UInt8](), "RFC 9113 §6.5"),
        (HTTP2FrameType.ping, [0, 0, 0, 0, 0, 0, 0, 0], "RFC 9113 §6.7"),
        (HTTP2FrameType.goAway, [0, 0, 0, 0, 0, 0, 0, 0], "RFC 9113 §6.8"),
    ])
    func connectionFramesOnAStreamAreProtocolErrors(type: UInt8, payload: [UInt8], section: String) {
        let err = error(rawFrame(type: type, streamID: 1, payload: payload))
        expectConnectionError(err, .protocolError, section)
        #expect(err?.reason.contains(section.dropFirst(9)) == true, "reason names \(section): \(String(describing: err))")
    }

    // MARK: Fixed lengths

    @Test func rfc9113Section6_5SettingsLengthNotAMultipleOfSixIsFrameSizeError() {
        expectConnectionError(error(rawFrame(type: HTTP2FrameType.settings, streamID: 0, payload: [0, 4, 0, 0, 0xFF])),
                              .frameSizeError, "RFC 9113 §6.5")
        expectConnectionError(error(rawFrame(type: HTTP2FrameType.settings, streamID: 0, payload: [UInt8](repeating: 0, count: 7))),
                              .frameSizeError, "RFC 9113 §6.5")
    }

    @Test func rfc9113Section6_5SettingsAckWithPayloadIsFrameSizeError() {
        let err = error(rawFrame(type: HTTP2FrameType.settings, flags: HTTP2FrameFlags.ack, streamID: 0, payload: [0, 4, 0, 0, 0, 1]))
        expectConnectionError(err, .frameSizeError, "RFC 9113 §6.5")
    }

    @Test func rfc9113Section6_5SettingsParametersAreDecodedInOrderIncludingUnknownOnes() throws {
        let parameters = [HTTP2Setting(HTTP2Setting.initialWindowSize, 1000), HTTP2Setting(0x99, 7),
                          HTTP2Setting(HTTP2Setting.initialWindowSize, 2000)]
        #expect(try decode(settingsFrame(parameters)).map(FrameSummary.init) == [.settings(parameters)])
        #expect(try decode(settingsAckFrame()).map(FrameSummary.init) == [.settingsAck])
    }

    @Test(arguments: [0, 7, 9, 16])
    func rfc9113Section6_7PingNotEightBytesIsFrameSizeError(length: Int) {
        let err = error(rawFrame(type: HTTP2FrameType.ping, streamID: 0, payload: [UInt8](repeating: 1, count: length)))
        expectConnectionError(err, .frameSizeError, "RFC 9113 §6.7")
    }

    @Test(arguments: [0, 3, 5, 8])
    func rfc9113Section6_4RstStreamNotFourBytesIsFrameSizeError(length: Int) {
        let err = error(rawFrame(type: HTTP2FrameType.rstStream, streamID: 1, payload: [UInt8](repeating: 0, count: length)))
        expectConnectionError(err, .frameSizeError, "RFC 9113 §6.4")
    }

    @Test(arguments: [(UInt32(0), 3), (0, 5), (1, 0), (1, 8)])
    func rfc9113Section6_9WindowUpdateNotFourBytesIsFrameSizeError(streamID: UInt32, length: Int) {
        let err = error(rawFrame(type: HTTP2FrameType.windowUpdate, streamID: streamID, payload: [UInt8](repeating: 1, count: length)))
        expectConnectionError(err, .frameSizeError, "RFC 9113 §6.9")
    }

    @Test func rfc9113Section6_8GoAwayShorterThanEightBytesIsFrameSizeError() {
        let err = error(rawFrame(type: HTTP2FrameType.goAway, streamID: 0, payload: [0, 0, 0, 1, 0, 0, 0]))
        expectConnectionError(err, .frameSizeError, "RFC 9113 §6.8")
    }

    @Test func rfc9113Section6_8GoAwayCarriesLastStreamCodeAndDebugData() throws {
        let frames = try decode(goAwayFrame(lastStreamID: 0x8000_0007, code: .enhanceYourCalm, debugData: "slow down"))
        guard case .goAway(let last, let code, let debug)? = frames.first?.payload else {
            Issue.record("expected GOAWAY, got \(frames)")
            return
        }
        #expect(last == 7)  // reserved bit dropped
        #expect(code == .enhanceYourCalm)
        #expect(String(decoding: debug.readableBytesView, as: UTF8.self) == "slow down")
    }

    @Test func rfc9113Section6_3PriorityNotFiveBytesIsAStreamFrameSizeError() {
        let err = error(rawFrame(type: HTTP2FrameType.priority, streamID: 3, payload: [0, 0, 0, 1]))
        #expect(err == .stream(3, .frameSizeError, err?.reason ?? ""))
        #expect(err?.reason.contains("§6.3") == true)
    }

    @Test func rfc9113Section6_9WindowUpdateOfZero() {
        // On the connection: a connection error; on a stream: a stream error.
        expectConnectionError(error(windowUpdateFrame(streamID: 0, increment: 0)), .protocolError, "RFC 9113 §6.9")
        let err = error(windowUpdateFrame(streamID: 5, increment: 0))
        #expect(err?.code == .protocolError)
        #expect(err?.streamID == 5)
        // Only the reserved bit set: still an increment of 0.
        #expect(error(windowUpdateFrame(streamID: 5, increment: 0x8000_0000))?.streamID == 5)
    }

    @Test func rstStreamCarriesAnyErrorCodeIncludingUnknownOnes() throws {
        let frames = try decode(rstStreamFrame(streamID: 1, code: .cancel), rstStreamFrame(streamID: 3, code: HTTP2ErrorCode(rawValue: 0xABCD)))
        #expect(frames.map(FrameSummary.init) == [.rst(1, .cancel), .rst(3, HTTP2ErrorCode(rawValue: 0xABCD))])
    }

    // MARK: Padding (RFC 9113 §6.1, §6.2)

    @Test func rfc9113Section6_1PaddingIsStrippedAndCountedForFlowControl() throws {
        let frames = try decode(dataFrame(streamID: 1, [1, 2, 3], endStream: true, padLength: 10))
        guard case .data(let data, let endStream, let length)? = frames.first?.payload else {
            Issue.record("expected DATA, got \(frames)")
            return
        }
        #expect(Array(data.readableBytesView) == [1, 2, 3])
        #expect(endStream)
        #expect(length == 1 + 3 + 10)  // pad length octet + data + padding
    }

    @Test func rfc9113Section6_1PaddingFillingTheWholeFrameIsAllowed() throws {
        // Pad Length 4 in a 5-byte payload: no data at all.
        let frames = try decode(rawFrame(type: HTTP2FrameType.data, flags: HTTP2FrameFlags.padded, streamID: 1, payload: [4, 0, 0, 0, 0]))
        #expect(frames.map(FrameSummary.init) == [.data(1, length: 5, endStream: false)])
        if case .data(let data, _, _)? = frames.first?.payload { #expect(data.readableBytes == 0) }
    }

    @Test func rfc9113Section6_1DataPaddingAsLongAsThePayloadIsProtocolError() {
        // Pad Length 5 in a 5-byte payload.
        let err = error(rawFrame(type: HTTP2FrameType.data, flags: HTTP2FrameFlags.padded, streamID: 1, payload: [5, 0, 0, 0, 0]))
        expectConnectionError(err, .protocolError, "RFC 9113 §6.1")
        let longer = error(rawFrame(type: HTTP2FrameType.data, flags: HTTP2FrameFlags.padded, streamID: 1, payload: [200, 1, 2]))
        expectConnectionError(longer, .protocolError, "RFC 9113 §6.1")
    }

    @Test func rfc9113Section6_1PaddedDataWithoutPadLengthIsFrameSizeError() {
        let err = error(rawFrame(type: HTTP2FrameType.data, flags: HTTP2FrameFlags.padded, streamID: 1))
        expectConnectionError(err, .frameSizeError, "RFC 9113 §6.1")
    }

    @Test func rfc9113Section6_2HeadersPaddingLongerThanTheBlockIsProtocolError() {
        let err = error(rawFrame(type: HTTP2FrameType.headers, flags: HTTP2FrameFlags.padded | HTTP2FrameFlags.endHeaders,
                                 streamID: 1, payload: [3, 0x82, 0]))
        expectConnectionError(err, .protocolError, "RFC 9113 §6.2")
    }

    @Test func rfc9113Section6_2HeadersPaddingThatEatsIntoThePriorityFieldsIsProtocolError() {
        // Pad Length 2, then the 5 priority octets, one block octet and 2 padding octets
        // would need 9 bytes; the frame has 7: the padding exceeds what is left for the block.
        let payload: [UInt8] = [2, 0, 0, 0, 0, 15, 0x82, 0]
        let err = error(rawFrame(type: HTTP2FrameType.headers, flags: HTTP2FrameFlags.padded | HTTP2FrameFlags.priority | HTTP2FrameFlags.endHeaders,
                                 streamID: 1, payload: Array(payload.prefix(7))))
        expectConnectionError(err, .protocolError, "RFC 9113 §6.2")
    }

    @Test func rfc9113Section6_2HeadersWithPriorityFlagShorterThanFiveBytesIsFrameSizeError() {
        let err = error(rawFrame(type: HTTP2FrameType.headers, flags: HTTP2FrameFlags.priority | HTTP2FrameFlags.endHeaders,
                                 streamID: 1, payload: [0, 0, 0]))
        expectConnectionError(err, .frameSizeError, "RFC 9113 §6.2")
    }

    @Test func rfc9113Section6_2PaddedHeadersDecode() throws {
        let block = encodeBlock(requestHead(path: "/padded"))
        let frames = try decode(headersFrame(streamID: 1, block: block, endStream: true, padLength: 17))
        #expect(frames.map(FrameSummary.init) == [.headers(1, fields(requestHead(path: "/padded")), endStream: true)])
    }

    // MARK: Priority (RFC 9113 §5.3.2)

    @Test func rfc9113Section5_3_2PriorityFieldsAreParsedAndIgnored() throws {
        let block = encodeBlock(requestHead())
        let frames = try decode(headersFrame(streamID: 3, block: block, priority: (dependency: 0x8000_0001, weight: 255)),
                                headersFrame(streamID: 5, block: encodeBlock(requestHead()), padLength: 3, priority: (dependency: 3, weight: 0)),
                                priorityFrame(streamID: 7, dependsOn: 3))
        #expect(frames.map(FrameSummary.init) == [
            .headers(3, fields(requestHead()), endStream: false),
            .headers(5, fields(requestHead()), endStream: false),
            .priority(7),
        ])
    }

    // MARK: CONTINUATION (RFC 9113 §6.10)

    @Test func rfc9113Section6_10BlockSplitAcrossHeadersAndContinuationsDecodes() throws {
        let headers = requestHead(path: "/split", extra: [("x-a", String(repeating: "a", count: 100)), ("x-b", "b")])
        let block = encodeBlock(headers)
        let cut1 = block.count / 3, cut2 = 2 * block.count / 3
        let frames = try decode(
            headersFrame(streamID: 1, block: Array(block[..<cut1]), endStream: true, endHeaders: false),
            continuationFrame(streamID: 1, block: Array(block[cut1..<cut2]), endHeaders: false),
            continuationFrame(streamID: 1, block: [], endHeaders: false),
            continuationFrame(streamID: 1, block: Array(block[cut2...]), endHeaders: true),
            pingFrame(1))
        // END_STREAM comes from the HEADERS frame.
        #expect(frames.map(FrameSummary.init) == [.headers(1, fields(headers), endStream: true), .ping(1, ack: false)])
    }

    @Test func rfc9113Section6_10AnyOtherFrameInsideAHeaderBlockIsProtocolError() {
        let block = encodeBlock(requestHead())
        let start = headersFrame(streamID: 1, block: Array(block.prefix(2)), endHeaders: false)
        expectConnectionError(error(start, pingFrame(1)), .protocolError, "RFC 9113 §6.10")
        expectConnectionError(error(start, dataFrame(streamID: 1, [1])), .protocolError, "RFC 9113 §6.10")
        // Even an unknown type, which would otherwise be ignored.
        expectConnectionError(error(start, rawFrame(type: 0xBB, streamID: 1)), .protocolError, "RFC 9113 §6.10")
        // And a CONTINUATION on another stream.
        expectConnectionError(error(start, continuationFrame(streamID: 3, block: Array(block.dropFirst(2)))), .protocolError, "RFC 9113 §6.10")
    }

    @Test func rfc9113Section6_10ContinuationWithoutHeadersIsProtocolError() {
        expectConnectionError(error(continuationFrame(streamID: 1, block: [0x82])), .protocolError, "RFC 9113 §6.10")
        // After a complete block, too.
        let complete = headersFrame(streamID: 1, block: encodeBlock(requestHead()))
        expectConnectionError(error(complete, continuationFrame(streamID: 1, block: [0x82])), .protocolError, "RFC 9113 §6.10")
    }

    @Test func tooManyContinuationFramesIsEnhanceYourCalm() {
        // CONTINUATION flood (CVE-2024-27316 class): 32 are accepted, the 33rd is not.
        var frames = [headersFrame(streamID: 1, block: [], endHeaders: false)]
        for _ in 0..<32 { frames.append(continuationFrame(streamID: 1, block: [], endHeaders: false)) }
        #expect(error(joined(frames)) == nil)
        frames.append(continuationFrame(streamID: 1, block: [], endHeaders: false))
        expectConnectionError(error(joined(frames)), .enhanceYourCalm, "CONTINUATION limit")
    }

    @Test func headerBlockLargerThanTheLimitIsEnhanceYourCalm() {
        // The default bound: twice the larger of the header list limit and 16 KiB.
        #expect(HTTP2FrameDecoder(role: .client, maxHeaderListSize: 1000).headerBlockLimits.maxBlockSize == 32_768)
        #expect(HTTP2FrameDecoder(role: .client, maxHeaderListSize: 65_536).headerBlockLimits.maxBlockSize == 131_072)
        var again = HTTP2FrameDecoder(role: .client)
        again.headerBlockLimits.maxBlockSize = 100
        again.append(headersFrame(streamID: 1, block: [UInt8](repeating: 0x82, count: 60), endHeaders: false))
        again.append(continuationFrame(streamID: 1, block: [UInt8](repeating: 0x82, count: 60), endHeaders: false))
        do {
            _ = try again.nextFrame()
            Issue.record("expected ENHANCE_YOUR_CALM")
        } catch {
            #expect(error.code == .enhanceYourCalm)
            #expect(error.isConnectionError)
        }
    }

    // MARK: PUSH_PROMISE and HPACK

    @Test func rfc9113Section8_4PushPromiseIsProtocolError() {
        // We always announce SETTINGS_ENABLE_PUSH=0 (RFC 9113 §6.6).
        let payload = bigEndianBytes(UInt32(2)) + encodeBlock(requestHead())
        let err = error(rawFrame(type: HTTP2FrameType.pushPromise, flags: HTTP2FrameFlags.endHeaders, streamID: 1, payload: payload))
        expectConnectionError(err, .protocolError, "RFC 9113 §6.6")
    }

    @Test func rfc9113Section4_3UndecodableHeaderBlockIsCompressionError() {
        // Index 0 (RFC 7541 §6.1).
        expectConnectionError(error(headersFrame(streamID: 1, block: [0x80])), .compressionError, "RFC 9113 §4.3")
        // Truncated literal, split over CONTINUATION.
        expectConnectionError(error(headersFrame(streamID: 1, block: [0x40, 0x0A], endHeaders: false),
                                    continuationFrame(streamID: 1, block: [0x63])), .compressionError, "RFC 9113 §4.3")
    }

    @Test func rfc9113Section6_5_2HeaderListOverTheLimitDecodesAsOversized() throws {
        var decoder = HTTP2FrameDecoder(role: .server, maxHeaderListSize: 200)
        var encoder = HPACKEncoder()
        let big = requestHead(extra: [("x-big", String(repeating: "z", count: 150)), ("x-more", String(repeating: "y", count: 100))])
        decoder.append(joined([prefaceBytes(), headersFrame(streamID: 1, block: encodeBlock(big, with: &encoder), endStream: true),
                               headersFrame(streamID: 3, block: encodeBlock(requestHead(), with: &encoder))]))
        #expect(try decoder.nextFrame().map(FrameSummary.init) == .oversizedHeaders(1, endStream: true))
        // The HPACK context stays in step: the next block, which refers to the table, decodes.
        #expect(try decoder.nextFrame().map(FrameSummary.init) == .headers(3, fields(requestHead()), endStream: false))
    }

    // MARK: Round trip with the encoder

    @Test func everyEncodedFrameDecodesBack() throws {
        var buffer = ByteBuffer()
        var encoder = HTTP2FrameEncoder()
        HTTP2FrameEncoder.writeSettings([HTTP2Setting(HTTP2Setting.maxFrameSize, 20_000)], into: &buffer)
        HTTP2FrameEncoder.writeSettingsAck(into: &buffer)
        encoder.writeHeaders(streamID: 1, headers: requestHead(), endStream: false, into: &buffer)
        HTTP2FrameEncoder.writeData(streamID: 1, payload: ByteBuffer(bytes: patternBytes(300)), endStream: true, into: &buffer)
        HTTP2FrameEncoder.writePing(0x0102_0304_0506_0708, ack: true, into: &buffer)
        HTTP2FrameEncoder.writeRSTStream(streamID: 3, code: .refusedStream, into: &buffer)
        HTTP2FrameEncoder.writeWindowUpdate(streamID: 0, increment: 1 << 30, into: &buffer)
        HTTP2FrameEncoder.writeGoAway(lastStreamID: 9, code: .noError, debugData: "bye", into: &buffer)
        #expect(try decode(buffer).map(FrameSummary.init) == [
            .settings([HTTP2Setting(HTTP2Setting.maxFrameSize, 20_000)]),
            .settingsAck,
            .headers(1, fields(requestHead()), endStream: false),
            .data(1, length: 300, endStream: true),
            .ping(0x0102_0304_0506_0708, ack: true),
            .rst(3, .refusedStream),
            .windowUpdate(0, increment: 1 << 30),
            .goAway(last: 9, .noError),
        ])
    }
}
