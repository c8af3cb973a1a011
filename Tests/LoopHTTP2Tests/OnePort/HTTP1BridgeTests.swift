import Loop
import LoopHTTP1
import Testing
@testable import LoopHTTP2

/// HTTP1Bridge, bytes in and out: HTTP/1.1 requests become HTTP/2 streams on the server's
/// connection, and the streams' responses become HTTP/1.1 (RFC 9112), one exchange at a time.
@Suite struct HTTP1BridgeTests {
    /// A bridge past the handshake: the server's SETTINGS went out and the first request started.
    private struct Harness {
        var bridge = HTTP1Bridge(options: HTTP1Options(), scheme: "http")
        var serverDecoder = HTTP2FrameDecoder(role: .server)
        var serverEncoder = HTTP2FrameEncoder()

        init(options: HTTP1Options = HTTP1Options(), initialWindow: UInt32 = 65_535) {
            bridge = HTTP1Bridge(options: options, scheme: "http")
            var settings = ByteBuffer()
            HTTP2FrameEncoder.writeSettings([HTTP2Setting(HTTP2Setting.initialWindowSize, initialWindow)], into: &settings)
            _ = bridge.outbound(settings)
        }

        /// Client bytes in; the frames the server connection would read out.
        mutating func send(_ text: String) -> [HTTP2Frame] {
            bridge.receive(ByteBuffer(string: text))
            return takeFrames()
        }

        mutating func takeFrames() -> [HTTP2Frame] {
            // The server-role decoder checks the client preface itself.
            let bytes = bridge.toHTTP2
            bridge.toHTTP2 = ByteBuffer()
            serverDecoder.append(bytes)
            var frames: [HTTP2Frame] = []
            while let frame = try? serverDecoder.nextFrame() { frames.append(frame) }
            return frames
        }

        /// Server frames out; the HTTP/1.1 bytes the client would read.
        mutating func respond(_ write: (inout HTTP2FrameEncoder, inout ByteBuffer) -> Void) -> String {
            var out = ByteBuffer()
            write(&serverEncoder, &out)
            if bridge.outbound(out) { bridge.advance() }
            return takeSocket()
        }

        mutating func takeSocket() -> String {
            let text = String(decoding: bridge.toSocket.readableBytesView, as: UTF8.self)
            bridge.toSocket = ByteBuffer()
            return text
        }
    }

    private func headers(_ frames: [HTTP2Frame]) -> [(UInt32, [HPACKHeader], Bool)] {
        frames.compactMap { frame in
            if case .headers(let list, let end) = frame.payload { return (frame.streamID, list, end) }
            return nil
        }
    }

    private func data(_ frames: [HTTP2Frame]) -> [(UInt32, String, Bool)] {
        frames.compactMap { frame in
            if case .data(let bytes, let end, _) = frame.payload { return (frame.streamID, String(decoding: bytes.readableBytesView, as: UTF8.self), end) }
            return nil
        }
    }

    @Test func rfc9113Section8_3ARequestBecomesAStreamWithPseudoHeadersAndNoConnectionFields() {
        var harness = Harness()
        let frames = harness.send("GET /a/b?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\nAccept: */*\r\n\r\n")
        let sent = headers(frames)
        #expect(sent.count == 1)
        #expect(sent.first?.0 == 1)
        #expect(sent.first?.2 == true, "a request without a body ends with its HEADERS")
        let list = sent.first?.1.map { "\($0.name): \($0.value)" } ?? []
        #expect(list == [":method: GET", ":scheme: http", ":path: /a/b?x=1", ":authority: example.com:8080", "te: trailers", "accept: */*"])
        // The bridge acknowledged the server's SETTINGS and opened the connection window.
        #expect(frames.contains { if case .settingsAck = $0.payload { return true } else { return false } })
    }

    @Test func rfc9112Section3_2_2AnAbsoluteFormTargetGivesTheAuthority() {
        var harness = Harness()
        let sent = headers(harness.send("GET http://other.example/p?q HTTP/1.1\r\nHost: ignored.example\r\n\r\n"))
        let list = sent.first?.1 ?? []
        #expect(list.first { $0.name == ":authority" }?.value == "other.example")
        #expect(list.first { $0.name == ":path" }?.value == "/p?q")
    }

