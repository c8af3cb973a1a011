import CLibev
import Glibc

/// An IPv4 or IPv6 address with a port, or a Unix domain socket path.
///
/// ```swift
/// let address = try SocketAddress(ipAddress: "127.0.0.1", port: 8080)
/// let local = try SocketAddress(unixDomainSocketPath: "/run/app/grpc.sock")
/// let all = try SocketAddress.resolveAll(host: "localhost", port: 8080)  // getaddrinfo's order
/// ```
public enum SocketAddress: Sendable, Equatable, CustomStringConvertible {
    case v4(sockaddr_in)
    case v6(sockaddr_in6)
    /// A Unix domain (`AF_UNIX`) socket; its path is `unixDomainSocketPath`.
    case unix(sockaddr_un)

    /// Parses a numeric IPv4 or IPv6 address (no name lookup).
    public init(ipAddress: String, port: Int) throws {
        guard (0...65535).contains(port) else { throw SocketAddressError.invalidPort(port) }
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, ipAddress, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            self = .v4(v4)
            return
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, ipAddress, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
            self = .v6(v6)
            return
        }
        throw SocketAddressError.invalidAddress(ipAddress)
    }

    /// The longest Unix domain socket path, in bytes (`sun_path` less its terminating NUL: 107 on Linux).
    public static let maximumUnixDomainSocketPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// A Unix domain socket at `path` (a file-system path; the abstract namespace is not supported).
    /// - Throws: `SocketAddressError.unixDomainSocketPathTooLong` when `path` does not fit
    ///   `sun_path`, `SocketAddressError.invalidUnixDomainSocketPath` when it is empty or holds a NUL.
    public init(unixDomainSocketPath path: String) throws {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, !bytes.contains(0) else { throw SocketAddressError.invalidUnixDomainSocketPath(path) }
        guard bytes.count <= SocketAddress.maximumUnixDomainSocketPathLength else {
            throw SocketAddressError.unixDomainSocketPathTooLong(path: path, maximum: SocketAddress.maximumUnixDomainSocketPathLength)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)  // the rest stays zero: the path is NUL-terminated
        }
        self = .unix(address)
    }

    /// Resolves `host` (a name or a numeric address) with `getaddrinfo`; the first result wins.
    /// Blocks the calling thread while a name is looked up (bootstraps resolve off the loop).
    public static func resolve(host: String, port: Int) throws -> SocketAddress {
        try resolveAll(host: host, port: port)[0]
    }

    /// Every IPv4 and IPv6 address of `host`, in `getaddrinfo`'s order (the order a client
    /// should try them in). A numeric address is parsed without a lookup. Blocks the calling
    /// thread while a name is looked up.
    /// - Throws: `SocketAddressError.invalidPort`, or `.unresolvable` naming `host`.
    public static func resolveAll(host: String, port: Int) throws -> [SocketAddress] {
        guard (0...65535).contains(port) else { throw SocketAddressError.invalidPort(port) }
        if let numeric = try? SocketAddress(ipAddress: host, port: port) { return [numeric] }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &results)
        guard rc == 0, let first = results else {
            let reason = rc == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(rc))
            throw SocketAddressError.unresolvable(host: host, reason: reason)
        }
        defer { freeaddrinfo(results) }
        var addresses: [SocketAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            let address: SocketAddress?
            switch info.pointee.ai_family {
            case AF_INET: address = .v4(info.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee })
            case AF_INET6: address = .v6(info.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee })
            default: address = nil
            }
            if let address, !addresses.contains(address) { addresses.append(address) }
            entry = info.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw SocketAddressError.unresolvable(host: host, reason: "no IPv4 or IPv6 address") }
        return addresses
    }

    /// The port (0 for a Unix domain socket).
    public var port: Int {
        switch self {
        case .v4(let address): return Int(UInt16(bigEndian: address.sin_port))
        case .v6(let address): return Int(UInt16(bigEndian: address.sin6_port))
        case .unix: return 0
        }
    }

    /// The numeric address, e.g. `"127.0.0.1"` or `"::1"` (empty for a Unix domain socket).
    public var ipAddress: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch self {
        case .v4(var address): inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count))
        case .v6(var address): inet_ntop(AF_INET6, &address.sin6_addr, &text, socklen_t(text.count))
        case .unix: return ""
        }
        return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// The path of a Unix domain socket (empty for an unnamed one, such as a connecting
    /// client's); nil for IP addresses.
    public var unixDomainSocketPath: String? {
        guard case .unix(var address) = self else { return nil }
        return withUnsafeBytes(of: &address.sun_path) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The address family (`AF_INET`, `AF_INET6` or `AF_UNIX`).
    public var family: Int32 {
        switch self {
        case .v4: return AF_INET
        case .v6: return AF_INET6
        case .unix: return AF_UNIX
        }
    }

    /// `127.0.0.1:8080`, `[::1]:8080`, or a Unix domain socket's path (`(unnamed)` for an
    /// unnamed one).
    public var description: String {
        switch self {
        case .v4: return "\(ipAddress):\(port)"
        case .v6: return "[\(ipAddress)]:\(port)"
        case .unix:
            let path = unixDomainSocketPath ?? ""
            return path.isEmpty ? "(unnamed)" : path
        }
    }

    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        switch self {
        case .v4(var address):
            return try withUnsafePointer(to: &address) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(var address):
            return try withUnsafePointer(to: &address) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        case .unix(var address):
            return try withUnsafePointer(to: &address) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
    }

    init?(storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            self = .v4(withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee } })
        case AF_INET6:
            self = .v6(withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee } })
        case AF_UNIX:
            self = .unix(withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { $0.pointee } })
        default:
            return nil
        }
    }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        switch (lhs, rhs) {
        case (.unix, .unix): return lhs.unixDomainSocketPath == rhs.unixDomainSocketPath
        case (.unix, _), (_, .unix): return false
        default: return lhs.family == rhs.family && lhs.ipAddress == rhs.ipAddress && lhs.port == rhs.port
        }
    }
}

/// Errors from making a `SocketAddress`.
public enum SocketAddressError: Error, Equatable, CustomStringConvertible {
    case invalidAddress(String)
    case invalidPort(Int)
    case unresolvable(host: String, reason: String)
    /// The path does not fit a `sockaddr_un` (at most `maximum` bytes).
    case unixDomainSocketPathTooLong(path: String, maximum: Int)
    /// The path is empty or holds a NUL byte.
    case invalidUnixDomainSocketPath(String)

    public var description: String {
        switch self {
        case .invalidAddress(let text): return "SocketAddressError.invalidAddress: '\(text)' is not a numeric IPv4 or IPv6 address"
        case .invalidPort(let port): return "SocketAddressError.invalidPort: \(port) is not in 0...65535"
        case .unresolvable(let host, let reason): return "SocketAddressError.unresolvable: cannot resolve '\(host)': \(reason)"
        case .unixDomainSocketPathTooLong(let path, let maximum):
            return "SocketAddressError.unixDomainSocketPathTooLong: '\(path)' is \(path.utf8.count) bytes; a Unix domain socket path holds at most \(maximum)"
        case .invalidUnixDomainSocketPath(let path):
            return "SocketAddressError.invalidUnixDomainSocketPath: '\(path)' is empty or holds a NUL byte"
        }
    }
}
