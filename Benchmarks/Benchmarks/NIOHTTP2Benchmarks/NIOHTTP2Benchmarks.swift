import Benchmark
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2

// swift-nio-http2 1.46: the operations LoopHTTP2Benchmarks measures on LoopHTTP2, under the
// same names. HPACK goes through NIOHPACK's public HPACKEncoder/HPACKDecoder, like Loop's.
// swift-nio-http2 has no public frame codec (its HTTP2FrameEncoder/HTTP2FrameDecoder are
// internal), so its frame benchmarks go through the public way to frames: a server-mode
// NIOHTTP2Handler (frame-level, no stream multiplexer) on an EmbeddedChannel, fed the bytes a
// client-mode NIOHTTP2Handler produced. A decode is therefore parse + connection/stream
// state machine + flow-control accounting + an HTTP2Frame out of the pipeline; an encode is
// an HTTP2Frame written into the pipeline + the state machine + serialisation to bytes.
// One op = one frame or one header block (scalingFactor .kilo: `*` metrics are per op).
// Run: cd Benchmarks && swift package --disable-sandbox benchmark --target NIOHTTP2Benchmarks

let grpcRequest: HPACKHeaders = [
    ":method": "POST",
    ":scheme": "http",
    ":path": "/grpc.testing.TestService/UnaryCall",
    ":authority": "localhost:50051",
    "content-type": "application/grpc",
    "te": "trailers",
    "grpc-timeout": "1S",
    "grpc-accept-encoding": "identity,deflate,gzip",
    "user-agent": "grpc-swift/2.0.0",
]

let grpcResponse: HPACKHeaders = [
    ":status": "200",
    "content-type": "application/grpc",
    "grpc-accept-encoding": "identity,deflate,gzip",
]

let helloRequest: HPACKHeaders = [":method": "GET", ":scheme": "http", ":path": "/hello", ":authority": "127.0.0.1:8080"]

let dataPayloadSize = 48
let allocator = ByteBufferAllocator()

func payload() -> ByteBuffer {
    var payload = allocator.buffer(capacity: dataPayloadSize)
    payload.writeRepeatingByte(0x61, count: dataPayloadSize)
    return payload
}

func steadyBlock(_ headers: HPACKHeaders) throws -> (block: ByteBuffer, encoder: HPACKEncoder, decoder: HPACKDecoder) {
    var encoder = HPACKEncoder(allocator: allocator)
    var decoder = HPACKDecoder(allocator: allocator)
    var first = allocator.buffer(capacity: 256)
    try encoder.encode(headers: headers, to: &first)
    _ = try decoder.decodeHeaders(from: &first)
    var block = allocator.buffer(capacity: 256)
    try encoder.encode(headers: headers, to: &block)
    return (block, encoder, decoder)
}

extension EmbeddedChannel {
    /// Bytes written out of the channel, as one buffer (nil when nothing was written).
    func drainOutbound() throws -> ByteBuffer? {
        var all: ByteBuffer?
        while let data = try readOutbound(as: IOData.self) {
            guard case .byteBuffer(var bytes) = data else { fatalError("file region written") }
            if all == nil { all = bytes } else { all!.writeBuffer(&bytes) }
        }
        return all
    }

    func drainInbound() throws {
        while try readInbound(as: HTTP2Frame.self) != nil {}
    }
}

/// A client NIOHTTP2Handler and a frame-level server NIOHTTP2Handler, connected and past the
/// handshake (SETTINGS exchanged and acknowledged both ways).
struct ConnectedPair {
    let client = EmbeddedChannel()
    let server = EmbeddedChannel()

    init(serverSettings: HTTP2Settings = [HTTP2Setting(parameter: .maxConcurrentStreams, value: 100_000)]) throws {
        try client.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .client))
        try server.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .server, initialSettings: serverSettings))
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 8080)
        try client.connect(to: address).wait()
        try server.connect(to: address).wait()
        try shuttle()
        try client.drainInbound()
        try server.drainInbound()
    }

    /// Moves bytes both ways until both sides are quiet.
    func shuttle() throws {
        var moved = true
        while moved {
            moved = false
            if let bytes = try client.drainOutbound() { try server.writeInbound(bytes); moved = true }
            if let bytes = try server.drainOutbound() { try client.writeInbound(bytes); moved = true }
        }
    }

    /// The bytes of `frames` as the client writes them.
    func clientBytes(_ frames: [HTTP2Frame]) throws -> ByteBuffer {
        for frame in frames { client.write(frame, promise: nil) }
        client.flush()
        return try client.drainOutbound() ?? allocator.buffer(capacity: 0)
    }

    func finish() {
        _ = try? client.finish(acceptAlreadyClosed: true)
        _ = try? server.finish(acceptAlreadyClosed: true)
    }
}

