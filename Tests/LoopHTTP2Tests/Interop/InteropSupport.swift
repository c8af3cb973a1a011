import Foundation
import Glibc
import Testing

// Support for the interop tests: real third-party peers (nghttp2, curl, h2o, Python
// hpack) against the HTTP2Server example and HTTP2Client. Every peer is found on PATH; a
// missing one fails the test with the Debian/PyPI package to install (never a skip, so CI
// cannot go green without them). Every process runs under a hard timeout and is killed
// when it expires; servers are killed at the end of each test, also when it fails.
// Foundation is fine here: only the libraries must stay Foundation-free.

/// A failure with a message that says what happened.
struct InteropError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: Peers

/// A third-party program the interop tests drive, and the package that installs it.
struct Peer: Sendable {
    let name: String
    let package: String

    static let nghttp = Peer(name: "nghttp", package: "nghttp2-client")
    static let h2load = Peer(name: "h2load", package: "nghttp2-client")
    static let nghttpd = Peer(name: "nghttpd", package: "nghttp2-server")
    static let curl = Peer(name: "curl", package: "curl")
    static let h2o = Peer(name: "h2o", package: "h2o")
    static let python3 = Peer(name: "python3", package: "python3")

    /// The peer's path on PATH, or an error naming the package to install (whether or not
    /// CI=true: a missing peer always fails).
    func locate() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        let ci = ProcessInfo.processInfo.environment["CI"] == "true" ? " (CI=true: interop peers are required)" : ""
        throw InteropError("peer \(name) missing: run `make test` (installs it) or apt-get install \(package)\(ci)")
    }
}

/// python3 with the PyPI module the raw-frame driver imports (hpack), or an error naming it.
func locatePythonWithHPACK() async throws -> String {
    let python = try Peer.python3.locate()
    let check = try await runProcess(python, ["-c", "import hpack"], timeout: 30)
    guard check.status == 0 else {
        throw InteropError("""
            python module hpack missing for \(python): run `make test` (installs it) or \
            scripts/install-python-deps.sh hpack (pip install hpack)\n\(check.stderr)
            """)
    }
    return python
}

// MARK: Processes

struct ProcessResult: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String
    let seconds: Double
}

