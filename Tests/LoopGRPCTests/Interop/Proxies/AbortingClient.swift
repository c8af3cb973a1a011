import Foundation
import InteropTestSupport

/// A client that makes aborted calls and counts how each ended: our in-process Loop client,
/// grpcio (Scripts/grpcio_peer.py abort) or grpc-go (abort_peer, built by `make peers`).
enum AbortingClient: String, CaseIterable, Sendable, CustomStringConvertible {
    case loop
    case grpcio
    case grpcGo = "grpc-go"

    var description: String { rawValue }

    /// Makes `count` calls of `kind` to 127.0.0.1:`port`, at most `concurrency` at a time
    /// on one channel, and returns how they ended.
    func run(_ kind: AbortedCallKind, port: Int, count: Int = 1000, concurrency: Int = 20) async throws -> StatusCounts {
        switch self {
        case .loop:
            return try await loopClientAbortedCalls(kind, port: port, count: count, concurrency: concurrency)
        case .grpcio:
            let python = try await locatePythonWithGRPC()
            try requirePeerProtos()
            return try await Self.runPeer(python, [grpcioPeerScript, "abort", "--port", String(port), "--kind", kind.rawValue,
                                                  "--count", String(count), "--concurrency", String(concurrency)])
        case .grpcGo:
            let peer = try locateCachedPeer("abort_peer")
            return try await Self.runPeer(peer, ["-addr", "127.0.0.1:\(port)", "-kind", kind.rawValue,
                                                 "-count", String(count), "-concurrency", String(concurrency)])
        }
    }

    private static func runPeer(_ executable: String, _ arguments: [String]) async throws -> StatusCounts {
        let result = try await runProcess(executable, arguments, timeout: 120)
        guard result.status == 0 else {
            throw InteropError("`\(executable) \(arguments.joined(separator: " "))` exited \(result.status):\n"
                               + "\(result.stdout.suffix(2000))\(result.stderr.suffix(3000))")
        }
        var counts = try StatusCounts(peerOutput: result.stdout)
        counts.note = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        return counts
    }
}
