import Glibc
import Synchronization
import Testing
@testable import Loop

// Helpers shared by the Loop tests: bounded waits (a hang fails the test instead of
// blocking the run), thread-safe recorders, threads, and file-descriptor accounting.

/// Every test that runs a real `EventLoopGroup` (threads, epoll, sockets) lives in a suite
/// nested in this one, so they run one at a time: file-descriptor counts are then not
/// disturbed by another test's sockets, and timing-sensitive tests get the two cores.
@Suite(.serialized) enum RealLoopTests {}

/// A wait that took longer than its limit.
struct TimeoutError: Error, CustomStringConvertible {
    let what: String
    let limit: Duration
    var description: String { "timed out after \(limit) waiting for \(what)" }
}

/// Resumes a continuation exactly once, whoever comes first.
private final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    func resume(with result: Result<T, any Error>) {
        let taken = continuation.withLock { slot -> CheckedContinuation<T, any Error>? in
            let taken = slot
            slot = nil
            return taken
        }
        taken?.resume(with: result)
    }
}

/// Runs `body` and returns its result, or throws `TimeoutError` after `limit`. The timer does
/// not depend on any event loop, so it fires even if a loop is stuck or stopped.
func withTimeout<T: Sendable>(
    _ limit: Duration = .seconds(10),
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let gate = ResumeOnce<T>()
    return try await withCheckedThrowingContinuation { continuation in
        gate.install(continuation)
        let timer = Task {
            do { try await Task.sleep(for: limit) } catch { return }
            gate.resume(with: .failure(TimeoutError(what: what, limit: limit)))
        }
        Task {
            do {
                gate.resume(with: .success(try await body()))
            } catch {
                gate.resume(with: .failure(error))
            }
            timer.cancel()
        }
    }
}

extension EventLoopFuture {
    /// The future's value, or `TimeoutError` if it does not complete within `limit`.
    func get(within limit: Duration = .seconds(10), _ what: String = "a future") async throws -> Value {
        try await withTimeout(limit, what) { try await self.get() }
    }
}