    @Test func aResponseWithContentLengthKeepsTheConnectionAndTheNextRequestFollows() {
        var harness = Harness()
        _ = harness.send("GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n")
        let response = harness.respond { encoder, out in
            encoder.writeHeaders(streamID: 1, headers: [HPACKHeader(":status", "200"), HPACKHeader("content-length", "5")], endStream: false, into: &out)
            HTTP2FrameEncoder.writeData(streamID: 1, payload: ByteBuffer(string: "hello"), endStream: true, into: &out)
        }
        #expect(response == "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
        #expect(!harness.bridge.closeRequested)
        // RFC 9112 §9.3.2: pipelined requests are answered in order; the second stream starts only now.
        let second = headers(harness.takeFrames())
        #expect(second.map(\.0) == [3])
        #expect(second.first?.1.first { $0.name == ":path" }?.value == "/two")
    }

    @Test func responseFramesHandedOverGiveTheSameHTTP1BytesAsTheirEncoding() {
        // The HTTP/2 handler hands a translated connection's HEADERS and DATA over as frames
        // (HTTP2Output.handsOverFrames); they must read exactly as their encoded bytes do.
        let response: [HTTP2Frame] = [
            HTTP2Frame(streamID: 1, payload: .headers([HPACKHeader(":status", "200"), HPACKHeader("content-type", "text/plain")], endStream: false)),
            HTTP2Frame(streamID: 1, payload: .data(ByteBuffer(string: "hel"), endStream: false, flowControlledLength: 3)),
            HTTP2Frame(streamID: 1, payload: .data(ByteBuffer(string: "lo"), endStream: false, flowControlledLength: 2)),
            HTTP2Frame(streamID: 1, payload: .headers([HPACKHeader("x-sum", "1")], endStream: true)),
        ]
        var encoded = Harness()
        _ = encoded.send("GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n")
        let viaBytes = encoded.respond { encoder, out in
            for frame in response {
                switch frame.payload {
                case .headers(let list, let end): encoder.writeHeaders(streamID: 1, headers: list, endStream: end, into: &out)
                case .data(let data, let end, _): HTTP2FrameEncoder.writeData(streamID: 1, payload: data, endStream: end, into: &out)
                default: break
                }
            }
        }
        var handedOver = Harness()
        _ = handedOver.send("GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(handedOver.bridge.isTranslating)
        var progressed = false
        for frame in response where handedOver.bridge.outbound(frame) { progressed = true }
        #expect(progressed)
        handedOver.bridge.advance()
        let viaFrames = handedOver.takeSocket()
        #expect(viaFrames == "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n"
                + "3\r\nhel\r\n2\r\nlo\r\n0\r\nx-sum: 1\r\n\r\n")
        #expect(viaFrames == viaBytes)
        // RFC 9112 §9.3.2: the pipelined second request starts once the first response is complete.
        #expect(headers(handedOver.takeFrames()).map(\.0) == [3])
    }

    @Test func rfc9112Section7_1AResponseWithoutLengthIsChunkedWithItsTrailers() {
        var harness = Harness()
        _ = harness.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let response = harness.respond { encoder, out in
            encoder.writeHeaders(streamID: 1, headers: [HPACKHeader(":status", "200"), HPACKHeader("content-type", "text/plain")], endStream: false, into: &out)
            HTTP2FrameEncoder.writeData(streamID: 1, payload: ByteBuffer(string: "abc"), endStream: false, into: &out)
            encoder.writeHeaders(streamID: 1, headers: [HPACKHeader("grpc-status", "0")], endStream: true, into: &out)
        }
        #expect(response == "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\ngrpc-status: 0\r\n\r\n")
    }

    @Test func rfc9112Section9_3HTTP1_0AndConnectionCloseEndTheConnectionAfterTheResponse() {
        var harness = Harness()
        _ = harness.send("GET / HTTP/1.0\r\n\r\n")
        let response = harness.respond { encoder, out in
            encoder.writeHeaders(streamID: 1, headers: [HPACKHeader(":status", "200")], endStream: false, into: &out)
            HTTP2FrameEncoder.writeData(streamID: 1, payload: ByteBuffer(string: "x"), endStream: true, into: &out)
        }
        #expect(response == "HTTP/1.0 200 OK\r\nconnection: close\r\n\r\nx")
        #expect(harness.bridge.closeRequested)

        var second = Harness()
        _ = second.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let closing = second.respond { encoder, out in
            encoder.writeHeaders(streamID: 1, headers: [HPACKHeader(":status", "204")], endStream: true, into: &out)
        }
        #expect(closing == "HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
        #expect(second.bridge.closeRequested)
    }

