import Foundation

/// Throwaway certificates for the TLS tests, made by `scripts/make-test-certs.sh` (openssl CLI)
/// once per test process into a temporary directory: a CA and a server certificate for
/// localhost / 127.0.0.1 / ::1 / a.example, a chain through an intermediate, one for b.example
/// (SNI), expired, self-signed, wrong-host and untrusted ones, and a client CA with client
/// certificates (mutual TLS). See the script's header for every file.
///
/// ```swift
/// let certificates = try await TestCertificates.shared()
/// let tls = TLSConfiguration.server(certificateChain: .file(certificates.file("server.pem")),
///                                   privateKey: .file(certificates.file("server.key")))
/// ```
public struct TestCertificates: Sendable {
    /// The directory holding the files.
    public let directory: String

    public func file(_ name: String) -> String { directory + "/" + name }

    private static let made = TaskOnce()

    /// The process's certificates, made on first use.
    public static func shared() async throws -> TestCertificates {
        try await made.run {
            let directory = try TemporaryDirectory("certs")
            let script = repositoryRoot() + "/scripts/make-test-certs.sh"
            _ = try Peer(name: "openssl", package: "openssl").locate()  // A clear error when it is missing.
            let result = try await runProcess("/bin/bash", [script, directory.path], timeout: 60)
            guard result.status == 0 else {
                throw InteropError("scripts/make-test-certs.sh failed (\(result.status)):\n\(result.stdout)\(result.stderr)")
            }
            return TestCertificates(directory: directory.path)
        }
    }
}

/// The repository's root (this file is Tests/InteropTestSupport/TestCertificates.swift).
public func repositoryRoot() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}

/// Runs an async body once per process and hands every caller its result.
final class TaskOnce: @unchecked Sendable {
    // @unchecked Sendable: `task` is only touched under `lock`.
    private let lock = NSLock()
    private var task: Task<TestCertificates, any Error>?

    func run(_ body: @escaping @Sendable () async throws -> TestCertificates) async throws -> TestCertificates {
        let task = lock.withLock {
            let task = self.task ?? Task { try await body() }
            self.task = task
            return task
        }
        return try await task.value
    }
}
