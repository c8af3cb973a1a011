// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for Loop's parsers and its HTTP/2 state machine (issue #9). A package of
// its own, depending on Loop by path, so a user of Loop never builds them: `make fuzz` builds
// it in release with `--sanitize=fuzzer --sanitize=address` and runs each target on its
// corpus (Corpus/<target>/, copied to a scratch directory first). docs/testing.md explains it.

// libFuzzer provides `main` and calls LLVMFuzzerTestOneInput: the executables' sources are
// parsed as a library (no top-level code, no generated main).
let fuzzerSettings: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "LoopFuzz",
    dependencies: [
        // Named: a path dependency is otherwise known by its directory name (a worktree's).
        .package(name: "Loop", path: ".."),
    ],
    targets: [
        // The input cursor and the invariant check shared by the targets.
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "Loop", package: "Loop")]
        ),
        .executableTarget(
            name: "FrameDecoderFuzzer",
            dependencies: ["FuzzSupport", .product(name: "LoopHTTP2", package: "Loop")],
            swiftSettings: fuzzerSettings
        ),
        .executableTarget(
            name: "HPACKDecoderFuzzer",
            dependencies: ["FuzzSupport", .product(name: "LoopHTTP2", package: "Loop")],
            swiftSettings: fuzzerSettings
        ),
        .executableTarget(
            name: "ConnectionFuzzer",
            dependencies: ["FuzzSupport", .product(name: "LoopHTTP2", package: "Loop")],
            swiftSettings: fuzzerSettings
        ),
        .executableTarget(
            name: "GRPCDeframerFuzzer",
            dependencies: ["FuzzSupport", .product(name: "LoopGRPC", package: "Loop")],
            swiftSettings: fuzzerSettings
        ),
        .executableTarget(
            name: "HTTP1ParserFuzzer",
            dependencies: ["FuzzSupport", .product(name: "LoopHTTP1", package: "Loop")],
            swiftSettings: fuzzerSettings
        ),
        .executableTarget(
            name: "HTTP1ResponseParserFuzzer",
            dependencies: ["FuzzSupport", .product(name: "LoopHTTP1", package: "Loop")],
            swiftSettings: fuzzerSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
