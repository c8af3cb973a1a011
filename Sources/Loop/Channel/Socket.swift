import CLibev
import Glibc

/// The system calls behind channels, with errors turned into `IOError`.
enum Socket {
    static let ignoreSIGPIPE: Void = {
        // A write to a closed peer must be an EPIPE error, never the end of the process.
        signal(SIGPIPE, SIG_IGN)
    }()

    /// A new non-blocking, close-on-exec stream socket (TCP, or Unix domain for `AF_UNIX`).
    static func makeStream(family: Int32) throws -> Int32 {
        _ = ignoreSIGPIPE
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, operation: "socket") }
        return fd
    }

    static func setFlag(_ fd: Int32, level: Int32, name: Int32, _ on: Bool, _ what: String) throws {
        try setInt(fd, level: level, name: name, on ? 1 : 0, what)
    }

    static func setInt(_ fd: Int32, level: Int32, name: Int32, _ value: Int32, _ what: String) throws {
        var value = value
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw IOError(errnoCode: errno, operation: "setsockopt(\(what))")
        }
    }

    /// Whether `option` means anything for a socket of `family`: TCP and port options are
    /// skipped for Unix domain sockets (setting TCP_NODELAY on one would fail).
    static func option(_ option: ChannelOption, appliesTo family: Int32) -> Bool {
        guard family == AF_UNIX else { return true }
        switch option {
        case .tcpNoDelay, .reuseAddress, .reusePort: return false
        default: return true
        }
    }

    /// Applies the socket-level part of `option`; returns false for channel-level options.
    @discardableResult
    static func apply(_ option: ChannelOption, to fd: Int32) throws -> Bool {
        switch option {
        case .tcpNoDelay(let on): try setFlag(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, on, "TCP_NODELAY")
        case .reuseAddress(let on): try setFlag(fd, level: SOL_SOCKET, name: SO_REUSEADDR, on, "SO_REUSEADDR")
        case .reusePort(let on): try setFlag(fd, level: SOL_SOCKET, name: SO_REUSEPORT, on, "SO_REUSEPORT")
        case .keepAlive(let on): try setFlag(fd, level: SOL_SOCKET, name: SO_KEEPALIVE, on, "SO_KEEPALIVE")
        case .receiveBufferSize(let size): try setInt(fd, level: SOL_SOCKET, name: SO_RCVBUF, size, "SO_RCVBUF")
        case .sendBufferSize(let size): try setInt(fd, level: SOL_SOCKET, name: SO_SNDBUF, size, "SO_SNDBUF")
        default: return false
        }
        return true
    }

    static func bind(_ fd: Int32, to address: SocketAddress) throws {
        let rc = address.withSockAddr { Glibc.bind(fd, $0, $1) }
        guard rc == 0 else { throw IOError(errnoCode: errno, operation: "bind to \(address)") }
    }

    static func listen(_ fd: Int32, backlog: Int32, address: SocketAddress) throws {
        guard Glibc.listen(fd, backlog) == 0 else { throw IOError(errnoCode: errno, operation: "listen on \(address)") }
    }

    /// The identity (device, inode) of the socket file at `path`; nil when there is none.
    static func socketFileIdentity(_ path: String) -> (device: UInt64, inode: UInt64)? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// Removes the socket file at `path` when nothing listens on it any more (a server that
    /// died without cleaning up). Leaves a missing path alone; refuses, with EADDRINUSE
    /// naming the path, a file that is not a socket or a socket a server still listens on.
    static func removeStaleSocketFile(at address: SocketAddress) throws {
        guard let path = address.unixDomainSocketPath else { return }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw IOError(errnoCode: EADDRINUSE, operation: "bind to \(path) (a file that is not a socket is there; it was left alone)")
        }
        let probe = try makeStream(family: AF_UNIX)
        defer { Glibc.close(probe) }
        let rc = address.withSockAddr { Glibc.connect(probe, $0, $1) }
        let code = rc == 0 ? 0 : errno
        switch code {
        case ECONNREFUSED: break  // stale: nobody listens
        case ENOENT: return
        case 0, EAGAIN: throw IOError(errnoCode: EADDRINUSE, operation: "bind to \(path) (a server is listening there)")
        default: throw IOError(errnoCode: code, operation: "probe the socket file \(path)")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw IOError(errnoCode: errno, operation: "remove the stale socket file \(path)")
        }
    }

    static func localAddress(_ fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return rc == 0 ? SocketAddress(storage: storage) : nil
    }

    static func peerAddress(_ fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        return rc == 0 ? SocketAddress(storage: storage) : nil
    }

    /// The pending error of a socket (after a non-blocking connect).
    static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return errno }
        return value
    }
}