/// Answers GET /hello on a stream channel of the inline multiplexer, as
/// Sources/NIOHTTP2Server does.
final class HelloHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload
    static let head: HPACKHeaders = [":status": "200", "content-type": "text/plain"]
    static let helloBytes = Array("Hello, world!".utf8)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .headers = unwrapInboundIn(data) else { return }
        context.write(wrapOutboundOut(.headers(.init(headers: Self.head))), promise: nil)
        var body = context.channel.allocator.buffer(capacity: Self.helloBytes.count)
        body.writeBytes(Self.helloBytes)
        context.writeAndFlush(wrapOutboundOut(.data(.init(data: .byteBuffer(body), endStream: true))), promise: nil)
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )

    // MARK: Frames (through NIOHTTP2Handler)

    Benchmark("DATA frame decode (48 B)") { benchmark in
        let pair = try ConnectedPair()
        let stream = HTTP2StreamID(1)
        let open = try pair.clientBytes([HTTP2Frame(streamID: stream, payload: .headers(.init(headers: grpcRequest)))])
        try pair.server.writeInbound(open)
        try pair.server.drainInbound()
        let data = HTTP2Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(payload()))))
        let bytes = try pair.clientBytes(Array(repeating: data, count: benchmark.scaledIterations.count))
        var frames: [ByteBuffer] = []
        var cursor = bytes
        while let frame = cursor.readSlice(length: 9 + dataPayloadSize) { frames.append(frame) }
        precondition(frames.count == benchmark.scaledIterations.count)
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            try pair.server.writeInbound(frames[index])
            blackHole(try pair.server.readInbound(as: HTTP2Frame.self))
        }
        benchmark.stopMeasurement()
        pair.finish()
    }

    Benchmark("DATA frame encode (48 B)") { benchmark in
        let pair = try ConnectedPair()
        let stream = HTTP2StreamID(1)
        let open = try pair.clientBytes([HTTP2Frame(streamID: stream, payload: .headers(.init(headers: grpcRequest)))])
        try pair.server.writeInbound(open)
        try pair.server.drainInbound()
        pair.server.writeAndFlush(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: grpcResponse))), promise: nil)
        _ = try pair.server.drainOutbound()
        let data = HTTP2Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(payload()))))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            pair.server.writeAndFlush(data, promise: nil)
            while let bytes = try pair.server.readOutbound(as: IOData.self) { blackHole(bytes) }
        }
        benchmark.stopMeasurement()
        pair.finish()
    }

    Benchmark("HEADERS frame decode (gRPC request)") { benchmark in
        let pair = try ConnectedPair()
        let warm = try pair.clientBytes([HTTP2Frame(streamID: 1, payload: .headers(.init(headers: grpcRequest)))])
        try pair.server.writeInbound(warm)
        try pair.server.drainInbound()
        var frames: [ByteBuffer] = []
        for index in benchmark.scaledIterations {
            let id = HTTP2StreamID(3 + 2 * index)
            frames.append(try pair.clientBytes([HTTP2Frame(streamID: id, payload: .headers(.init(headers: grpcRequest)))]))
        }
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            try pair.server.writeInbound(frames[index])
            blackHole(try pair.server.readInbound(as: HTTP2Frame.self))
        }
        benchmark.stopMeasurement()
        pair.finish()
    }

    Benchmark("HEADERS frame encode (gRPC response)") { benchmark in
        let pair = try ConnectedPair()
        let count = benchmark.scaledIterations.count
        let opens = (0...count).map { index in
            HTTP2Frame(streamID: HTTP2StreamID(1 + 2 * index), payload: .headers(.init(headers: grpcRequest)))
        }
        try pair.server.writeInbound(try pair.clientBytes(opens))
        try pair.server.drainInbound()
        pair.server.writeAndFlush(HTTP2Frame(streamID: 1, payload: .headers(.init(headers: grpcResponse))), promise: nil)
        _ = try pair.server.drainOutbound()
        let responses = (1...count).map { index in
            HTTP2Frame(streamID: HTTP2StreamID(1 + 2 * index), payload: .headers(.init(headers: grpcResponse)))
        }
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            pair.server.writeAndFlush(responses[index], promise: nil)
            while let bytes = try pair.server.readOutbound(as: IOData.self) { blackHole(bytes) }
        }
        benchmark.stopMeasurement()
        pair.finish()
    }

    // MARK: HPACK (NIOHPACK)

    Benchmark("HPACK encode (gRPC request)") { benchmark in
        var (_, encoder, _) = try steadyBlock(grpcRequest)
        var out = allocator.buffer(capacity: 1024)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            out.clear()
            try encoder.encode(headers: grpcRequest, to: &out)
            blackHole(out)
        }
        benchmark.stopMeasurement()
    }

    Benchmark("HPACK decode (gRPC request)") { benchmark in
        var (block, _, decoder) = try steadyBlock(grpcRequest)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var copy = block
            blackHole(try decoder.decodeHeaders(from: &copy))
        }
        benchmark.stopMeasurement()
        block.clear()
    }

    Benchmark("HPACK encode (gRPC response)") { benchmark in
        var (_, encoder, _) = try steadyBlock(grpcResponse)
        var out = allocator.buffer(capacity: 1024)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            out.clear()
            try encoder.encode(headers: grpcResponse, to: &out)
            blackHole(out)
        }
        benchmark.stopMeasurement()
    }

    Benchmark("HPACK decode (gRPC response)") { benchmark in
        var (block, _, decoder) = try steadyBlock(grpcResponse)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var copy = block
            blackHole(try decoder.decodeHeaders(from: &copy))
        }
        benchmark.stopMeasurement()
        block.clear()
    }

    // MARK: A whole request through the connection handler

    // One op = a GET /hello request (one HEADERS frame with END_STREAM, steady-state HPACK)
    // written into an EmbeddedChannel holding NIOHTTP2Handler with its inline stream
    // multiplexer; the stream channel's HelloHandler answers HEADERS + DATA "Hello, world!";
    // the response bytes are read back out. The server's whole per-request work except the
    // socket, set up as Sources/NIOHTTP2Server is.
    Benchmark("Server request GET /hello (handler, EmbeddedChannel)") { benchmark in
        let pair = try ConnectedPair()  // only its client is used, to make request bytes
        let server = EmbeddedChannel()
        var connectionConfiguration = NIOHTTP2Handler.ConnectionConfiguration()
        connectionConfiguration.initialSettings = [HTTP2Setting(parameter: .maxConcurrentStreams, value: 1000)]
        let handler = NIOHTTP2Handler(mode: .server, eventLoop: server.eventLoop,
                                      connectionConfiguration: connectionConfiguration,
                                      streamConfiguration: .init()) { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(HelloHandler())
            }
        }
        try server.pipeline.syncOperations.addHandler(handler)
        try server.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        // A fresh client for this server: handshake, then one request to warm HPACK.
        let client = EmbeddedChannel()
        try client.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .client))
        try client.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        func shuttle() throws {
            var moved = true
            while moved {
                moved = false
                if let bytes = try client.drainOutbound() { try server.writeInbound(bytes); moved = true }
                server.embeddedEventLoop.run()
                if let bytes = try server.drainOutbound() { try client.writeInbound(bytes); moved = true }
            }
        }
        try shuttle()
        client.writeAndFlush(HTTP2Frame(streamID: 1, payload: .headers(.init(headers: helloRequest, endStream: true))), promise: nil)
        try shuttle()
        try client.drainInbound()
        var requests: [ByteBuffer] = []
        for index in benchmark.scaledIterations {
            let id = HTTP2StreamID(3 + 2 * index)
            client.writeAndFlush(HTTP2Frame(streamID: id, payload: .headers(.init(headers: helloRequest, endStream: true))), promise: nil)
            requests.append(try client.drainOutbound()!)
        }
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            try server.writeInbound(requests[index])
            server.embeddedEventLoop.run()
            while let bytes = try server.readOutbound(as: IOData.self) { blackHole(bytes) }
        }
        benchmark.stopMeasurement()
        requests.removeAll()
        _ = try? client.finish(acceptAlreadyClosed: true)
        _ = try? server.finish(acceptAlreadyClosed: true)
        pair.finish()
    }
}
