import Benchmark
import Loop
import LoopHTTP2

// LoopHTTP2's frame codec and HPACK, the operations that NIOHTTP2Benchmarks measures on
// swift-nio-http2 under the same names. One op = one frame or one header block (scalingFactor
// .kilo: `*` metrics in the output are per op). Header blocks are in steady state: the
// dynamic tables on both ends already hold the fields of an earlier block, as on a
// connection that has carried requests before.
// Run: cd Benchmarks && swift package --disable-sandbox benchmark --target LoopHTTP2Benchmarks

/// A unary gRPC call's request head, as grpc-swift sends it.
let grpcRequest: [HPACKHeader] = [
    HPACKHeader(":method", "POST"),
    HPACKHeader(":scheme", "http"),
    HPACKHeader(":path", "/grpc.testing.TestService/UnaryCall"),
    HPACKHeader(":authority", "localhost:50051"),
    HPACKHeader("content-type", "application/grpc"),
    HPACKHeader("te", "trailers"),
    HPACKHeader("grpc-timeout", "1S"),
    HPACKHeader("grpc-accept-encoding", "identity,deflate,gzip"),
    HPACKHeader("user-agent", "grpc-swift/2.0.0"),
]

/// The response head of the same call.
let grpcResponse: [HPACKHeader] = [
    HPACKHeader(":status", "200"),
    HPACKHeader("content-type", "application/grpc"),
    HPACKHeader("grpc-accept-encoding", "identity,deflate,gzip"),
]

/// The DATA payload of the frame benchmarks (a small gRPC message). 1,000 of them fit in the
/// default 65,535-byte flow-control windows, so the handler-level benchmarks of the NIO side
/// need no WINDOW_UPDATE.
let dataPayloadSize = 48

/// `count` DATA frames on stream 1, back to back.
func dataFrames(count: Int) -> ByteBuffer {
    var payload = ByteBuffer(capacity: dataPayloadSize)
    payload.writeRepeatingByte(0x61, count: dataPayloadSize)
    var bytes = ByteBuffer(capacity: count * (9 + dataPayloadSize))
    for _ in 0..<count {
        HTTP2FrameEncoder.writeData(streamID: 1, payload: payload, endStream: false, into: &bytes)
    }
    return bytes
}

/// An HPACK block of `headers` in steady state: the encoder has encoded them once before.
/// Returns the warm encoder and decoder too (the decoder has decoded the first block).
func steadyBlock(_ headers: [HPACKHeader]) throws -> (block: ByteBuffer, encoder: HPACKEncoder, decoder: HPACKDecoder) {
    var encoder = HPACKEncoder()
    var decoder = HPACKDecoder()
    var first = ByteBuffer(capacity: 256)
    encoder.encode(headers, into: &first)
    _ = try decoder.decode(first)
    var block = ByteBuffer(capacity: 256)
    encoder.encode(headers, into: &block)
    return (block, encoder, decoder)
}

/// A server-side frame decoder (preface read) that has decoded one gRPC request head, and
/// `count` HEADERS frames of the same head on streams 3, 5, ... in steady state.
func requestHeadersFrames(count: Int) throws -> (decoder: HTTP2FrameDecoder, bytes: ByteBuffer) {
    var client = HTTP2FrameEncoder()
    var decoder = HTTP2FrameDecoder(role: .server)
    var warm = ByteBuffer(bytes: http2ClientPreface)
    client.writeHeaders(streamID: 1, headers: grpcRequest, endStream: false, into: &warm)
    decoder.append(warm)
    guard case .headers = try decoder.nextFrame()?.payload else { fatalError("warm-up HEADERS not decoded") }
    var bytes = ByteBuffer(capacity: count * 32)
    for index in 0..<count {
        client.writeHeaders(streamID: UInt32(3 + 2 * index), headers: grpcRequest, endStream: false, into: &bytes)
    }
    return (decoder, bytes)
}

/// The demo server's /hello route (as Sources/examples/HTTP2Server answers it).
final class HelloStreams: HTTP2StreamDelegate {
    static let head = [HPACKHeader(":status", "200"), HPACKHeader("content-type", "text/plain")]
    static let hello = ByteBuffer(string: "Hello, world!")
    func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
        try? stream.sendHeaders(HelloStreams.head, endStream: false)
        try? stream.sendData(HelloStreams.hello, endStream: true)
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

    // MARK: Frames

