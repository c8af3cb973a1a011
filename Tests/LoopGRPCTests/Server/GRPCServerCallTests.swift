import Testing
import Synchronization
import Loop
import LoopHTTP2
@testable import LoopGRPC

/// The server call on an embedded loop: HTTP/2 frames in from a scripted client, the
/// server's frames out (no socket, no thread). Handlers run as tasks on the embedded loop,
/// so every step is run to completion before the test looks.
@Suite struct GRPCServerCallTests {
    static let echo = "/test.S/Echo"
    static let fail = "/test.S/Fail"
    static let firstOnly = "/test.S/FirstOnly"
    static let streamThenAbort = "/test.S/StreamThenAbort"
    static let drain = "/test.S/Drain"

    /// What the handlers saw, for the test to read.
    final class Observed: Sendable {
        let ended = Mutex<(error: GRPCStatus?, taskCancelled: Bool, contextCancelled: Bool)?>(nil)
    }

    static func router(_ observed: Observed) -> GRPCRouter {
        let codec = ByteBufferCodec()
        var router = GRPCRouter()
        router.registerUnary(echo, deserializer: codec, serializer: codec) { request, _ in request }
        router.registerUnary(fail, deserializer: codec, serializer: codec) { _, _ in throw GRPCStatus(.notFound, "no user 42") }
        // Answers after the first request message, while the client is still sending.
        router.registerClientStreaming(firstOnly, deserializer: codec, serializer: codec) { requests, _ in
            for try await request in requests { return request }
            return ByteBuffer()
        }
        router.registerServerStreaming(streamThenAbort, deserializer: codec, serializer: codec) { request, response, _ in
            try await response.send(request)
            throw GRPCStatus(.aborted, "stopped after one")
        }
        // Reads until the request ends or the call fails, and says how it ended.
        router.registerBidirectionalStreaming(drain, deserializer: codec, serializer: codec) { requests, _, context in
            do {
                for try await _ in requests {}
                observed.ended.withLock { $0 = (nil, Task.isCancelled, context.isCancelled) }
            } catch {
                observed.ended.withLock { $0 = (error as? GRPCStatus, Task.isCancelled, context.isCancelled) }
                throw error
            }
        }
        return router
    }

    /// A frame the server sent on stream 1, reduced to what the tests compare.
    enum Sent: Equatable, CustomStringConvertible {
        case headers([HPACKHeader], endStream: Bool)
        case data(ByteBuffer, endStream: Bool)
        case reset(HTTP2ErrorCode)

        var description: String {
            switch self {
            case .headers(let fields, let end): return "HEADERS\(end ? " END_STREAM" : "") \(fields.map { "\($0.name): \($0.value)" })"
            case .data(let bytes, let end): return "DATA\(end ? " END_STREAM" : "") \(bytes.readableBytes) bytes"
            case .reset(let code): return "RST_STREAM \(code)"
            }
        }
    }

    /// The client end of one server connection on an EmbeddedChannel.
    final class Client {
        let loop: EventLoop
        let channel: EmbeddedChannel
        let observed: Observed
        private var encoder = HTTP2FrameEncoder()
        private var decoder = HTTP2FrameDecoder(role: .client)

        init(configure: (inout GRPCServerConfiguration) -> Void = { _ in }) throws {
            var configuration = GRPCServerConfiguration()
            configure(&configuration)
            let loop = EventLoop.makeEmbedded()
            let observed = Observed()
            let connection = GRPCServerConnection(router: GRPCServerCallTests.router(observed), configuration: configuration, loop: loop)
            self.loop = loop
            self.observed = observed
            channel = EmbeddedChannel(handlers: [HTTP2ConnectionHandler(configuration: configuration.http2, delegate: connection)], loop: loop)
            var hello = ByteBuffer(bytes: http2ClientPreface)
            HTTP2FrameEncoder.writeSettings([], into: &hello)
            HTTP2FrameEncoder.writeSettingsAck(into: &hello)
            try channel.writeInbound(hello)
            _ = try sent()  // the server's SETTINGS and its ACK of ours
        }

