import Foundation

// Shared support of the interop tests (LoopHTTP2Tests, LoopGRPCTests): real third-party
// peers driven as processes. A missing peer fails the test with what installs it (never a
// skip, so CI cannot go green without them). Every process runs under a hard timeout and
// is killed when it expires; servers are killed at the end of each test, also when it
// fails. Foundation is fine here: only the libraries must stay Foundation-free.

/// A failure with a message that says what happened.
public struct InteropError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// " (CI=true: interop peers are required)" when running under CI, for failure messages.
private var ciNote: String {
    ProcessInfo.processInfo.environment["CI"] == "true" ? " (CI=true: interop peers are required)" : ""
}

// MARK: Peers on PATH

/// A third-party program the interop tests drive, found on PATH, and the package that
/// installs it. Test targets add their peers as static members in an extension.
public struct Peer: Sendable {
    public let name: String
    public let package: String

    public init(name: String, package: String) {
        self.name = name
        self.package = package
    }

    public static let python3 = Peer(name: "python3", package: "python3")

    /// The peer's path on PATH, then in the sbin directories (a user's PATH often lacks
    /// them, and Debian puts servers such as haproxy and nginx in /usr/sbin), or an error
    /// naming the package to install (whether or not CI=true: a missing peer always fails).
    public func locate() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/sbin"] where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw InteropError("peer \(name) missing: run `make test` (installs it) or apt-get install \(package)\(ciNote)")
    }
}

/// A Python module a peer script imports, and the PyPI package that provides it.
public struct PythonModule: Sendable {
    public let module: String
    public let package: String

    public init(_ module: String, package: String) {
        self.module = module
        self.package = package
    }
}

/// python3 that imports every one of `modules`, or an error naming what installs them.
/// `installHint` is the make target that installs them (`make test`, `make peers`).
public func locatePython(with modules: [PythonModule], installHint: String = "make test") async throws -> String {
    let python = try Peer.python3.locate()
    let imports = modules.map { "import \($0.module)" }.joined(separator: "; ")
    let check = try await runProcess(python, ["-c", imports], timeout: 30)
    guard check.status == 0 else {
        let names = modules.map(\.module).joined(separator: ", ")
        let packages = modules.map(\.package).joined(separator: " ")
        throw InteropError("""
            python modules \(names) missing for \(python): run `\(installHint)` (installs them) or \
            pip install \(packages)\(ciNote)\n\(check.stderr)
            """)
    }
    return python
}

// MARK: Peers in the cache of `make peers`

/// Where `make peers` (scripts/install-grpc-peers.sh) installs the gRPC peers:
/// `$LOOP_PEERS_DIR`, by default `~/.cache/loop-peers`.
public var peersDirectory: String {
    if let directory = ProcessInfo.processInfo.environment["LOOP_PEERS_DIR"], !directory.isEmpty { return directory }
    return FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/loop-peers"
}

/// A peer that `make peers` built into `<peersDirectory>/bin` (interop_client,
/// interop_server, compression_peer), or an error saying how to install it.
public func locateCachedPeer(_ name: String) throws -> String {
    let candidate = peersDirectory + "/bin/" + name
    guard FileManager.default.isExecutableFile(atPath: candidate) else {
        throw InteropError("peer \(name) missing at \(candidate): run `make peers` (or `make test`, which runs it; "
                           + "scripts/install-grpc-peers.sh builds it)\(ciNote)")
    }
    return candidate
}

// MARK: The package's own programs

/// An executable product of this package (an example: HTTP2Server, InteropServer,
/// InteropClient, Greeter), built next to the test bundle: the directory of
/// /proc/self/exe, `.build/debug/` or `.build/<triple>/debug/`.
public func locateBuiltProduct(_ name: String) throws -> String {
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
    // An .xctest bundle directory (if the runner is inside one) sits next to the products.
    if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
    let candidate = directory.appendingPathComponent(name).path
    guard FileManager.default.isExecutableFile(atPath: candidate) else {
        throw InteropError("\(name) not found at \(candidate) (next to the test runner \(executable)): build it with `swift build --build-tests` (or `swift build`) before `swift test`")
    }
    return candidate
}

/// A release build of an executable product of this package, for the allocation-budget
/// tests (a debug build allocates differently): in the `release` directory next to the test
/// runner's (`.build/<triple>/release/` when the tests run from `.build/<triple>/debug/`).
/// `make test` builds it (`swift build -c release --product NAME`); `swift test` alone does
/// not, so after a change to the sources rebuild it before running those tests by hand.
public func locateReleaseProduct(_ name: String) throws -> String {
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
    if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
    if directory.lastPathComponent != "release" { directory = directory.deletingLastPathComponent().appendingPathComponent("release") }
    let candidate = directory.appendingPathComponent(name).path
    guard FileManager.default.isExecutableFile(atPath: candidate) else {
        let ci = ProcessInfo.processInfo.environment["CI"] == "true" ? " (CI=true: the release build is required)" : ""
        throw InteropError("release \(name) not found at \(candidate): build it with `swift build -c release --product \(name)` "
                           + "(`make test` does) before `swift test`\(ci)")
    }
    return candidate
}

/// Prints a timing line into the test log (the report collects them).
public func reportTiming(_ what: String, seconds: Double) {
    print("[interop timing] \(what): \(String(format: "%.2f", seconds)) s")
}
