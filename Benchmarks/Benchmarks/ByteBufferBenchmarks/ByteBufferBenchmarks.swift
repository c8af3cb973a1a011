import Benchmark
import Loop

// ByteBuffer micro benchmarks: time and allocations per operation.
// Run: cd Benchmarks && swift package --disable-sandbox benchmark --target ByteBufferBenchmarks
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )

    // One op = write a UInt64, UInt32, UInt16 and UInt8 (big endian), then read them back.
    Benchmark("ByteBuffer write+read integers (8+4+2+1 B)") { benchmark in
        var buffer = ByteBuffer(capacity: 64)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            buffer.clear()
            buffer.writeInteger(UInt64(truncatingIfNeeded: i))
            buffer.writeInteger(UInt32(truncatingIfNeeded: i))
            buffer.writeInteger(UInt16(truncatingIfNeeded: i))
            buffer.writeInteger(UInt8(truncatingIfNeeded: i))
            blackHole(buffer.readInteger(as: UInt64.self))
            blackHole(buffer.readInteger(as: UInt32.self))
            blackHole(buffer.readInteger(as: UInt16.self))
            blackHole(buffer.readInteger(as: UInt8.self))
        }
        benchmark.stopMeasurement()
        blackHole(buffer)
    }

    // One op = append 64 bytes, then take them out as a slice sharing the storage.
    Benchmark("ByteBuffer writeBytes(64) + readSlice(64)") { benchmark in
        let payload = [UInt8](repeating: 0x61, count: 64)
        var buffer = ByteBuffer(capacity: 4096)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            buffer.clear()
            payload.withUnsafeBytes { _ = buffer.writeBytes($0) }
            blackHole(buffer.readSlice(length: 64))
        }
        benchmark.stopMeasurement()
        blackHole(buffer)
    }

    // One op = write into a copy of a shared 1 KiB buffer: copy-on-write duplicates storage.
    Benchmark("ByteBuffer CoW copy (1 KiB) on write") { benchmark in
        var original = ByteBuffer(capacity: 1024)
        original.writeRepeatingByte(0x62, count: 1000)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            var copy = original
            copy.writeInteger(UInt8(truncatingIfNeeded: i))
            blackHole(copy)
        }
        benchmark.stopMeasurement()
        blackHole(original)
    }
}