        func headers(_ path: String, _ extra: [HPACKHeader] = [], endStream: Bool = false) throws {
            var buffer = ByteBuffer()
            encoder.writeHeaders(streamID: 1, headers: [
                HPACKHeader(":method", "POST"), HPACKHeader(":scheme", "http"), HPACKHeader(":path", path),
                HPACKHeader(":authority", "localhost"), HPACKHeader("content-type", "application/grpc"), HPACKHeader("te", "trailers"),
            ] + extra, endStream: endStream, into: &buffer)
            try channel.writeInbound(buffer)
        }

        func data(_ payload: ByteBuffer, endStream: Bool) throws {
            var buffer = ByteBuffer()
            HTTP2FrameEncoder.writeData(streamID: 1, payload: payload, endStream: endStream, into: &buffer)
            try channel.writeInbound(buffer)
        }

        func reset(_ code: HTTP2ErrorCode) throws {
            var buffer = ByteBuffer()
            HTTP2FrameEncoder.writeRSTStream(streamID: 1, code: code, into: &buffer)
            try channel.writeInbound(buffer)
        }

        /// The HEADERS, DATA and RST_STREAM frames the server sent on stream 1 since last asked
        /// (after running everything queued on the loop, handlers included).
        func sent() throws -> [Sent] {
            loop.run()
            while let bytes = try channel.readOutbound(as: ByteBuffer.self) { decoder.append(bytes) }
            var frames: [Sent] = []
            while let frame = try decoder.nextFrame() {
                guard frame.streamID == 1 else { continue }
                switch frame.payload {
                case .headers(let fields, let endStream): frames.append(.headers(fields, endStream: endStream))
                case .data(let bytes, let endStream, _): frames.append(.data(bytes, endStream: endStream))
                case .rstStream(let code): frames.append(.reset(code))
                default: break
                }
            }
            return frames
        }

        func finish() throws {
            try channel.finish()
        }
    }

    static let head = [HPACKHeader(":status", "200"), HPACKHeader("content-type", "application/grpc"),
                       HPACKHeader("grpc-accept-encoding", "identity,deflate,gzip")]

    func framed(_ text: String) throws -> ByteBuffer {
        try GRPCMessageFramer.frame(ByteBuffer(string: text), serializer: ByteBufferCodec(), compression: nil)
    }