    @Test func rfc9110Section9_3_2HEADGetsTheHeadWithItsLengthAndNoBody() {
        var harness = Harness()
        _ = harness.send("HEAD /file HTTP/1.1\r\nHost: a\r\n\r\n")
        let response = harness.respond { encoder, out in
            encoder.writeHeaders(streamID: 1, headers: [HPACKHeader(":status", "200"), HPACKHeader("content-length", "1234")], endStream: true, into: &out)
        }
        #expect(response == "HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n")
        #expect(!harness.bridge.closeRequested)
    }

    @Test func rfc9110Section10_1_1ExpectContinueIsAnsweredWith100BeforeTheBody() {
        var harness = Harness()
        let frames = harness.send("PUT /up HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        #expect(harness.takeSocket() == "HTTP/1.1 100 Continue\r\n\r\n")
        #expect(headers(frames).first?.2 == false)
        #expect(!(headers(frames).first?.1.contains { $0.name == "expect" } ?? true))
        let body = data(harness.send("data"))
        #expect(body.map(\.1).joined() == "data")
        #expect(body.last?.2 == true)
    }

    @Test func chunkedBodyAndTrailersBecomeDataAndTrailingHeaders() {
        var harness = Harness()
        let frames = harness.send("POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n")
        #expect(data(frames).map(\.1).joined() == "abcde")
        let sent = headers(frames)
        #expect(sent.count == 2)
        #expect(sent.last?.1.map(\.name) == ["x-sum"])
        #expect(sent.last?.2 == true)
    }

    @Test func rfc9113Section6_9ABodyWaitsForTheServersWindowAndTheSocketStopsPastTheLimit() {
        var options = HTTP1Options()
        options.maxBufferedBytes = 100
        var harness = Harness(options: options, initialWindow: 10)
        let body = String(repeating: "x", count: 50)
        let frames = harness.send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\n" + body)
        #expect(data(frames).map(\.1).joined().count == 10, "only the stream window's 10 bytes go")
        #expect(harness.bridge.bufferedBytes == 40)
        // WINDOW_UPDATE from the server (as the application consumes) lets the rest go.
        _ = harness.respond { _, out in HTTP2FrameEncoder.writeWindowUpdate(streamID: 1, increment: 100, into: &out) }
        let rest = data(harness.takeFrames())
        #expect(rest.map(\.1).joined().count == 40)
        #expect(rest.last?.2 == true)
        #expect(harness.bridge.bufferedBytes == 0)
    }

    @Test func rfc9112Section6_3SmugglingAndBadFramingGet400AndClose() {
        for request in [
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        ] {
            var harness = Harness()
            let frames = harness.send(request)
            #expect(headers(frames).isEmpty, "nothing reaches the server: \(request.debugDescription)")
            let answer = harness.takeSocket()
            #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(request.debugDescription): \(answer)")
            #expect(answer.contains("connection: close"))
            #expect(harness.bridge.closeRequested)
        }
    }

    @Test func aResponseBeforeTheWholeBodyEndsTheStreamAndTheRestIsDropped() {
        var harness = Harness()
        _ = harness.send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nab")
        let response = harness.respond { encoder, out in
            encoder.writeHeaders(streamID: 1, headers: [HPACKHeader(":status", "413")], endStream: true, into: &out)
        }
        #expect(response == "HTTP/1.1 413 Content Too Large\r\ncontent-length: 0\r\n\r\n")
        let frames = harness.takeFrames()
        #expect(frames.contains { if case .rstStream(.noError) = $0.payload { return $0.streamID == 1 } else { return false } })
        // The rest of the body is read and dropped; the next request is served.
        let next = harness.send("cdefGET /next HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(data(next).isEmpty)
        #expect(headers(next).map(\.0) == [3])
    }

    @Test func aRefusedStreamIs503AndAGoawayEndsTheConnectionAfterTheResponse() {
        var harness = Harness()
        _ = harness.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let refused = harness.respond { _, out in HTTP2FrameEncoder.writeRSTStream(streamID: 1, code: .refusedStream, into: &out) }
        #expect(refused.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(harness.bridge.closeRequested)

        var draining = Harness()
        _ = draining.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let goaway = draining.respond { _, out in
            HTTP2FrameEncoder.writeGoAway(lastStreamID: 0x7FFF_FFFF, code: .noError, debugData: "", into: &out)
        }
        #expect(goaway.isEmpty)
        #expect(!draining.bridge.closeRequested, "the request in flight is answered first")
        let response = draining.respond { encoder, out in
            encoder.writeHeaders(streamID: 1, headers: [HPACKHeader(":status", "200")], endStream: true, into: &out)
        }
        #expect(response == "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        #expect(draining.bridge.closeRequested)
    }

    @Test func rfc7540Section3_2H2cUpgradeAnswers101AndTheRequestIsStream1() {
        var harness = Harness()
        // HTTP2-Settings: SETTINGS_MAX_CONCURRENT_STREAMS = 100 (curl's), base64url.
        harness.bridge.receive(ByteBuffer(string: "GET /up HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n"))
        let socket = harness.takeSocket()
        #expect(socket.hasPrefix("HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n"))
        // The server's SETTINGS follow the 101 at once.
        #expect(socket.utf8.count > 70)
        let frames = harness.takeFrames()
        let sent = headers(frames)
        #expect(sent.map(\.0) == [1])
        #expect(sent.first?.2 == true)
        #expect(frames.contains { if case .settings(let list) = $0.payload { return list == [HTTP2Setting(3, 100)] } else { return false } })
        // The client's own preface is checked and not passed on twice; its frames pass unchanged.
        var ping = ByteBuffer()
        HTTP2FrameEncoder.writePing(7, ack: false, into: &ping)
        var clientBytes = ByteBuffer(bytes: http2ClientPreface)
        clientBytes.writeImmutableBuffer(ping)
        harness.bridge.receive(clientBytes)
        #expect(harness.bridge.toHTTP2.readableBytesView.elementsEqual(ping.readableBytesView))
        // The ACK of the HTTP2-Settings settings is dropped (the 101 acknowledged them), the rest passes.
        var serverOut = ByteBuffer()
        HTTP2FrameEncoder.writeSettingsAck(into: &serverOut)
        HTTP2FrameEncoder.writePing(7, ack: true, into: &serverOut)
        _ = harness.bridge.outbound(serverOut)
        var expected = ByteBuffer()
        HTTP2FrameEncoder.writePing(7, ack: true, into: &expected)
        #expect(harness.bridge.toSocket.readableBytesView.elementsEqual(expected.readableBytesView))
    }

    @Test func anUpgradeWithABodyOrOnALaterRequestIsServedOverHTTP1() {
        var harness = Harness()
        let frames = harness.send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\nhi")
        #expect(harness.takeSocket().isEmpty)
        #expect(headers(frames).first?.1.contains { $0.name == "upgrade" || $0.name == "http2-settings" } == false)
        #expect(data(frames).map(\.1).joined() == "hi")
    }

    @Test func theRequestHeadTimeoutAnswers408() {
        var harness = Harness()
        _ = harness.send("GET /slow HTTP/1.1\r\nHost:")
        #expect(harness.bridge.isReceivingHead)
        harness.bridge.headTimedOut()
        #expect(harness.takeSocket().hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        #expect(harness.bridge.closeRequested)
    }

    /// The HTTP/2 side's handshake timeout also bounds the first request's head; with the
    /// defaults (both 10 s) it fired first, and a slow-loris client got a bare close instead of
    /// 408 (found by AttackTests' h1_slowloris: 100 of 100 connections).
    @Test func rfc9110Section15_5_9TheHandshakeTimeoutDuringTheFirstHeadAnswers408() {
        var harness = Harness()
        _ = harness.send("GET /slow HTTP/1.1\r\nHost:")
        let answer = harness.respond { _, out in
            HTTP2FrameEncoder.writeGoAway(lastStreamID: 0, code: .settingsTimeout, debugData: "no SETTINGS", into: &out)
        }
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(answer.debugDescription)")
        #expect(answer.contains("connection: close\r\n"))
        #expect(harness.bridge.closeRequested)

        // A graceful shutdown before any head byte, or with a head begun, closes without an answer.
        for bytes in ["", "GET /slow HTTP/1.1\r\n"] {
            var draining = Harness()
            _ = draining.send(bytes)
            let nothing = draining.respond { _, out in
                HTTP2FrameEncoder.writeGoAway(lastStreamID: 0x7FFF_FFFF, code: .noError, debugData: "", into: &out)
            }
            #expect(nothing.isEmpty)
            #expect(draining.bridge.closeRequested)
        }
    }

    /// Closes the channel on the second bytes it reads, as the HTTP/2 handler closes it after a
    /// connection error or a forced shutdown.
    final class CloseOnSecondRead: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private var reads = 0
        func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
            reads += 1
            if reads == 2 { context.close(promise: nil) }
        }
    }

