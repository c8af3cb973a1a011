// swift-tools-version: 6.1
import PackageDescription

/// swift-argument-parser, for the example programs and their tests only (see below).
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let coreMetrics: Target.Dependency = .product(name: "CoreMetrics", package: "swift-metrics")
/// What the tests of logging and metrics assert with: an in-memory log handler and a test metrics factory.
let observabilityTestKits: [Target.Dependency] = [
    logging, coreMetrics,
    .product(name: "InMemoryLogging", package: "swift-log"),
    .product(name: "MetricsTestKit", package: "swift-metrics"),
]

let package = Package(
    name: "Loop",
    products: [
        .library(name: "Loop", targets: ["Loop"]),
        .library(name: "LoopTLS", targets: ["LoopTLS"]),
        .library(name: "LoopHTTP1", targets: ["LoopHTTP1"]),
        .library(name: "LoopHTTP2", targets: ["LoopHTTP2"]),
        .library(name: "LoopGRPC", targets: ["LoopGRPC"]),
        .library(name: "LoopGRPCProtobuf", targets: ["LoopGRPCProtobuf"]),
        // The HTTP/JSON → gRPC gateway's I/O-free core (routes, request and response mapping).
        .library(name: "LoopGRPCGateway", targets: ["LoopGRPCGateway"]),
        .library(name: "LoopServiceLifecycle", targets: ["LoopServiceLifecycle"]),
        // Distributed tracing for gRPC calls (swift-distributed-tracing): LoopGRPC itself does
        // not depend on it.
        .library(name: "LoopGRPCTracing", targets: ["LoopGRPCTracing"]),
        // Code generation for a user's own .proto files: the protoc plugin, and the SwiftPM
        // build plugin that runs it (with protoc-gen-swift) on every build.
        .executable(name: "protoc-gen-loop-grpc", targets: ["protoc-gen-loop-grpc"]),
        .plugin(name: "LoopGRPCGenerator", targets: ["LoopGRPCGenerator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // Flag parsing for the example programs only: no library product (Loop, LoopHTTP2,
        // LoopGRPC, LoopGRPCProtobuf) depends on it, only ExampleSupport and the executables.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Build-time only: the `swift package generate-documentation` command that `make docs`
        // runs over each library's .docc catalog. A plugin, so no library or product links it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // Logging and metrics APIs (docs/architecture.md, "Logging and metrics"): LoopHTTP2 and
        // LoopGRPC log through a `Logger` from their configurations and count through
        // swift-metrics; neither prints nor exports anything unless the application says so.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // Prometheus exposition, for the Greeter example's /metrics only.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // ServiceGroup (signals, graceful shutdown) for LoopServiceLifecycle only: LoopHTTP2 and
        // LoopGRPC do not depend on it.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The Tracer API of LoopGRPCTracing's interceptors (and, for its tests only, InMemoryTracing).
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
    ],
    targets: [
        // C shim over <ev.h> (Debian libev-dev): wraps the macros Swift cannot import.
        .target(
            name: "CLibev",
            linkerSettings: [.linkedLibrary("ev")]
        ),
        .target(
            name: "Loop",
            dependencies: ["CLibev"]
        ),
        // C shim over the system OpenSSL (Debian libssl-dev, 3.0): the macros Swift cannot
        // import and the ALPN callback.
        .target(
            name: "CLoopTLS",
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        // TLS in the pipeline over OpenSSL memory BIOs (the reactor owns the socket).
        .target(
            name: "LoopTLS",
            dependencies: ["Loop", "CLoopTLS"]
        ),
        // HTTP/1.1 (RFC 9112): the I/O-free request parser and response encoder.
        .target(
            name: "LoopHTTP1",
            dependencies: ["Loop"]
        ),
        .target(
            name: "LoopHTTP2",
            // LoopHTTP1's parser and encoder serve HTTP/1.1 on an HTTP/2 server's port
            // (HTTP2Configuration.http1, Sources/LoopHTTP2/OnePort).
            dependencies: ["Loop", "LoopTLS", "LoopHTTP1", logging, coreMetrics]
        ),
        // C shim over <zlib.h> (Debian zlib1g-dev) for gRPC's gzip and deflate encodings.
        .target(
            name: "CZlib",
            linkerSettings: [.linkedLibrary("z")]
        ),
        .target(
            name: "LoopGRPC",
            dependencies: ["Loop", "LoopHTTP2", "LoopTLS", "CZlib", logging, coreMetrics]
        ),
        // The protobuf codec, grpc.health.v1 and generated-code support: kept apart so
        // LoopGRPC's core does not force SwiftProtobuf on users of other codecs.
        .target(
            name: "LoopGRPCProtobuf",
            dependencies: ["LoopGRPC", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // The HTTP/JSON → gRPC gateway, I/O-free: google.api.http path templates and routes,
        // query parameters, path captures and JSON bodies into request messages, responses and
        // statuses into JSON. The HTTP server side calls it.
        .target(
            name: "LoopGRPCGateway",
            dependencies: ["Loop", "LoopHTTP2", "LoopGRPC", "LoopGRPCProtobuf", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // HTTP2Server and GRPCServer as swift-service-lifecycle Services: a ServiceGroup's
        // graceful shutdown (SIGTERM) drains them.
        .target(
            name: "LoopServiceLifecycle",
            dependencies: ["LoopHTTP2", "LoopGRPC", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        // Server and client interceptors that propagate W3C trace context in metadata and open a
        // span per call, ended with the call's final status.
        .target(
            name: "LoopGRPCTracing",
            dependencies: ["Loop", "LoopGRPC", .product(name: "Tracing", package: "swift-distributed-tracing")]
        ),
        // Turns a description of services into Swift source; protoc-gen-loop-grpc feeds it
        // from .proto files.
        .target(
            name: "LoopGRPCCodeGenerator"
        ),
        // The protoc plugin: gRPC service protocols and client stubs for LoopGRPC.
        .executableTarget(
            name: "protoc-gen-loop-grpc",
            dependencies: [
                "LoopGRPCCodeGenerator",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "SwiftProtobufPluginLibrary", package: "swift-protobuf"),
            ]
        ),
        // The build plugin: runs protoc with protoc-gen-swift and protoc-gen-loop-grpc on the
        // .proto files of a target that has a loop-grpc.json (see README, "Your own service").
        .plugin(
            name: "LoopGRPCGenerator",
            capability: .buildTool(),
            dependencies: [
                "protoc-gen-loop-grpc",
                .product(name: "protoc-gen-swift", package: "swift-protobuf"),
            ]
        ),
        // The example programs' options (ArgumentParser) and output set-up. Only the examples
        // (and their tests) depend on ExampleSupport, InteropSupport and ArgumentParser.
        .target(
            name: "ExampleSupport",
            dependencies: ["CLibev", "LoopGRPCProtobuf", argumentParser, .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Sources/examples/ExampleSupport"
        ),
        .executableTarget(
            name: "EchoServer",
            dependencies: ["Loop", "ExampleSupport", argumentParser],
            path: "Sources/examples/EchoServer"
        ),
        .executableTarget(
            name: "HTTP2Server",
            dependencies: ["Loop", "LoopHTTP2", "LoopTLS", "LoopServiceLifecycle", "ExampleSupport", argumentParser, logging],
            path: "Sources/examples/HTTP2Server"
        ),
        .executableTarget(
            name: "HTTP2Client",
            dependencies: ["Loop", "LoopHTTP2", "LoopTLS", "ExampleSupport", argumentParser],
            path: "Sources/examples/HTTP2Client"
        ),
        // grpc.testing.TestService (generated messages and stubs, the service, the client's
        // test cases) and the interop programs' options, shared by InteropServer, InteropClient
        // and the tests.
        .target(
            name: "InteropSupport",
            dependencies: ["LoopGRPC", "LoopGRPCProtobuf", "ExampleSupport", argumentParser,
                           .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Sources/examples/InteropSupport"
        ),
        .executableTarget(
            name: "InteropServer",
            dependencies: ["Loop", "LoopGRPC", "LoopGRPCProtobuf", "InteropSupport", "ExampleSupport", argumentParser],
            path: "Sources/examples/InteropServer"
        ),
        .executableTarget(
            name: "InteropClient",
            dependencies: ["Loop", "LoopGRPC", "InteropSupport", "ExampleSupport", argumentParser],
            path: "Sources/examples/InteropClient"
        ),
        .executableTarget(
            name: "Greeter",
            dependencies: ["Loop", "LoopGRPC", "LoopGRPCProtobuf", "LoopHTTP2", "LoopServiceLifecycle", "ExampleSupport", argumentParser,
                           .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), logging, coreMetrics,
                           .product(name: "Prometheus", package: "swift-prometheus")],
            path: "Sources/examples/Greeter"
        ),
        // One port: loop.demo.v1.Greetings as gRPC, gRPC-Web and REST/JSON, health, /healthz (`make run`).
        .executableTarget(
            name: "GatewayDemo",
            dependencies: ["Loop", "LoopGRPC", "LoopGRPCProtobuf", "LoopGRPCGateway", "LoopHTTP2", "LoopServiceLifecycle", "ExampleSupport", argumentParser,
                           .product(name: "SwiftProtobuf", package: "swift-protobuf"), logging],
            path: "Sources/examples/GatewayDemo",
            exclude: ["Protos"]
        ),
        // The README's production-style server (lifecycle, logging, metrics, tracing): the
        // README shows this file, and ExamplesTests checks they are the same and runs it.
        .executableTarget(
            name: "ProductionServer",
            dependencies: ["Loop", "LoopGRPC", "LoopGRPCProtobuf", "LoopGRPCTracing", "LoopHTTP2", "LoopServiceLifecycle", logging,
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Sources/examples/ProductionServer"
        ),
        // A gRPC / HTTP/2 reverse proxy over LoopHTTP2's HTTP2Proxy (issue #11).
        .executableTarget(
            name: "GRPCProxy",
            dependencies: ["Loop", "LoopHTTP2", "ExampleSupport", argumentParser],
            path: "Sources/examples/GRPCProxy"
        ),
        .executableTarget(
            name: "EchoClient",
            dependencies: ["Loop", "ExampleSupport", argumentParser],
            path: "Sources/examples/EchoClient"
        ),
        // Helpers of the interop tests (peers, processes under hard timeouts, ports) and of the
        // allocation-budget tests, shared by LoopHTTP2Tests and LoopGRPCTests. MallocCounter/ is
        // the C interposer those tests compile with cc and preload into a release server.
        .target(
            name: "InteropTestSupport",
            path: "Tests/InteropTestSupport",
            exclude: ["MallocCounter"]
        ),
        .testTarget(
            name: "LoopTests",
            dependencies: ["Loop"]
        ),
        .testTarget(
            name: "LoopTLSTests",
            dependencies: ["LoopTLS", "InteropTestSupport"]
        ),
        .testTarget(
            name: "LoopGRPCTests",
            dependencies: ["LoopGRPC", "LoopGRPCProtobuf", "InteropSupport", "InteropTestSupport"] + observabilityTestKits,
            exclude: ["Interop/Scripts", "Interop/Go"]
        ),
        .testTarget(
            name: "LoopGRPCTracingTests",
            dependencies: ["Loop", "LoopGRPC", "LoopGRPCTracing",
                           .product(name: "Tracing", package: "swift-distributed-tracing"),
                           .product(name: "InMemoryTracing", package: "swift-distributed-tracing")]
        ),
        .testTarget(
            name: "LoopGRPCProtobufTests",
            dependencies: ["Loop", "LoopGRPC", "LoopGRPCProtobuf", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // Generated from the GatewayDemo's greetings.proto and Protos/ (make generate).
        .testTarget(
            name: "LoopGRPCGatewayTests",
            dependencies: ["Loop", "LoopHTTP2", "LoopGRPC", "LoopGRPCProtobuf", "LoopGRPCGateway", "InteropTestSupport",
                           .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            // The Go control stack and the Python clients of the one-port tests (built and run by them).
            exclude: ["Protos", "Interop/Go", "Interop/Scripts"]
        ),
        .testTarget(
            name: "LoopHTTP1Tests",
            dependencies: ["LoopHTTP1"]
        ),
        .testTarget(
            name: "LoopServiceLifecycleTests",
            dependencies: ["LoopServiceLifecycle", "LoopHTTP2", "LoopGRPC", "InteropTestSupport",
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle")]
        ),
        .testTarget(
            name: "LoopGRPCCodeGeneratorTests",
            dependencies: ["LoopGRPCCodeGenerator"]
        ),
        // The example programs' options, parsed in-process, and the built programs' exit
        // status for --help and bad flags.
        .testTarget(
            name: "ExamplesTests",
            dependencies: ["ExampleSupport", "InteropSupport", "InteropTestSupport", "Loop", "LoopGRPC", argumentParser]
        ),
        .testTarget(
            name: "LoopHTTP2Tests",
            dependencies: ["LoopHTTP2", "LoopTLS", "InteropTestSupport"] + observabilityTestKits,
            // The raw-frame driver is run by the interop tests with python3, from the source tree.
            exclude: ["Interop/Scripts"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Nonisolated async functions run on their caller's executor (SE-0461): a request's task on
// its loop no longer switches executors at every call into an async function (each switch
// asked the runtime for the task's preferred executor: about 200 instructions, ~19 times a
// request through the gateway).
for target in package.targets where target.type == .regular || target.type == .executable {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]
}