    /// PROTOCOL-HTTP2.md "Responses": headers, the length-prefixed message, trailers with grpc-status 0.
    @Test func unaryOK() throws {
        let client = try Client()
        try client.headers(Self.echo)
        try client.data(try framed("hi"), endStream: true)
        #expect(try client.sent() == [
            .headers(Self.head, endStream: false),
            .data(try framed("hi"), endStream: false),
            .headers([HPACKHeader("grpc-status", "0")], endStream: true),
        ])
        try client.finish()
    }

    /// A request message split across DATA frames anywhere (even inside the 5-byte prefix)
    /// is reassembled.
    @Test func requestMessageSplitAcrossDataFrames() throws {
        let client = try Client()
        let message = try framed("hello, split world")
        try client.headers(Self.echo)
        try client.data(message.getSlice(at: 0, length: 3)!, endStream: false)
        try client.data(message.getSlice(at: 3, length: 6)!, endStream: false)
        #expect(try client.sent() == [])
        try client.data(message.getSlice(at: 9, length: message.readableBytes - 9)!, endStream: true)
        #expect(try client.sent() == [
            .headers(Self.head, endStream: false),
            .data(message, endStream: false),
            .headers([HPACKHeader("grpc-status", "0")], endStream: true),
        ])
        try client.finish()
    }

    /// "Trailers-Only": a call refused before any handler runs (unknown method) is one
    /// HEADERS frame with END_STREAM; the request side is still open, and the server leaves
    /// the client a grace period to end it before any RST_STREAM (the stream-end rule,
    /// docs/architecture.md).
    @Test func unknownMethodIsTrailersOnly() throws {
        let client = try Client()
        try client.headers("/test.S/Nope")
        #expect(try client.sent() == [
            .headers([HPACKHeader(":status", "200"), HPACKHeader("content-type", "application/grpc"), HPACKHeader("grpc-status", "12"),
                      HPACKHeader("grpc-message", "unknown method Nope for service test.S"),
                      HPACKHeader("grpc-accept-encoding", "identity,deflate,gzip")], endStream: true),
        ])
        try client.finish()
    }

    /// A status thrown before any message was sent ends the call trailers-only, with the
    /// thrown code and message.
    @Test func thrownStatusBeforeTheHeadIsTrailersOnly() throws {
        let client = try Client()
        try client.headers(Self.fail)
        try client.data(try framed("42"), endStream: true)
        #expect(try client.sent() == [
            .headers(Self.head + [HPACKHeader("grpc-status", "5"), HPACKHeader("grpc-message", "no user 42")], endStream: true),
        ])
        try client.finish()
    }

    /// A status thrown after a message was sent goes in the trailers.
    @Test func thrownStatusAfterAMessageGoesInTheTrailers() throws {
        let client = try Client()
        try client.headers(Self.streamThenAbort)
        try client.data(try framed("one"), endStream: true)
        #expect(try client.sent() == [
            .headers(Self.head, endStream: false),
            .data(try framed("one"), endStream: false),
            .headers([HPACKHeader("grpc-status", "10"), HPACKHeader("grpc-message", "stopped after one")], endStream: true),
        ])
        try client.finish()
    }

    /// The stream-end rule (docs/architecture.md): a handler that answers before the request
    /// ended gets its trailers out, and no RST_STREAM follows right behind them (the client
    /// gets a grace period to end its side; HTTP2ResetGraceTests).
    @Test func answerBeforeTheRequestEndedLeavesTheClientAGracePeriod() throws {
        let client = try Client()
        try client.headers(Self.firstOnly)
        try client.data(try framed("first"), endStream: false)
        #expect(try client.sent() == [
            .headers(Self.head, endStream: false),
            .data(try framed("first"), endStream: false),
            .headers([HPACKHeader("grpc-status", "0")], endStream: true),
        ])
        try client.finish()
    }

    /// RST_STREAM from the client cancels the call: the handler's read throws CANCELLED, its
    /// task and context are cancelled, and nothing more is sent on the stream.
    @Test func clientResetCancelsTheHandler() throws {
        let client = try Client()
        try client.headers(Self.drain)
        try client.data(try framed("a"), endStream: false)
        #expect(try client.sent() == [])
        #expect(client.observed.ended.withLock { $0 } == nil)  // still reading
        try client.reset(.cancel)
        #expect(try client.sent() == [])
        let ended = try #require(client.observed.ended.withLock { $0 })
        #expect(ended.error == GRPCStatus(.cancelled, "the client cancelled the call (RST_STREAM CANCEL)"))
        #expect(ended.taskCancelled && ended.contextCancelled)
        try client.finish()
    }

    /// A message over the receive limit ends the call with RESOURCE_EXHAUSTED before the
    /// handler sees it (PROTOCOL-HTTP2.md; the limit is checked on the prefix).
    @Test func oversizedMessageIsResourceExhausted() throws {
        let client = try Client { $0.maxReceiveMessageSize = 4 }
        try client.headers(Self.echo)
        try client.data(try framed("hello"), endStream: true)
        #expect(try client.sent() == [
            .headers(Self.head + [HPACKHeader("grpc-status", "8"),
                                  HPACKHeader("grpc-message", "received message of 5 bytes exceeds the limit of 4 bytes")], endStream: true),
        ])
        try client.finish()
    }

    /// Malformed messages end the call with INTERNAL and the exact reason.
    @Test(arguments: [
        ([UInt8]([1, 0, 0, 0, 1, 0x41]), "received a compressed message but the stream declared no grpc-encoding"),
        ([2, 0, 0, 0, 1, 0x41], "invalid compressed flag 2 in a message prefix (only 0 and 1 are allowed)"),
        ([0, 0, 0, 0, 9, 0x41], "the request stream ended inside a message"),
    ])
    func badMessageIsInternal(_ bytes: [UInt8], _ reason: String) throws {
        let client = try Client()
        try client.headers(Self.echo)
        try client.data(ByteBuffer(bytes: bytes), endStream: true)
        #expect(try client.sent() == [
            .headers(Self.head + [HPACKHeader("grpc-status", "13"), HPACKHeader("grpc-message", GRPCStatusMessage.encode(reason))],
                     endStream: true),
        ])
        try client.finish()
    }
}
