/// Where a server listens or a client connects: a host and port, or a Unix domain socket.
///
/// The HTTP/2 and gRPC servers and clients take one (their `host:port` entry points make a
/// `.hostAndPort`):
///
/// ```swift
/// let server = try await GRPCServer.bind(.unixDomainSocket(path: "/run/app/grpc.sock"), group: group, services: [Greeter()])
/// let channel = GRPCChannel(endpoint: .unixDomainSocket(path: "/run/app/grpc.sock"), group: group)
/// ```
public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// A host name or numeric address, and a port. A client tries every address of a name
    /// in `getaddrinfo`'s order; a server listens on the first.
    case hostAndPort(host: String, port: Int)
    /// A Unix domain socket at `path` (at most
    /// `SocketAddress.maximumUnixDomainSocketPathLength` bytes).
    case unixDomainSocket(path: String)

    /// The `:authority` an HTTP/2 or gRPC client sends unless told otherwise: `host:port`, or
    /// `localhost` for a Unix domain socket (as grpc-go does for `unix:` targets).
    public var defaultAuthority: String {
        switch self {
        case .hostAndPort(let host, let port): return "\(host):\(port)"
        case .unixDomainSocket: return "localhost"
        }
    }

    /// `host:port`, or `unix:` and the path.
    public var description: String {
        switch self {
        case .hostAndPort(let host, let port): return "\(host):\(port)"
        case .unixDomainSocket(let path): return "unix:\(path)"
        }
    }
}
