import Foundation
import Glibc
import InteropTestSupport

// A raw TCP client for the one-port tests (OnePort/OnePortSocketTests, Interop/AttackTests):
// exact bytes out, exact bytes in, HTTP/1.1 responses parsed just enough to know where each
// one ends. Blocking socket calls run on a thread of their own (never on the cooperative
// pool, where the server's handlers and the test's tasks run), each under a deadline.


/// One HTTP/1.1 response as it came off the wire.
struct RawHTTP1Response: Sendable, CustomStringConvertible {
    /// Every byte of it, as text.
    let text: String
    let status: Int
    /// Fields in order, names as sent.
    let fields: [(name: String, value: String)]
    let body: [UInt8]

    func field(_ name: String) -> String? { fields.first { $0.name.lowercased() == name }?.value }
    var bodyText: String { String(decoding: body, as: UTF8.self) }
    var description: String { text.debugDescription }
}

/// A blocking TCP connection to 127.0.0.1, driven from async tests. One operation at a time.
// @unchecked Sendable: `pending` is touched by one operation at a time (the test awaits each),
// on the thread that operation runs on.
final class RawHTTP1Connection: @unchecked Sendable {
    let fd: Int32
    /// Bytes read but not yet handed out.
    private var pending: [UInt8] = []
    /// The peer closed (EOF or reset).
    private(set) var peerClosed = false

    /// Connects (with `sendBuffer`, SO_SNDBUF is set before the connect).
    init(port: Int, sendBuffer: Int32? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw InteropError("socket() failed: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if var size = sendBuffer { setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw InteropError("connect(127.0.0.1:\(port)) failed: errno \(code)")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// A socket option's value (SO_SNDBUF, SO_RCVBUF: what the kernel made of the request).
    func option(_ name: Int32) -> Int {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, name, &value, &length)
        return Int(value)
    }

    // MARK: Writing

    func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    /// Writes every byte (blocking), or throws if the peer closed or `timeout` passed.
    func send(_ bytes: [UInt8], timeout: Double = 10) async throws {
        try await onThread { try self.sendNow(bytes, timeout: timeout) }
    }

    func sendNow(_ bytes: [UInt8], timeout: Double = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var offset = 0
        while offset < bytes.count {
            guard try waitFor(Int16(POLLOUT), until: deadline) else {
                throw InteropError("send: \(bytes.count - offset) of \(bytes.count) bytes not taken within \(timeout) s")
            }
            let count = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw InteropError("send failed: errno \(errno) after \(offset) bytes")
            }
            offset += count
        }
    }

