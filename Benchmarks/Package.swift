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
        // grpc-swift-2 and its HTTP/2 transport: the peer of Loop's gRPC server (GRPCSwift2Server).
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
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
        // grpc-swift-2's counterpart of Loop's Sources/examples/InteropServer for the gRPC load
        // benchmarks: EmptyCall, UnaryCall, StreamingOutputCall of grpc.testing.TestService, registered
        // by hand on GRPCCore's RPCRouter, served by the plaintext HTTP/2 transport (NIO Posix). The
        // messages are the main repository's generated ones (symlinks in Generated/).
        .executableTarget(
            name: "GRPCSwift2Server",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // A unary gRPC load client on Loop's GRPCChannel (pre-encoded requests, C connections,
        // N concurrent calls, fixed count; calls/s and p50/p99 latency).
        .executableTarget(
            name: "GRPCLoadClient",
            dependencies: [
                .product(name: "Loop", package: "Loop"),
                .product(name: "LoopGRPC", package: "Loop"),
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
