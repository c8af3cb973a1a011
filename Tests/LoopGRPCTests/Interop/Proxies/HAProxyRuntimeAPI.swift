import Foundation
import Glibc
import InteropTestSupport

/// HAProxy's runtime API on its `stats socket` (a Unix socket): one command per connection,
/// the answer read until HAProxy closes it.
struct HAProxyRuntimeAPI: Sendable {
    let socketPath: String

    /// A server's state as `show stat` reports it.
    struct ServerState: Sendable, CustomStringConvertible {
        /// "UP", "DOWN", "UP 1/2" (going down), "DOWN 1/2" (going up), "MAINT", "no check"...
        var status: String
        /// The last check's result: "L7OK", "L7TOUT", "L4CON"...; "* " in front while a check runs.
        var checkStatus: String

        var description: String { "status \(status), last check \(checkStatus)" }
    }

    /// Sends `command` and returns the whole answer.
    func send(_ command: String) throws -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw InteropError("socket(AF_UNIX) failed: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { throw InteropError("socket path too long: \(socketPath)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
            raw[path.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw InteropError("cannot connect to HAProxy's runtime API at \(socketPath): errno \(errno)") }
        let line = Array((command + "\n").utf8)
        var written = 0
        while written < line.count {
            let n = line[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw InteropError("writing to \(socketPath) failed: errno \(errno)") }
            written += n
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            guard n > 0 else { throw InteropError("reading from \(socketPath) failed: errno \(errno)") }
            answer += buffer[..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    /// The state of `server` in `backend`, from `show stat` (CSV, named columns).
    func serverState(backend: String = HAProxyConfiguration.backend, server: String = HAProxyConfiguration.server) throws -> ServerState {
        let answer = try send("show stat")
        let lines = answer.split(separator: "\n").map(String.init)
        guard let header = lines.first, header.hasPrefix("# ") else { throw InteropError("`show stat` answered:\n\(answer)") }
        let columns = header.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let status = columns.firstIndex(of: "status"), let check = columns.firstIndex(of: "check_status") else {
            throw InteropError("`show stat` has no status or check_status column:\n\(header)")
        }
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if fields.count > max(status, check), fields[0] == backend, fields[1] == server {
                return ServerState(status: fields[status], checkStatus: fields[check])
            }
        }
        throw InteropError("`show stat` lists no server \(backend)/\(server):\n\(answer)")
    }

    /// Polls `serverState` until its status is `status` ("UP" or "DOWN") and, with
    /// `checkPassed`, its last check passed (L7OK), within `timeout` seconds; returns the
    /// state and how long it took.
    func waitForServer(status wanted: String, checkPassed: Bool = false, timeout: Double) async throws -> (state: ServerState, seconds: Double) {
        let started = Date()
        func done(_ state: ServerState) -> Bool {
            state.status == wanted && (!checkPassed || state.checkStatus.hasSuffix("L7OK"))
        }
        // HAProxy may accept on its port before its stats socket exists (seen on a loaded
        // machine: ENOENT): the socket gets the same timeout to appear.
        var last: ServerState
        while true {
            do {
                last = try serverState()
                break
            } catch {
                guard Date().timeIntervalSince(started) < timeout else { throw error }
                try await Task.sleep(for: .milliseconds(25))
            }
        }
        while !done(last) {
            guard Date().timeIntervalSince(started) < timeout else {
                throw InteropError("HAProxy did not mark the server \(wanted)\(checkPassed ? " after a passed check" : "") within \(timeout) s: \(last)")
            }
            try await Task.sleep(for: .milliseconds(25))
            last = try serverState()
        }
        return (last, Date().timeIntervalSince(started))
    }
}
