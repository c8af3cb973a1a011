// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Loop",
    products: [
        .library(name: "Loop", targets: ["Loop"]),
        .library(name: "LoopHTTP2", targets: ["LoopHTTP2"]),
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
        .target(
            name: "LoopHTTP2",
            dependencies: ["Loop"]
        ),
        // Command-line parsing shared by the example programs.
        .target(
            name: "ExampleSupport",
            path: "Sources/examples/ExampleSupport"
        ),
        .executableTarget(
            name: "EchoServer",
            dependencies: ["Loop", "ExampleSupport"],
            path: "Sources/examples/EchoServer"
        ),
        .executableTarget(
            name: "HTTP2Server",
            dependencies: ["Loop", "LoopHTTP2", "ExampleSupport"],
            path: "Sources/examples/HTTP2Server"
        ),
        .executableTarget(
            name: "HTTP2Client",
            dependencies: ["Loop", "LoopHTTP2", "ExampleSupport"],
            path: "Sources/examples/HTTP2Client"
        ),
        .executableTarget(
            name: "EchoClient",
            dependencies: ["Loop", "ExampleSupport"],
            path: "Sources/examples/EchoClient"
        ),
        .testTarget(
            name: "LoopTests",
            dependencies: ["Loop"]
        ),
        .testTarget(
            name: "LoopHTTP2Tests",
            dependencies: ["LoopHTTP2"],
            // The raw-frame driver is run by the interop tests with python3, from the source tree.
            exclude: ["Interop/Scripts"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
