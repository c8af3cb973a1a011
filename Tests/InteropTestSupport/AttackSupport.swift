import Foundation
import Testing

/// What one run of Tests/LoopHTTP2Tests/Interop/Scripts/h2_attacker.py reports.
public struct AttackerReport: Decodable, Sendable, CustomStringConvertible {
    public let attack: String
    public let bytesSent: Int?
    public let seconds: Double?
    public let sendBlocked: Bool?
    public let goawayCode: String?
    public let goawayDebug: String?
    public let goawayAfter: Double?
    public let closed: Bool?
    public let sendError: String?
    public let error: String?

    public var description: String {
        "\(attack): sent \(bytesSent ?? 0) bytes in \(seconds ?? 0) s, GOAWAY \(goawayCode ?? "none")"
            + (goawayAfter.map { " after \($0) s" } ?? "") + (goawayDebug.map { " (\"\($0)\")" } ?? "")
            + ", closed \(closed ?? false), send blocked \(sendBlocked ?? false)" + (error.map { ", error \($0)" } ?? "")
    }
}

/// The attacker script, next to the HTTP/2 interop tests.
public func attackerScriptPath(filePath: String = #filePath) -> String {
    // Tests/InteropTestSupport/AttackSupport.swift → Tests/LoopHTTP2Tests/Interop/Scripts/h2_attacker.py
    URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LoopHTTP2Tests/Interop/Scripts/h2_attacker.py").path
}

/// The server's resident memory, sampled every 20 ms while something runs.
public final class MemorySampler: @unchecked Sendable {
    private let pid: Int32
    private let lock = NSLock()
    private var peakKiB = 0
    private var running = true
    private var thread: Thread?

    public init(pid: Int32) {
        self.pid = pid
    }

    public func start() {
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                if let rss = processMemoryKiB(pid) { lock.withLock { peakKiB = max(peakKiB, rss) } }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        self.thread = thread
        thread.start()
    }

    /// Stops sampling; the highest VmRSS seen, in KiB.
    public func stop() -> Int {
        lock.withLock {
            running = false
            return peakKiB
        }
    }
}

/// Runs one attack against 127.0.0.1:`port` for at most `seconds` and returns its report.
public func runAttack(_ python: String, _ attack: String, port: Int, seconds: Double) async throws -> AttackerReport {
    let result = try await runProcess(python, [attackerScriptPath(), String(port), attack, String(seconds)], timeout: seconds + 30)
    guard let line = result.stdout.split(separator: "\n").last, let data = line.data(using: .utf8) else {
        throw InteropError("h2_attacker.py \(attack) printed nothing (status \(result.status)): \(result.stderr)")
    }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let report = try decoder.decode(AttackerReport.self, from: data)
    if let error = report.error { throw InteropError("h2_attacker.py \(attack): \(error)") }
    return report
}

/// Requests a good client completed while an attack ran, and what went wrong with others.
public struct GoodClientTally: Sendable, CustomStringConvertible {
    public var succeeded = 0
    public var failures: [String] = []
    public init() {}
    public var description: String { "\(succeeded) good requests served, \(failures.count) failed\(failures.isEmpty ? "" : ": \(failures.prefix(3))")" }
}