/// Waits (asynchronously) until `condition` holds, polling; throws `TimeoutError` otherwise.
func waitUntil(
    _ what: String,
    within limit: Duration = .seconds(10),
    _ condition: @escaping @Sendable () -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    while !condition() {
        if clock.now >= deadline { throw TimeoutError(what: what, limit: limit) }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// A value shared between a loop thread and the test, behind a lock.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    var value: Value { mutex.withLock { $0 } }

    @discardableResult
    func mutate<R: Sendable>(_ body: (inout Value) -> R) -> R {
        mutex.withLock { value in body(&value) }
    }
}

extension Locked where Value == [String] {
    func append(_ entry: String) { mutate { $0.append(entry) } }
}

/// A countdown that async code can wait for, fulfilled from any thread.
final class Signal: Sendable {
    private let state: Mutex<(remaining: Int, waiters: [CheckedContinuation<Void, Never>])>

    init(count: Int = 1) { state = Mutex((count, [])) }

    var isFulfilled: Bool { state.withLock { $0.remaining <= 0 } }

    func fulfill() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.remaining -= 1
            guard state.remaining <= 0 else { return [] }
            let waiters = state.waiters
            state.waiters = []
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until fulfilled; throws `TimeoutError` after `limit`.
    func wait(within limit: Duration = .seconds(10), _ what: String) async throws {
        try await withTimeout(limit, what) { await self.waitForever() }
    }

    private func waitForever() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if state.remaining <= 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
}

/// Runs `body` with a fresh group and always shuts the group down (bounded), also when
/// `body` throws.
func withEventLoopGroup<R>(
    threads: Int = 2,
    _ body: (EventLoopGroup) async throws -> R
) async throws -> R {
    let group = EventLoopGroup(numberOfThreads: threads)
    let result: R
    do {
        result = try await body(group)
    } catch {
        try? await shutDown(group)
        throw error
    }
    try await shutDown(group)
    return result
}

/// `group.shutdownGracefully()`, failing with `TimeoutError` instead of hanging.
func shutDownGracefully(_ group: EventLoopGroup, within limit: Duration = .seconds(10)) async throws {
    try await withTimeout(limit, "EventLoopGroup.shutdownGracefully()") { try await group.shutdownGracefully() }
}

/// Shuts `group` down like `shutdownGracefully()` (loop by loop: close channels, finish
/// queued work, stop, join), but observes each loop's shutdown future from the loop itself.
///
/// Workaround: `EventLoopGroup.shutdownGracefully()` registers its observer from off the
/// loop, after asking the loop to stop; when the loop stops first, the observer is queued on
/// a loop that never runs again and the call hangs (see
/// `EventLoopTests.shutdownGracefullyNeverHangs`). Tests that are not about shutdown use this
/// so they test what they are about; tests about shutdown use the public API.
func shutDown(_ group: EventLoopGroup, within limit: Duration = .seconds(10)) async throws {
    for loop in group.loops {
        let stopped = Signal()
        loop.execute {
            loop.shutdownGracefully().whenComplete { _ in stopped.fulfill() }
        }
        try await stopped.wait(within: limit, "\(loop) to shut down")
    }
    for loop in group.loops { loop.join() }
}

// MARK: Threads (Loop has no Foundation, neither do its tests)

private final class ThreadBody {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// Starts a plain pthread running `body`; join it with `joinThread`.
func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var handle = pthread_t()
    let rc = pthread_create(&handle, nil, { raw in
        Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, box)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    return handle
}

func joinThread(_ thread: pthread_t) {
    pthread_join(thread, nil)
}

/// An id of the calling thread.
func currentThreadID() -> UInt { UInt(pthread_self()) }

// MARK: Bytes

/// A deterministic pseudo-random byte source (SplitMix64), so a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` pseudo-random bytes from `seed`.
func randomBytes(count: Int, seed: UInt64) -> ByteBuffer {
    var generator = SplitMix64(seed: seed)
    var buffer = ByteBuffer(capacity: count)
    _ = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
        let words = count / 8
        let wordPointer = raw.baseAddress!
        for index in 0..<words {
            wordPointer.storeBytes(of: generator.next(), toByteOffset: index * 8, as: UInt64.self)
        }
        for index in (words * 8)..<count {
            raw[index] = UInt8(truncatingIfNeeded: generator.next())
        }
        return count
    }
    return buffer
}

/// FNV-1a over the readable bytes.
func fnv1a(_ buffer: ByteBuffer) -> UInt64 {
    buffer.withUnsafeReadableBytes { raw in
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in raw {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}

extension ByteBuffer {
    /// The readable bytes as a string (for readable expectations).
    var string: String { String(decoding: readableBytesView, as: UTF8.self) }
}

// MARK: File descriptors

/// The open file descriptors of this process and what they point at.
func openFileDescriptors() -> [Int32: String] {
    var result: [Int32: String] = [:]
    guard let dir = opendir("/proc/self/fd") else { return result }
    defer { closedir(dir) }
    let own = dirfd(dir)
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        guard let fd = Int32(name), fd != own else { continue }
        var target = [CChar](repeating: 0, count: 256)
        let length = readlink("/proc/self/fd/\(name)", &target, target.count - 1)
        result[fd] = length > 0 ? String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }
    return result
}

/// TCP sockets (from /proc/net/tcp and tcp6) by inode: local port, remote port, state.
private func tcpSocketsByInode() -> [UInt64: (local: Int, remote: Int, state: Int)] {
    var result: [UInt64: (local: Int, remote: Int, state: Int)] = [:]
    for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
        guard let file = fopen(path, "r") else { continue }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        var first = true
        while getline(&line, &capacity, file) > 0 {
            if first { first = false; continue }
            let fields = String(cString: line!).split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9,
                  let localPort = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                  let remotePort = fields[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                  let state = Int(fields[3], radix: 16),
                  let inode = UInt64(fields[9]) else { continue }
            result[inode] = (localPort, remotePort, state)
        }
    }
    return result
}

/// Descriptors of this process that are TCP sockets with `port` at either end (found by
/// joining /proc/self/fd with /proc/net/tcp{,6} on the socket inode), so other tests' sockets
/// never count. The listening socket (state LISTEN) counts only with `includingListener`.
func openConnectionDescriptors(port: Int, includingListener: Bool = false) -> [Int32] {
    let sockets = tcpSocketsByInode()
    var result: [Int32] = []
    for (fd, target) in openFileDescriptors() where target.hasPrefix("socket:[") {
        guard let inode = UInt64(target.dropFirst("socket:[".count).dropLast()),
              let socket = sockets[inode] else { continue }
        let listening = socket.state == 0x0A
        if (includingListener || !listening) && (socket.local == port || socket.remote == port) {
            result.append(fd)
        }
    }
    return result.sorted()
}

/// A weak reference, to check that something was deallocated.
// @unchecked Sendable: a weak reference is only read (is it nil?) after the object's users have
// finished.
struct Weak<Object: AnyObject>: @unchecked Sendable {
    weak var object: Object?
    init(_ object: Object) { self.object = object }
}

// MARK: Sockets

/// Whether this machine can bind the IPv6 loopback address.
func ipv6LoopbackAvailable() -> Bool {
    let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    guard let address = try? SocketAddress(ipAddress: "::1", port: 0) else { return false }
    return address.withSockAddr { bind(fd, $0, $1) } == 0
}

/// A TCP socket bound to 127.0.0.1 on a free port but not listening: connecting to it is
/// refused. Close it with `close(fd)`.
func boundButNotListeningSocket() throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw IOError(errnoCode: errno, operation: "socket") }
    let address = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
    guard address.withSockAddr({ bind(fd, $0, $1) }) == 0 else {
        let code = errno
        close(fd)
        throw IOError(errnoCode: code, operation: "bind")
    }
    guard let bound = Socket.localAddress(fd) else {
        close(fd)
        throw IOError(errnoCode: errno, operation: "getsockname")
    }
    return (fd, bound.port)
}

// MARK: Handlers used by several suites

/// Writes back what it reads, flushing once per batch.
final class EchoTestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

/// Collects every byte it reads and succeeds `done` once `expected` bytes arrived.
final class CollectingTestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var received: ByteBuffer
    private let expected: Int
    private let done: EventLoopPromise<ByteBuffer>

    init(expected: Int, done: EventLoopPromise<ByteBuffer>) {
        self.expected = expected
        self.done = done
        self.received = ByteBuffer(capacity: expected)
    }

    func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        received.writeImmutableBuffer(data)
        if received.readableBytes >= expected { done.succeed(received) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.succeed(received)  // ignored if already complete; shows what arrived otherwise
        context.fireChannelInactive()
    }
}
