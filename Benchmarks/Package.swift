// swift-tools-version: 6.1
// Benchmarks for Loop: package-benchmark micro benchmarks and a SwiftNIO echo server to
// compare Loop's EchoServer against. A package of its own so that Loop's users never build
// package-benchmark or SwiftNIO. Run everything with `make bench` (python3 Benchmarks/bench.py).
import PackageDescription

let benchmarkDependency: Target.Dependency = .product(name: "Benchmark", package: "benchmark")
let benchmarkPlugin: Target.PluginUsage = .plugin(name: "BenchmarkPlugin", package: "benchmark")

let package = Package(
    name: "LoopBenchmarks",
    dependencies: [
        .package(name: "Loop", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // SwiftNIO's counterpart of Loop's Sources/examples/EchoServer (same flags, same output).
        .executableTarget(
            name: "NIOEchoServer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // package-benchmark suites: Benchmarks/<Name>/<Name>.swift.
        .executableTarget(
            name: "ByteBufferBenchmarks",
            dependencies: [benchmarkDependency, .product(name: "Loop", package: "Loop")],
            path: "Benchmarks/ByteBufferBenchmarks",
            plugins: [benchmarkPlugin]
        ),
        .executableTarget(
            name: "PipelineBenchmarks",
            dependencies: [benchmarkDependency, .product(name: "Loop", package: "Loop")],
            path: "Benchmarks/PipelineBenchmarks",
            plugins: [benchmarkPlugin]
        ),
    ],
    swiftLanguageModes: [.v6]
)
