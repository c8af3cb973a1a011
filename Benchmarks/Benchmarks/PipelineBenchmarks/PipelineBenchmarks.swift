import Benchmark
import Loop

/// Passes every inbound event on unchanged (ChannelInboundHandler's defaults).
final class PassThroughHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
}

// Pipeline traversal: one op = writeInbound a ByteBuffer through 5 pass-through handlers
// of an EmbeddedChannel (read + read complete), then readInbound it at the tail.
// Run: cd Benchmarks && swift package --disable-sandbox benchmark --target PipelineBenchmarks
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )

    Benchmark("Pipeline 5 pass-through handlers: writeInbound+readInbound") { benchmark in
        let channel = EmbeddedChannel(handlers: (0..<5).map { _ in PassThroughHandler() })
        var message = ByteBuffer(capacity: 64)
        message.writeRepeatingByte(0x63, count: 64)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try channel.writeInbound(message)
            blackHole(try channel.readInbound(as: ByteBuffer.self))
        }
        benchmark.stopMeasurement()
        _ = try channel.finish()
    }
}