    /// Writes as much of `bytes` as the socket takes before it has taken nothing for
    /// `stall` seconds; returns how many bytes it took.
    func sendUntilBlocked(_ bytes: ArraySlice<UInt8>, stall: Double) throws -> Int {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            guard try waitFor(Int16(POLLOUT), until: Date().addingTimeInterval(stall)) else { break }
            let count = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw InteropError("send failed: errno \(errno) after \(offset - bytes.startIndex) bytes")
            }
            offset += count
        }
        return offset - bytes.startIndex
    }

    /// Shuts the writing side (FIN).
    func shutdownOutput() { shutdown(fd, Int32(SHUT_WR)) }

    // MARK: Reading

    /// True when `events` came before `deadline`; false when it passed.
    private func waitFor(_ events: Int16, until deadline: Date) throws -> Bool {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return false }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining * 1000 + 1, 1000)))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { throw InteropError("poll failed: errno \(errno)") }
        }
    }

    /// Reads once into `pending`; false at EOF (or a reset).
    private func fill(until deadline: Date, _ what: @autoclosure () -> String) throws -> Bool {
        guard !peerClosed else { return false }
        guard try waitFor(Int16(POLLIN), until: deadline) else {
            throw InteropError("timed out waiting for \(what()); so far: \(String(decoding: pending, as: UTF8.self).debugDescription)")
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            pending += chunk[0..<count]
            return true
        }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return true }
        peerClosed = true
        return false
    }

    /// Exactly `count` bytes (fewer only if the peer closed first).
    func read(_ count: Int, timeout: Double = 10) async throws -> [UInt8] {
        try await onThread {
            let deadline = Date().addingTimeInterval(timeout)
            while self.pending.count < count, try self.fill(until: deadline, "\(count) bytes") {}
            let taken = Array(self.pending.prefix(count))
            self.pending.removeFirst(taken.count)
            return taken
        }
    }

    /// As many bytes as `text` has, as text: compare it with `text`.
    func readText(like text: String, timeout: Double = 10) async throws -> String {
        String(decoding: try await read(text.utf8.count, timeout: timeout), as: UTF8.self)
    }

    /// What arrives until the peer closes: the bytes, or a throw after `timeout`.
    func readUntilClosed(timeout: Double = 10) async throws -> [UInt8] {
        try await onThread {
            let deadline = Date().addingTimeInterval(timeout)
            while try self.fill(until: deadline, "the close") {}
            defer { self.pending = [] }
            return self.pending
        }
    }

    /// One response; `method` tells whether a body follows (HEAD: none). 1xx responses are
    /// returned as they are (the caller reads on for the final one).
    func readResponse(method: String = "GET", timeout: Double = 10) async throws -> RawHTTP1Response {
        try await onThread {
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                if let (response, used) = try Self.parse(self.pending, method: method, complete: self.peerClosed) {
                    self.pending.removeFirst(used)
                    return response
                }
                guard try self.fill(until: deadline, "a response") else {
                    if let (response, used) = try Self.parse(self.pending, method: method, complete: true) {
                        self.pending.removeFirst(used)
                        return response
                    }
                    throw InteropError("the connection closed inside a response: \(String(decoding: self.pending, as: UTF8.self).debugDescription)")
                }
            }
        }
    }

    /// A response at the start of `bytes` and the bytes it used, or nil when more are needed.
    /// `complete`: the peer closed, so a body delimited by the close is whole.
    static func parse(_ bytes: [UInt8], method: String, complete: Bool) throws -> (RawHTTP1Response, Int)? {
        guard let headEnd = find([13, 10, 13, 10], in: bytes, from: 0) else { return nil }
        let head = String(decoding: bytes[0..<headEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw InteropError("not a status line: \(head.debugDescription)")
        }
        let fields = lines.map { line -> (name: String, value: String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? String(parts[1].drop { $0 == " " }) : "")
        }
        func field(_ name: String) -> String? { fields.first { $0.name.lowercased() == name }?.value }
        var offset = headEnd + 4
        var body: [UInt8] = []
        if method == "HEAD" || (100..<200).contains(status) || status == 204 || status == 304 {
            // No body.
        } else if field("transfer-encoding")?.lowercased() == "chunked" {
            while true {
                guard let lineEnd = find([13, 10], in: bytes, from: offset) else { return nil }
                let sizeText = String(decoding: bytes[offset..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw InteropError("bad chunk size line \(sizeText.debugDescription)")
                }
                offset = lineEnd + 2
                if size == 0 {
                    // Trailers, then an empty line.
                    guard let end = find([13, 10, 13, 10], in: bytes, from: offset - 2) else { return nil }
                    offset = end + 4
                    break
                }
                guard bytes.count >= offset + size + 2 else { return nil }
                body += bytes[offset..<offset + size]
                offset += size + 2
            }
        } else if let length = field("content-length").flatMap({ Int($0) }) {
            guard bytes.count >= offset + length else { return nil }
            body = Array(bytes[offset..<offset + length])
            offset += length
        } else {
            // Delimited by the close (RFC 9112 §6.3, rule 8).
            guard complete else { return nil }
            body = Array(bytes[offset...])
            offset = bytes.count
        }
        let text = String(decoding: bytes[0..<offset], as: UTF8.self)
        return (RawHTTP1Response(text: text, status: status, fields: fields, body: body), offset)
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        var index = max(start, 0)
        while index <= bytes.count - needle.count {
            if bytes[index] == needle[0] && bytes[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
