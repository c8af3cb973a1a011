import Foundation
import Glibc

// MARK: Processes

public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public let seconds: Double
}

/// Runs a program to completion with a hard timeout: past `timeout` seconds it is killed
/// (SIGKILL) and the call throws with its output so far. Output goes through temporary
/// files, so a chatty program never blocks on a full pipe.
public func runProcess(_ executable: String, _ arguments: [String], timeout: Double,
                environment: [String: String]? = nil) async throws -> ProcessResult {
    let scratch = try TemporaryDirectory("run")
    defer { scratch.remove() }
    let outPath = scratch.path + "/stdout"
    let errPath = scratch.path + "/stderr"
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    defer {
        try? out.close()
        try? err.close()
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = out
    process.standardError = err
    if let environment { process.environment = environment }
    let command = ([executable] + arguments).joined(separator: " ")
    let started = Date()
    try runWithDefaultSignalMask(process)
    let finished = try await waitForExit(process, timeout: timeout)
    let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    guard finished else {
        throw InteropError("`\(command)` did not finish within \(timeout) s and was killed\nstdout: \(stdout.suffix(4000))\nstderr: \(stderr.suffix(4000))")
    }
    return ProcessResult(status: process.terminationStatus, stdout: stdout, stderr: stderr,
                         seconds: Date().timeIntervalSince(started))
}

/// Starts `process` with no signal blocked. A child inherits the spawning thread's signal
/// mask, and the test runner's threads block most signals (SIGTERM included), so without
/// this a peer such as nghttpd or h2o would ignore SIGTERM.
public func runWithDefaultSignalMask(_ process: Process) throws {
    var empty = sigset_t()
    var saved = sigset_t()
    sigemptyset(&empty)
    pthread_sigmask(SIG_SETMASK, &empty, &saved)
    defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
    try process.run()
}

/// Waits up to `timeout` seconds for `process` to exit; kills it (SIGKILL) and reaps it
/// when it does not. Returns whether it exited on its own.
public func waitForExit(_ process: Process, timeout: Double) async throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning {
        if Date() >= deadline {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return false
        }
        try? await Task.sleep(for: .milliseconds(10))
    }
    process.waitUntilExit()
    return true
}

/// A long-running process (a server) with its output captured in a file, in `environment`
/// (by default this process's). `stop()` kills it; `stop()` is idempotent.
// @unchecked Sendable: started in init and stopped by the test that owns it; Process itself is
// thread-safe for terminate and wait.
public final class BackgroundProcess: @unchecked Sendable {
    public let name: String
    public let process = Process()
    public let logPath: String
    private let directory: TemporaryDirectory
    private var stopped = false

    public init(_ executable: String, _ arguments: [String], name: String, currentDirectory: String? = nil,
                environment: [String: String]? = nil) throws {
        self.name = name
        directory = try TemporaryDirectory(name)
        logPath = directory.path + "/output.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        if let environment { process.environment = environment }
        do {
            try runWithDefaultSignalMask(process)
        } catch {
            directory.remove()
            throw InteropError("cannot start \(name) (\(executable)): \(error)")
        }
        try? log.close()
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    public var isRunning: Bool { process.isRunning }

    /// How the process ended, for messages: "exit status N" or "signal N".
    public var exitDescription: String {
        guard !process.isRunning else { return "still running" }
        return process.terminationReason == .uncaughtSignal
            ? "killed by signal \(process.terminationStatus)" : "exit status \(process.terminationStatus)"
    }

    /// Stops the process: SIGTERM, then SIGKILL after `grace` seconds; waits for it.
    public func stop(grace: Double = 2) async {
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            _ = try? await waitForExit(process, timeout: grace)
        }
        directory.remove()
    }

    /// Polls the captured output until `match` finds what it wants, the process exits, or
    /// `timeout` seconds pass.
    public func waitForOutput<T>(timeout: Double, _ match: (String) -> T?) async throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let text = log
            if let found = match(text) { return found }
            guard process.isRunning else {
                throw InteropError("\(name) exited (\(exitDescription)) before it was ready; output:\n\(text.suffix(4000))")
            }
            guard Date() < deadline else {
                throw InteropError("\(name) was not ready within \(timeout) s; output:\n\(text.suffix(4000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Runs `body` with `process`, stopping the process afterwards whatever happens.
public func withBackgroundProcess<T>(_ process: BackgroundProcess, _ body: (BackgroundProcess) async throws -> T) async throws -> T {
    do {
        let result = try await body(process)
        await process.stop()
        return result
    } catch {
        await process.stop()
        throw error
    }
}

/// A field of /proc/PID/status in KiB (`VmRSS`: resident now, `VmHWM`: the peak), nil when
/// the process is gone or the field is missing.
public func processMemoryKiB(_ pid: Int32, _ field: String = "VmRSS") -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("\(field):") }) else { return nil }
    return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
}
