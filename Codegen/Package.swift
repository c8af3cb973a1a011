// swift-tools-version: 6.1
// Code generation for Loop: the protoc plugin protoc-gen-loop-grpc (gRPC service protocols
// and client stubs for LoopGRPC) and swift-protobuf's protoc-gen-swift (messages). A package
// of its own so that building or testing Loop never builds SwiftProtobufPluginLibrary.
// Run it with `make generate` from the repository root.
import PackageDescription

let package = Package(
    name: "LoopCodegen",
    products: [
        .executable(name: "protoc-gen-loop-grpc", targets: ["protoc-gen-loop-grpc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // Sources/LoopGRPCCodeGenerator is a symbolic link to the main package's target of
        // the same name (unit-tested there), so both packages compile the same files.
        .target(
            name: "LoopGRPCCodeGenerator"
        ),
        .executableTarget(
            name: "protoc-gen-loop-grpc",
            dependencies: [
                "LoopGRPCCodeGenerator",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "SwiftProtobufPluginLibrary", package: "swift-protobuf"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
