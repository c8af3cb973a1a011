import CLibev
import Glibc

/// An IPv4 or IPv6 address with a port.
///
/// ```swift
/// let address = try SocketAddress(ipAddress: "127.0.0.1", port: 8080)
/// let resolved = try SocketAddress.resolve(host: "localhost", port: 8080)
/// ```
public enum SocketAddress: Sendable, Equatable, CustomStringConvertible {
    case v4(sockaddr_in)
    case v6(sockaddr_in6)

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

    /// Resolves `host` (a name or a numeric address) with `getaddrinfo`; the first result wins.
    public static func resolve(host: String, port: Int) throws -> SocketAddress {
        if let numeric = try? SocketAddress(ipAddress: host, port: port) { return numeric }
        guard (0...65535).contains(port) else { throw SocketAddressError.invalidPort(port) }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &results)
        guard rc == 0, let first = results else {
            throw SocketAddressError.unresolvable(host: host, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(results) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            if info.pointee.ai_family == AF_INET {
                return .v4(info.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee })
            }
            if info.pointee.ai_family == AF_INET6 {
                return .v6(info.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee })
            }
            entry = info.pointee.ai_next
        }
        throw SocketAddressError.unresolvable(host: host, reason: "no IPv4 or IPv6 address")
    }

    /// The port.
    public var port: Int {
        switch self {
        case .v4(let address): return Int(UInt16(bigEndian: address.sin_port))
        case .v6(let address): return Int(UInt16(bigEndian: address.sin6_port))
        }
    }

    /// The numeric address, e.g. `"127.0.0.1"` or `"::1"`.
    public var ipAddress: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch self {
        case .v4(var address): inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count))
        case .v6(var address): inet_ntop(AF_INET6, &address.sin6_addr, &text, socklen_t(text.count))
        }
        return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// The address family (`AF_INET` or `AF_INET6`).
    public var family: Int32 {
        switch self {
        case .v4: return AF_INET
        case .v6: return AF_INET6
        }
    }

    public var description: String {
        switch self {
        case .v4: return "\(ipAddress):\(port)"
        case .v6: return "[\(ipAddress)]:\(port)"
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
        }
    }

    init?(storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            self = .v4(withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee } })
        case AF_INET6:
            self = .v6(withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee } })
        default:
            return nil
        }
    }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        lhs.family == rhs.family && lhs.ipAddress == rhs.ipAddress && lhs.port == rhs.port
    }
}

/// Errors from making a `SocketAddress`.
public enum SocketAddressError: Error, Equatable, CustomStringConvertible {
    case invalidAddress(String)
    case invalidPort(Int)
    case unresolvable(host: String, reason: String)

    public var description: String {
        switch self {
        case .invalidAddress(let text): return "SocketAddressError.invalidAddress: '\(text)' is not a numeric IPv4 or IPv6 address"
        case .invalidPort(let port): return "SocketAddressError.invalidPort: \(port) is not in 0...65535"
        case .unresolvable(let host, let reason): return "SocketAddressError.unresolvable: cannot resolve '\(host)': \(reason)"
        }
    }
}