/// Runs a program to completion with a hard timeout: past `timeout` seconds it is killed
/// (SIGKILL) and the call throws with its output so far. Output goes through temporary
/// files, so a chatty program never blocks on a full pipe.
func runProcess(_ executable: String, _ arguments: [String], timeout: Double,
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
func runWithDefaultSignalMask(_ process: Process) throws {
    var empty = sigset_t()
    var saved = sigset_t()
    sigemptyset(&empty)
    pthread_sigmask(SIG_SETMASK, &empty, &saved)
    defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
    try process.run()
}

/// Waits up to `timeout` seconds for `process` to exit; kills it (SIGKILL) and reaps it
/// when it does not. Returns whether it exited on its own.
func waitForExit(_ process: Process, timeout: Double) async throws -> Bool {
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

/// A long-running process (a server) with its output captured in a file. `stop()` kills
/// it; `stop()` is idempotent.
final class BackgroundProcess: @unchecked Sendable {
    let name: String
    let process = Process()
    let logPath: String
    private let directory: TemporaryDirectory
    private var stopped = false

    init(_ executable: String, _ arguments: [String], name: String, currentDirectory: String? = nil) throws {
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
        do {
            try runWithDefaultSignalMask(process)
        } catch {
            directory.remove()
            throw InteropError("cannot start \(name) (\(executable)): \(error)")
        }
        try? log.close()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    var isRunning: Bool { process.isRunning }

    /// How the process ended, for messages: "exit status N" or "signal N".
    var exitDescription: String {
        guard !process.isRunning else { return "still running" }
        return process.terminationReason == .uncaughtSignal
            ? "killed by signal \(process.terminationStatus)" : "exit status \(process.terminationStatus)"
    }

    /// Stops the process: SIGTERM, then SIGKILL after `grace` seconds; waits for it.
    func stop(grace: Double = 2) async {
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
    func waitForOutput<T>(timeout: Double, _ match: (String) -> T?) async throws -> T {
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
func withBackgroundProcess<T>(_ process: BackgroundProcess, _ body: (BackgroundProcess) async throws -> T) async throws -> T {
    do {
        let result = try await body(process)
        await process.stop()
        return result
    } catch {
        await process.stop()
        throw error
    }
}

// MARK: The HTTP2Server example

/// The HTTP2Server example binary, built next to the test bundle (the directory of
/// /proc/self/exe: `.build/debug/` or `.build/<triple>/debug/`).
func locateHTTP2ServerBinary() throws -> String {
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
    // An .xctest bundle directory (if the runner is inside one) sits next to the products.
    if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
    let candidate = directory.appendingPathComponent("HTTP2Server").path
    guard FileManager.default.isExecutableFile(atPath: candidate) else {
        throw InteropError("HTTP2Server example not found at \(candidate) (next to the test runner \(executable)): build it with `swift build` (or `swift build --build-tests`) before `swift test`")
    }
    return candidate
}

/// A running HTTP2Server example on 127.0.0.1 and a port the kernel picked (--port 0; the
/// port is read from its "listening on 127.0.0.1:PORT" line, so no port race).
final class DemoServer: Sendable {
    let process: BackgroundProcess
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    private init(process: BackgroundProcess, port: Int) {
        self.process = process
        self.port = port
    }

    static func start(_ extraArguments: [String] = []) async throws -> DemoServer {
        let binary = try locateHTTP2ServerBinary()
        let process = try BackgroundProcess(binary, ["--host", "127.0.0.1", "--port", "0"] + extraArguments, name: "HTTP2Server")
        do {
            let port = try await process.waitForOutput(timeout: 20) { text -> Int? in
                guard let range = text.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else { return nil }
                return Int(text[range].split(separator: ":").last!)
            }
            return DemoServer(process: process, port: port)
        } catch {
            await process.stop()
            throw error
        }
    }

    /// Fails the test (without throwing) when the server is no longer running: it crashed
    /// or exited while the test drove it.
    func expectAlive(_ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if !process.isRunning {
            Issue.record("HTTP2Server died \(context) (\(process.exitDescription)); its output:\n\(process.log.suffix(6000))",
                         sourceLocation: sourceLocation)
        }
    }
}

/// Starts the HTTP2Server example, runs `body`, checks that the server survived, and kills
/// it — also when `body` throws.
func withDemoServer<T>(_ arguments: [String] = [], _ body: (DemoServer) async throws -> T,
                       sourceLocation: SourceLocation = #_sourceLocation) async throws -> T {
    let server = try await DemoServer.start(arguments)
    do {
        let result = try await body(server)
        server.expectAlive("during the test", sourceLocation: sourceLocation)
        await server.process.stop()
        return result
    } catch {
        server.expectAlive("during the test", sourceLocation: sourceLocation)
        await server.process.stop()
        throw error
    }
}

// MARK: Ports and files

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released),
/// for peers that cannot report the port they bound.
func freeLocalPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw InteropError("socket() failed: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw InteropError("bind(127.0.0.1:0) failed: errno \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw InteropError("getsockname failed: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// True when something accepts TCP connections on 127.0.0.1:`port`.
func portAccepts(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}

/// Waits until `process` accepts connections on `port`.
func waitUntilAccepting(_ process: BackgroundProcess, port: Int, timeout: Double) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !portAccepts(port) {
        guard process.isRunning else {
            throw InteropError("\(process.name) exited (\(process.exitDescription)) before accepting on port \(port); output:\n\(process.log.suffix(4000))")
        }
        guard Date() < deadline else {
            throw InteropError("\(process.name) did not accept on 127.0.0.1:\(port) within \(timeout) s; output:\n\(process.log.suffix(4000))")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// A fresh directory under the system temporary directory.
struct TemporaryDirectory: Sendable {
    let path: String

    init(_ label: String) throws {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/loop-interop-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// `count` bytes from /dev/urandom.
func randomBytes(_ count: Int) throws -> Data {
    guard let handle = FileHandle(forReadingAtPath: "/dev/urandom") else { throw InteropError("cannot open /dev/urandom") }
    defer { try? handle.close() }
    var data = Data(capacity: count)
    while data.count < count {
        guard let chunk = try handle.read(upToCount: min(count - data.count, 1 << 24)), !chunk.isEmpty else {
            throw InteropError("/dev/urandom ran dry")
        }
        data.append(chunk)
    }
    return data
}

// MARK: Timeouts for in-process work

/// Runs `operation` with a hard deadline. Past `seconds` the call throws even if the
/// operation ignores cancellation (it is cancelled and left behind), so a hung client can
/// never hang the test run.
func withDeadline<T: Sendable>(_ seconds: Double, _ what: String,
                               _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let once = ResumeOnce<T>()
    return try await withCheckedThrowingContinuation { continuation in
        once.set(continuation)
        let work = Task {
            do { once.resume(.success(try await operation())) } catch { once.resume(.failure(error)) }
        }
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            work.cancel()
            once.resume(.failure(InteropError("\(what) did not finish within \(seconds) s")))
        }
    }
}

/// Resumes a continuation at most once, from any thread.
final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var early: Result<T, any Error>?
    private var done = false

    func set(_ continuation: CheckedContinuation<T, any Error>) {
        lock.lock()
        if let early {
            lock.unlock()
            continuation.resume(with: early)
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    func resume(_ result: Result<T, any Error>) {
        lock.lock()
        guard !done else {
            lock.unlock()
            return
        }
        done = true
        if let continuation {
            self.continuation = nil
            lock.unlock()
            continuation.resume(with: result)
        } else {
            early = result
            lock.unlock()
        }
    }
}

/// Prints a timing line into the test log (the report collects them).
func reportTiming(_ what: String, seconds: Double) {
    print("[interop timing] \(what): \(String(format: "%.2f", seconds)) s")
}

/// The parent of every interop suite. `.serialized` applies to the suites nested in it, so
/// one peer process (or server) at a time runs on the 2-core machine. `swift test --filter
/// Interop` selects them all.
@Suite(.serialized) enum InteropTests {}