    /// The adapter hands the HTTP/2 side bytes in a later loop turn; if the channel closes
    /// inside that delivery while reading is paused, the adapter must not touch the channel
    /// again (it trapped: "the channel of this pipeline no longer exists", found by
    /// OnePortSocketTests and AttackTests run together, a forced shutdown racing an upload).
    @Test func theAdapterLeavesAChannelThatClosedInsideItsDeliveryAlone() throws {
        var options = HTTP1Options()
        options.maxBufferedBytes = 16
        let channel = EmbeddedChannel(handlers: [HTTP1BridgeHandler(options: options, scheme: "http"), CloseOnSecondRead()])
        // The second request waits behind the first, over the limit: reading pauses.
        try channel.writeInbound(ByteBuffer(string: "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(channel.isActive)
        // The server's SETTINGS: the bridge's ACK is delivered in the next loop turn, where the channel closes.
        var settings = ByteBuffer()
        HTTP2FrameEncoder.writeSettings([], into: &settings)
        try channel.writeOutbound(settings)
        #expect(!channel.isActive)
    }

    /// With the HTTP/2 handler at hand, request HEADERS and trailers go over decoded (no HPACK
    /// round trip) and everything else as bytes, in the order the HTTP/2 side must read them:
    /// preface and SETTINGS, HEADERS, the body's DATA, the trailers.
    @Test func headersAndDataGoOverAsFramesInOrderWithTheBytesAroundThem() {
        var bridge = HTTP1Bridge(options: HTTP1Options(), scheme: "http")
        bridge.handsOverDecodedHeaders = true
        var settings = ByteBuffer()
        HTTP2FrameEncoder.writeSettings([], into: &settings)
        _ = bridge.outbound(settings)
        bridge.receive(ByteBuffer(string: "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n"))
        var decoder = HTTP2FrameDecoder(role: .server)
        var seen: [String] = []
        for input in bridge.takeHTTP2Input() {
            switch input {
            case .bytes(let bytes):
                decoder.append(bytes)
                while let frame = try? decoder.nextFrame() {
                    switch frame.payload {
                    case .settings: seen.append("SETTINGS")
                    case .settingsAck: seen.append("SETTINGS ACK")
                    case .windowUpdate: seen.append("WINDOW_UPDATE")
                    case .data(let data, let end, _): seen.append("DATA \(frame.streamID) \(String(decoding: data.readableBytesView, as: UTF8.self)) \(end)")
                    case .headers: seen.append("encoded HEADERS")
                    default: seen.append("\(frame)")
                    }
                }
            case .frame(let frame):
                switch frame.payload {
                case .headers(let list, let end):
                    seen.append("HEADERS \(frame.streamID) \(list.map { "\($0.name)=\($0.value)" }.joined(separator: " ")) \(end)")
                case .data(let data, let end, let length):
                    seen.append("DATA frame \(frame.streamID) \(String(decoding: data.readableBytesView, as: UTF8.self)) \(end) \(length)")
                default:
                    seen.append("\(frame)")
                }
            }
        }
        // The body goes over as frames too, counted against the windows as its bytes would be.
        #expect(seen == ["SETTINGS", "WINDOW_UPDATE", "SETTINGS ACK",
                         "HEADERS 1 :method=POST :scheme=http :path=/up :authority=a false",
                         "DATA frame 1 hello false 5",
                         "HEADERS 1 x-sum=1 true"], "\(seen)")
        #expect(!bridge.hasHTTP2Input)
    }

    @Test func aHalfClosedClientGetsEveryResponseThenTheConnectionCloses() {
        var harness = Harness()
        _ = harness.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        harness.bridge.inputClosed()
        #expect(!harness.bridge.closeRequested)
        let response = harness.respond { encoder, out in
            encoder.writeHeaders(streamID: 1, headers: [HPACKHeader(":status", "200")], endStream: true, into: &out)
        }
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(harness.bridge.closeRequested)
    }
}
