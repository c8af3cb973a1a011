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
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
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
        // swift-nio-http2's counterpart of Loop's Sources/examples/HTTP2Server (h2c prior
        // knowledge; GET /hello, GET /delay/MS; same flags and banner).
        .executableTarget(
            name: "NIOHTTP2Server",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
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
        // HTTP/2 frame codec and HPACK, the same operations on both sides (one target each,
        // as the two libraries share type names: ByteBuffer, HPACKHeader, HTTP2Frame, ...).
        .executableTarget(
            name: "LoopHTTP2Benchmarks",
            dependencies: [
                benchmarkDependency,
                .product(name: "Loop", package: "Loop"),
                .product(name: "LoopHTTP2", package: "Loop"),
            ],
            path: "Benchmarks/LoopHTTP2Benchmarks",
            plugins: [benchmarkPlugin]
        ),
        .executableTarget(
            name: "NIOHTTP2Benchmarks",
            dependencies: [
                benchmarkDependency,
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            path: "Benchmarks/NIOHTTP2Benchmarks",
            plugins: [benchmarkPlugin]
        ),
    ],
    swiftLanguageModes: [.v6]
)
