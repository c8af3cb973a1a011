import Foundation
import Glibc

// MARK: Ports and files

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released),
/// for peers that cannot report the port they bound.
public func freeLocalPort() throws -> Int {
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
public func portAccepts(_ port: Int) -> Bool {
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
public func waitUntilAccepting(_ process: BackgroundProcess, port: Int, timeout: Double) async throws {
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
/// Opens a blocking TCP connection to 127.0.0.1:`port` (the kernel completes it from the
/// listen backlog whether or not the server accepts it), or returns -1. With
/// `receiveTimeout`, a read gives up after that many seconds.
public func connectRawTCP(_ port: Int, receiveTimeout seconds: Int? = nil) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    if result != 0 { close(fd); return -1 }
    if let seconds {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }
    return fd
}

public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String) throws {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/loop-interop-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
    }

    public func file(_ name: String) -> String { path + "/" + name }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// `count` bytes from /dev/urandom.
public func randomBytes(_ count: Int) throws -> Data {
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
