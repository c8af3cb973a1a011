import Foundation
import Testing

// A ChannelHandlerContext belongs to its channel's loop, so it is not Sendable: a handler that
// captures its context in a Task must not compile (the Task would touch loop-owned state from
// another thread). The compiler is the only judge of that, so these tests ask it, with the
// Loop module this test binary was built against.

@Suite struct ChannelHandlerContextSendabilityTests {
    static let handlerUsingItsContextOnTheLoop = """
        import Loop

        final class Echo: ChannelInboundHandler {
            typealias InboundIn = ByteBuffer
            func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
                context.write(data, promise: nil)
                let channel = context.channel
                Task { try await channel.writeAndFlush(data).get() }
            }
        }
        """

    static let handlerCapturingItsContextInATask = """
        import Loop

        final class Echo: ChannelInboundHandler {
            typealias InboundIn = ByteBuffer
            func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
                Task { context.write(data, promise: nil) }
            }
        }
        """

    @Test func usingTheContextOnTheLoopAndTheChannelInATaskCompiles() throws {
        let result = try compile(Self.handlerUsingItsContextOnTheLoop)
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func capturingTheContextInATaskDoesNotCompile() throws {
        let result = try compile(Self.handlerCapturingItsContextInATask)
        #expect(result.status != 0)
        #expect(result.output.contains("risks causing data races"), "\(result.output)")
        #expect(result.output.contains("snippet.swift:6:"), "the error is on the Task line: \(result.output)")
    }

    /// Runs the Swift compiler's checks (through SIL, where region-based isolation is
    /// diagnosed) on `source` against the Loop module of this build.
    private func compile(_ source: String) throws -> (status: Int32, output: String) {
        // The test binary sits in the build's products folder, beside Modules/ and CLibev.build/.
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        let buildFolder = products.pathExtension == "xctest" ? products.deletingLastPathComponent() : products
        let modules = try #require(
            [buildFolder, buildFolder.deletingLastPathComponent()]
                .map { $0.appending(path: "Modules") }
                .first { FileManager.default.fileExists(atPath: $0.appending(path: "Loop.swiftmodule").path) },
            "Loop.swiftmodule beside \(products.path)"
        )
        let moduleMap = modules.deletingLastPathComponent().appending(path: "CLibev.build/module.modulemap")
        let folder = FileManager.default.temporaryDirectory.appending(path: "loop-sendability-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appending(path: "snippet.swift")
        try source.write(to: file, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "swiftc", "-emit-sil", "-o", "/dev/null", "-parse-as-library", "-swift-version", "6",
            "-I", modules.path, "-Xcc", "-fmodule-map-file=\(moduleMap.path)", file.path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