    Benchmark("DATA frame decode (48 B)") { benchmark in
        var decoder = HTTP2FrameDecoder(role: .client)
        decoder.append(dataFrames(count: benchmark.scaledIterations.count))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try decoder.nextFrame())
        }
        benchmark.stopMeasurement()
    }

    // The same decode, one frame per iteration and mallocs only: the exact count for the
    // "0 allocations per DATA frame decoded" goal (no rounding of a per-1,000 count).
    Benchmark("DATA frame decode (48 B), malloc gate",
              configuration: .init(metrics: [.mallocCountTotal], scalingFactor: .one, maxDuration: .seconds(1),
                                   maxIterations: 10_000)) { benchmark in
        var decoder = HTTP2FrameDecoder(role: .client)
        decoder.append(dataFrames(count: 2))
        blackHole(try decoder.nextFrame())
        benchmark.startMeasurement()
        blackHole(try decoder.nextFrame())
        benchmark.stopMeasurement()
    }

    Benchmark("DATA frame encode (48 B)") { benchmark in
        var payload = ByteBuffer(capacity: dataPayloadSize)
        payload.writeRepeatingByte(0x61, count: dataPayloadSize)
        var out = ByteBuffer(capacity: 1024)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            out.clear()
            HTTP2FrameEncoder.writeData(streamID: 1, payload: payload, endStream: false, into: &out)
            blackHole(out)
        }
        benchmark.stopMeasurement()
    }

    Benchmark("HEADERS frame decode (gRPC request)") { benchmark in
        var (decoder, bytes) = try requestHeadersFrames(count: benchmark.scaledIterations.count)
        decoder.append(bytes)
        bytes = ByteBuffer()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try decoder.nextFrame())
        }
        benchmark.stopMeasurement()
    }

    Benchmark("HEADERS frame encode (gRPC response)") { benchmark in
        var encoder = HTTP2FrameEncoder()
        var out = ByteBuffer(capacity: 1024)
        encoder.writeHeaders(streamID: 1, headers: grpcResponse, endStream: false, into: &out)
        var streamID: UInt32 = 3
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            out.clear()
            encoder.writeHeaders(streamID: streamID, headers: grpcResponse, endStream: false, into: &out)
            streamID += 2
            blackHole(out)
        }
        benchmark.stopMeasurement()
    }

    // MARK: HPACK

    Benchmark("HPACK encode (gRPC request)") { benchmark in
        var (_, encoder, _) = try steadyBlock(grpcRequest)
        var out = ByteBuffer(capacity: 1024)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            out.clear()
            encoder.encode(grpcRequest, into: &out)
            blackHole(out)
        }
        benchmark.stopMeasurement()
    }

    Benchmark("HPACK decode (gRPC request)") { benchmark in
        var (block, _, decoder) = try steadyBlock(grpcRequest)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try decoder.decode(block))
        }
        benchmark.stopMeasurement()
        block.clear()
    }

    Benchmark("HPACK encode (gRPC response)") { benchmark in
        var (_, encoder, _) = try steadyBlock(grpcResponse)
        var out = ByteBuffer(capacity: 1024)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            out.clear()
            encoder.encode(grpcResponse, into: &out)
            blackHole(out)
        }
        benchmark.stopMeasurement()
    }

    Benchmark("HPACK decode (gRPC response)") { benchmark in
        var (block, _, decoder) = try steadyBlock(grpcResponse)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try decoder.decode(block))
        }
        benchmark.stopMeasurement()
        block.clear()
    }

    // MARK: A whole request through the connection handler

    // One op = a GET /hello request (one HEADERS frame with END_STREAM, steady-state HPACK)
    // written into an EmbeddedChannel holding HTTP2ConnectionHandler, whose stream delegate
    // answers HEADERS + DATA "Hello, world!"; the response bytes are read back out. The
    // server's whole per-request work except the socket.
    Benchmark("Server request GET /hello (handler, EmbeddedChannel)") { benchmark in
        let handler = HTTP2ConnectionHandler(configuration: HTTP2Configuration(role: .server), delegate: HelloStreams())
        let channel = EmbeddedChannel(handlers: [handler])
        var client = HTTP2FrameEncoder()
        var handshake = ByteBuffer(bytes: http2ClientPreface)
        HTTP2FrameEncoder.writeSettings([], into: &handshake)
        HTTP2FrameEncoder.writeSettingsAck(into: &handshake)
        let request = [HPACKHeader(":method", "GET"), HPACKHeader(":scheme", "http"),
                       HPACKHeader(":path", "/hello"), HPACKHeader(":authority", "127.0.0.1:8080")]
        client.writeHeaders(streamID: 1, headers: request, endStream: true, into: &handshake)
        try channel.writeInbound(handshake)
        while try channel.readOutbound(as: ByteBuffer.self) != nil {}
        var requests: [ByteBuffer] = []
        requests.reserveCapacity(benchmark.scaledIterations.count)
        for index in 0..<benchmark.scaledIterations.count {
            var bytes = ByteBuffer(capacity: 64)
            client.writeHeaders(streamID: UInt32(3 + 2 * index), headers: request, endStream: true, into: &bytes)
            requests.append(bytes)
        }
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            try channel.writeInbound(requests[index])
            while let response = try channel.readOutbound(as: ByteBuffer.self) { blackHole(response) }
        }
        benchmark.stopMeasurement()
        requests.removeAll()
        _ = try? channel.finish()
    }
}
