import Glibc
import Testing
@testable import Loop

// Servers and clients on 127.0.0.1 for the socket tests, every wait bounded.

/// An echo server on `host`, port chosen by the kernel.
func startEchoServer(group: EventLoopGroup, host: String = "127.0.0.1") async throws -> any Channel {
    try await ServerBootstrap(group: group)
        .childChannelInitializer { channel in try channel.pipeline.addHandler(EchoTestHandler()) }
        .bind(host: host, port: 0)
        .get(within: .seconds(5), "bind")
}

/// A server whose accepted channels are recorded (in accept order) and set up by `initializer`.
func startRecordingServer(
    group: EventLoopGroup,
    accepted: Locked<[any Channel]>,
    serverOptions: [ChannelOption] = [],
    childOptions: [ChannelOption] = [],
    _ initializer: @escaping @Sendable (any Channel) throws -> Void = { _ in }
) async throws -> any Channel {
    var bootstrap = ServerBootstrap(group: group)
    for option in serverOptions { bootstrap = bootstrap.serverOption(option) }
    for option in childOptions { bootstrap = bootstrap.childOption(option) }
    return try await bootstrap
        .childChannelInitializer { channel in
            try initializer(channel)
            accepted.mutate { $0.append(channel) }
        }
        .bind(host: "127.0.0.1", port: 0)
        .get(within: .seconds(5), "bind")
}

/// A client connected to `address`.
func connect(
    group: EventLoopGroup,
    to address: SocketAddress,
    options: [ChannelOption] = [],
    _ initializer: @escaping @Sendable (any Channel) throws -> Void = { _ in }
) async throws -> any Channel {
    var bootstrap = ClientBootstrap(group: group)
    for option in options { bootstrap = bootstrap.channelOption(option) }
    return try await bootstrap
        .channelInitializer(initializer)
        .connect(to: address)
        .get(within: .seconds(5), "connect to \(address)")
}

/// The bound address of a listening channel.
func boundAddress(_ server: any Channel) throws -> SocketAddress {
    try #require(server.localAddress)
}

/// What a `RecordingHandler` saw: made by the test, filled on the loop.
struct Recorder: Sendable {
    let bytes = Locked<[UInt8]>([])
    let events = Locked<[String]>([])

    var text: String { String(decoding: bytes.value, as: UTF8.self) }
    var byteCount: Int { bytes.mutate { $0.count } }
}

/// Records inbound bytes and events of a channel into a `Recorder`.
final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let recorder: Recorder
    /// Optional reaction to a read-complete (runs on the loop).
    let onReadComplete: ((ChannelHandlerContext) -> Void)?

    init(_ recorder: Recorder, onReadComplete: ((ChannelHandlerContext) -> Void)? = nil) {
        self.recorder = recorder
        self.onReadComplete = onReadComplete
    }

    private func log(_ event: String) { recorder.events.append(event) }

    func channelActive(context: ChannelHandlerContext) {
        log("active")
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        log("inactive")
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        recorder.bytes.mutate { $0.append(contentsOf: data.readableBytesView) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        onReadComplete?(context)
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        log("writable \(context.channel.isWritable)")
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        log("event \(event)")
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        log("error \(error)")
        context.fireErrorCaught(error)
    }
}

// MARK: Unix domain sockets

/// A fresh directory under /tmp (short, so socket paths fit `sun_path`); `body` gets its
/// path; the directory and the files in it are removed after.
func withTemporaryDirectory<R>(_ body: (String) async throws -> R) async throws -> R {
    var template = Array("/tmp/loop-test-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard made != nil else { throw IOError(errnoCode: errno, operation: "mkdtemp") }
    let directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    defer { removeDirectory(directory) }
    return try await body(directory)
}

/// Removes `directory` and the files in it (no subdirectories).
private func removeDirectory(_ directory: String) {
    if let dir = opendir(directory) {
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { unlink(directory + "/" + name) }
        }
        closedir(dir)
    }
    rmdir(directory)
}

/// Whether anything (a file, a socket) is at `path`.
func fileExists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}

/// Creates a regular file at `path`.
func createRegularFile(_ path: String) throws {
    let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw IOError(errnoCode: errno, operation: "create \(path)") }
    close(fd)
}

/// Leaves a socket file at `path` that nobody listens on (what a server that crashed leaves).
func createStaleSocketFile(_ path: String) throws {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw IOError(errnoCode: errno, operation: "socket") }
    defer { close(fd) }
    let address = try SocketAddress(unixDomainSocketPath: path)
    guard address.withSockAddr({ bind(fd, $0, $1) }) == 0 else { throw IOError(errnoCode: errno, operation: "bind \(path)") }
}
