import Glibc
import Testing
@testable import Loop

/// On inputClosed (the peer shut its output), replies with what it received, then shuts its
/// own output; it also records its events.
private final class HalfCloseReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var received = ByteBuffer()
    let events: Locked<[String]>

    init(events: Locked<[String]>) { self.events = events }

    func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        received.writeImmutableBuffer(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        events.append("event \(event)")
        if let event = event as? ChannelEvent, event == .inputClosed {
            events.append("active \(context.channel.isActive)")
            context.write(ByteBuffer(string: "got \(received.readableBytes) bytes: \(received.string)"), promise: nil)
            context.flush()
            context.close(mode: .output, promise: nil)  // after the reply has gone out
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        events.append("inactive")
    }
}

/// Writes `greeting` as soon as the channel is active.
private final class GreetingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let greeting: String
    init(_ greeting: String) { self.greeting = greeting }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(ByteBuffer(string: greeting), promise: nil)
        context.fireChannelActive()
    }
}

/// Collects 4-byte big-endian sequence numbers and checks they arrive in order.
private final class SequenceCheckingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var pending = ByteBuffer()
    private var next: UInt32 = 0
    private let count: UInt32
    private let done: EventLoopPromise<UInt32>

    init(count: UInt32, done: EventLoopPromise<UInt32>) {
        self.count = count
        self.done = done
    }

    func channelRead(context: ChannelHandlerContext, data: ByteBuffer) {
        pending.writeImmutableBuffer(data)
        while let number = pending.readInteger(as: UInt32.self) {
            guard number == next else {
                done.fail(SequenceError(expected: next, received: number))
                return
            }
            next += 1
            if next == count { done.succeed(next) }
        }
    }
}

private struct SequenceError: Error, Equatable {
    let expected: UInt32
    let received: UInt32
}

extension RealLoopTests {
    @Suite struct SocketChannelTests {
        @Test func tenMegabytesOfRandomBytesEchoByteExact() async throws {
            let seed = UInt64.random(in: 0...UInt64.max)
            let payload = randomBytes(count: 10 * 1024 * 1024, seed: seed)
            try await withEventLoopGroup(threads: 2) { group in
                let server = try await startEchoServer(group: group)
                let done = group.next().makePromise(of: ByteBuffer.self)
                let expected = payload.readableBytes
                let client = try await connect(group: group, to: try boundAddress(server)) { channel in
                    try channel.pipeline.addHandler(CollectingTestHandler(expected: expected, done: done))
                }
                // Many writes, one flush: gathered writes, partial writes and backpressure.
                var rest = payload
                var lastWrite: EventLoopFuture<Void>?
                while rest.readableBytes > 0 {
                    let chunk = rest.readSlice(length: min(100_000, rest.readableBytes))!
                    let promise = client.eventLoop.makePromise(of: Void.self)
                    client.write(chunk, promise: promise)
                    lastWrite = promise.futureResult
                }
                client.flush()
                let received = try await done.futureResult.get(within: .seconds(60), "10 MB echoed")
                try await lastWrite!.get(within: .seconds(5), "the last write")
                #expect(received.readableBytes == expected, "seed \(seed)")
                #expect(fnv1a(received) == fnv1a(payload), "seed \(seed)")
                #expect(received == payload, "seed \(seed)")
                try await client.close().get(within: .seconds(5))
            }
        }

        @Test func moreWritesThanIOVMaxInOneFlushArriveInOrder() async throws {
            // One flush of 5,000 small buffers: more than IOV_MAX (1024) per writev.
            let count: UInt32 = 5000
            try await withEventLoopGroup(threads: 2) { group in
                let done = group.next().makePromise(of: UInt32.self)
                let server = try await startRecordingServer(group: group, accepted: Locked([])) { channel in
                    try channel.pipeline.addHandler(SequenceCheckingHandler(count: count, done: done))
                }
                let client = try await connect(group: group, to: try boundAddress(server))
                let promises = try await client.eventLoop.submit { () -> [EventLoopFuture<Void>] in
                    var futures: [EventLoopFuture<Void>] = []
                    for number in 0..<count {
                        var buffer = ByteBuffer(capacity: 4)
                        buffer.writeInteger(number)
                        let promise = client.eventLoop.makePromise(of: Void.self)
                        client.write(buffer, promise: promise)
                        futures.append(promise.futureResult)
                    }
                    client.write(ByteBuffer(), promise: nil)  // an empty buffer in the batch
                    client.flush()
                    return futures
                }.get(within: .seconds(5))
                let received = try await done.futureResult.get(within: .seconds(10), "\(count) numbers in order")
                #expect(received == count)
                try await EventLoopFuture.andAllSucceed(promises, on: client.eventLoop).get(within: .seconds(5))
            }
        }

        @Test func emptyWriteSucceeds() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let server = try await startEchoServer(group: group)
                let client = try await connect(group: group, to: try boundAddress(server))
                try await client.writeAndFlush(ByteBuffer()).get(within: .seconds(5))
                #expect(client.isActive)
            }
        }

        @Test func bothEndsCanWriteInChannelActive() async throws {
            try await withEventLoopGroup(threads: 2) { group in
                let serverSide = Recorder()
                let server = try await startRecordingServer(group: group, accepted: Locked([])) { channel in
                    try channel.pipeline.addHandler(GreetingHandler("hello client"))
                    try channel.pipeline.addHandler(RecordingHandler(serverSide))
                }
                let clientSide = Recorder()
                _ = try await connect(group: group, to: try boundAddress(server)) { channel in
                    try channel.pipeline.addHandler(GreetingHandler("hello server"))
                    try channel.pipeline.addHandler(RecordingHandler(clientSide))
                }
                try await waitUntil("both greetings") {
                    clientSide.text == "hello client" && serverSide.text == "hello server"
                }
            }
        }

        @Test func connectionResetIsReportedAsAnIOErrorThenTheChannelCloses() async throws {
            try await withEventLoopGroup(threads: 2) { group in
                let accepted = Locked<[any Channel]>([])
                let server = try await startRecordingServer(group: group, accepted: accepted)
                let clientSide = Recorder()
                let client = try await connect(group: group, to: try boundAddress(server)) { channel in
                    try channel.pipeline.addHandler(RecordingHandler(clientSide))
                }
                try await waitUntil("the server to accept") { accepted.value.count == 1 }
                // Close the accepted socket with SO_LINGER 0: the kernel sends RST.
                let child = try #require(accepted.value[0] as? SocketChannel)
                try await child.eventLoop.submit {
                    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                    let rc = setsockopt(child.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                    precondition(rc == 0, "setsockopt(SO_LINGER) failed")
                }.get(within: .seconds(5))
                try await child.close().get(within: .seconds(5))
                try await client.closeFuture.get(within: .seconds(5), "the reset client to close")
                let reset = IOError(errnoCode: ECONNRESET, operation: "read")
                #expect(reset.description == "read failed: Connection reset by peer (errno \(ECONNRESET))")
                #expect(clientSide.events.value == ["active", "error \(reset)", "inactive"])
            }
        }

        @Test func closingTheInputKeepsTheOutputOpen() async throws {
            try await withEventLoopGroup(threads: 2) { group in
                let serverSide = Recorder()
                let server = try await startRecordingServer(group: group, accepted: Locked([])) { channel in
                    try channel.pipeline.addHandler(RecordingHandler(serverSide))
                }
                let clientSide = Recorder()
                let client = try await connect(group: group, to: try boundAddress(server)) { channel in
                    try channel.pipeline.addHandler(RecordingHandler(clientSide))
                }
                try await client.close(mode: .input).get(within: .seconds(5))
                #expect(client.isActive)
                try await client.writeAndFlush(ByteBuffer(string: "still writing")).get(within: .seconds(5))
                try await waitUntil("the server to receive") { serverSide.text == "still writing" }
                #expect(clientSide.events.value == ["active"])
            }
        }

        @Test func addressesOfBothEnds() async throws {
            try await withEventLoopGroup(threads: 2) { group in
                let accepted = Locked<[any Channel]>([])
                let server = try await startRecordingServer(group: group, accepted: accepted)
                let serverAddress = try boundAddress(server)
                #expect(serverAddress.ipAddress == "127.0.0.1")
                #expect(serverAddress.port > 0)
                #expect(server.isActive)
                #expect(server.remoteAddress == nil)
                let client = try await connect(group: group, to: serverAddress)
                try await waitUntil("the server to accept") { accepted.value.count == 1 }
                let child = accepted.value[0]
                #expect(client.remoteAddress == serverAddress)
                #expect(client.localAddress?.ipAddress == "127.0.0.1")
                #expect(child.localAddress == serverAddress)
                #expect(child.remoteAddress == client.localAddress)
                #expect(client.isActive)
                #expect(client.isWritable)
            }
        }

        @Test func closingOneEndClosesTheOther() async throws {
            try await withEventLoopGroup(threads: 2) { group in
                let accepted = Locked<[any Channel]>([])
                let serverSide = Recorder()
                let server = try await startRecordingServer(group: group, accepted: accepted) { channel in
                    try channel.pipeline.addHandler(RecordingHandler(serverSide))
                }
                let clientSide = Recorder()
                let client = try await connect(group: group, to: try boundAddress(server)) { channel in
                    try channel.pipeline.addHandler(RecordingHandler(clientSide))
                }
                try await waitUntil("the server to accept") { accepted.value.count == 1 }
                try await client.close().get(within: .seconds(5))
                try await client.closeFuture.get(within: .seconds(5))
                try await accepted.value[0].closeFuture.get(within: .seconds(5), "the server side to close")
                #expect(clientSide.events.value == ["active", "inactive"])
                #expect(serverSide.events.value == ["active", "inactive"])
                #expect(!client.isActive)
                #expect(!accepted.value[0].isActive)
            }
        }

        @Test func operationsOnAClosedChannelFail() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let server = try await startEchoServer(group: group)
                let client = try await connect(group: group, to: try boundAddress(server))
                try await client.close().get(within: .seconds(5))
                await #expect(throws: ChannelError.ioOnClosedChannel) {
                    try await client.writeAndFlush(ByteBuffer(string: "late")).get(within: .seconds(5))
                }
                await #expect(throws: ChannelError.alreadyClosed) {
                    try await client.close().get(within: .seconds(5))
                }
                await #expect(throws: ChannelError.ioOnClosedChannel) {
                    try await client.setOption(.tcpNoDelay(false)).get(within: .seconds(5))
                }
            }
        }

        @Test func writingSomethingOtherThanBytesFails() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let server = try await startEchoServer(group: group)
                let client = try await connect(group: group, to: try boundAddress(server))
                await #expect(throws: ChannelError.unsupportedMessageType("String")) {
                    try await client.writeAndFlush("not bytes").get(within: .seconds(5))
                }
                // The channel is still usable.
                try await client.writeAndFlush(ByteBuffer(string: "bytes")).get(within: .seconds(5))
                #expect(client.isActive)
            }
        }

        @Test func pendingWritesFailWhenTheChannelCloses() async throws {
            try await withEventLoopGroup(threads: 1) { group in
                let server = try await startEchoServer(group: group)
                let client = try await connect(group: group, to: try boundAddress(server))
                let unflushed = try await client.eventLoop.submit { () -> EventLoopFuture<Void> in
                    let promise = client.eventLoop.makePromise(of: Void.self)
                    client.write(ByteBuffer(string: "never flushed"), promise: promise)
                    client.close()
                    return promise.futureResult
                }.get(within: .seconds(5))
                await #expect(throws: ChannelError.ioOnClosedChannel) { try await unflushed.get(within: .seconds(5)) }
            }
        }

        @Test func writabilityFollowsASlowReader() async throws {
            try await withEventLoopGroup(threads: 2) { group in
                let accepted = Locked<[any Channel]>([])
                let serverSide = Recorder()
                // The server does not read until told to, with a small receive buffer.
                let server = try await startRecordingServer(
                    group: group, accepted: accepted,
                    serverOptions: [.receiveBufferSize(4096)], childOptions: [.autoRead(false)]
                ) { channel in
                    try channel.pipeline.addHandler(RecordingHandler(serverSide))
                }
                let clientSide = Recorder()
                let client = try await connect(
                    group: group, to: try boundAddress(server),
                    options: [.sendBufferSize(4096), .writeBufferWaterMark(low: 16 * 1024, high: 64 * 1024)]
                ) { channel in
                    try channel.pipeline.addHandler(RecordingHandler(clientSide))
                }
                try await waitUntil("the server to accept") { accepted.value.count == 1 }
                let child = accepted.value[0]
                #expect(client.isWritable)

                let total = 256 * 1024
                let chunk = ByteBuffer(bytes: [UInt8](repeating: 0x5A, count: 16 * 1024))
                var lastWrite: EventLoopFuture<Void>?
                for _ in 0..<(total / chunk.readableBytes) {
                    let promise = client.eventLoop.makePromise(of: Void.self)
                    client.write(chunk, promise: promise)
                    lastWrite = promise.futureResult
                }
                client.flush()
                try await waitUntil("the client to turn unwritable") { clientSide.events.value.contains("writable false") }
                #expect(!client.isWritable)
                // Nobody reads: it stays unwritable and nothing reaches the server's handler.
                try await Task.sleep(for: .milliseconds(100))
                #expect(!client.isWritable)
                #expect(clientSide.events.value == ["active", "writable false"])
                #expect(serverSide.byteCount == 0)

                // The reader drains: the client becomes writable again and everything arrives.
                try await child.setOption(.autoRead(true)).get(within: .seconds(5))
                try await lastWrite!.get(within: .seconds(20), "the last write")
                try await waitUntil("the client to turn writable") { clientSide.events.value.contains("writable true") }
                #expect(client.isWritable)
                #expect(clientSide.events.value == ["active", "writable false", "writable true"])
                try await waitUntil("all bytes at the server") { serverSide.byteCount == total }
                #expect(serverSide.bytes.value.allSatisfy { $0 == 0x5A })
            }
        }

        @Test func halfClosedConnectionStillCarriesTheReply() async throws {
            try await withEventLoopGroup(threads: 2) { group in
                let serverEvents = Locked<[String]>([])
                let server = try await ServerBootstrap(group: group)
                    .childOption(.allowRemoteHalfClosure(true))
                    .childChannelInitializer { channel in
                        try channel.pipeline.addHandler(HalfCloseReplyHandler(events: serverEvents))
                    }
                    .bind(host: "127.0.0.1", port: 0)
                    .get(within: .seconds(5))
                let clientSide = Recorder()
                let client = try await connect(group: group, to: try boundAddress(server)) { channel in
                    try channel.pipeline.addHandler(RecordingHandler(clientSide))
                }
                try await client.writeAndFlush(ByteBuffer(string: "hello")).get(within: .seconds(5))
                // Shut the output, and in the same loop turn try to write once more.
                let (shut, lateWrite) = try await client.eventLoop.submit {
                    (client.close(mode: .output), client.writeAndFlush(ByteBuffer(string: "too late")))
                }.get(within: .seconds(5))
                try await shut.get(within: .seconds(5), "close(mode: .output)")
                await #expect(throws: ChannelError.outputClosed) { try await lateWrite.get(within: .seconds(5)) }

                // The server saw end-of-input, replied, shut its output and closed; the client
                // got the whole reply, then end-of-stream, and closed too.
                try await client.closeFuture.get(within: .seconds(5), "the client to close")
                #expect(clientSide.text == "got 5 bytes: hello")
                #expect(clientSide.events.value == ["active", "event outputClosed", "inactive"])
                try await waitUntil("the server side to close") { serverEvents.value.contains("inactive") }
                #expect(serverEvents.value == ["event inputClosed", "active true", "event outputClosed", "inactive"])
            }
        }

        @Test func withoutHalfClosureEndOfInputClosesTheChannel() async throws {
            try await withEventLoopGroup(threads: 2) { group in
                let accepted = Locked<[any Channel]>([])
                let serverSide = Recorder()
                let server = try await startRecordingServer(group: group, accepted: accepted) { channel in
                    try channel.pipeline.addHandler(RecordingHandler(serverSide))
                }
                let client = try await connect(group: group, to: try boundAddress(server))
                try await client.writeAndFlush(ByteBuffer(string: "bye")).get(within: .seconds(5))
                try await client.close(mode: .output).get(within: .seconds(5))
                try await waitUntil("the server to accept") { accepted.value.count == 1 }
                try await accepted.value[0].closeFuture.get(within: .seconds(5), "the server side to close")
                #expect(serverSide.text == "bye")
                #expect(serverSide.events.value == ["active", "inactive"])
                try await client.closeFuture.get(within: .seconds(5), "the client to close")
            }
        }

        @Test func autoReadOffReadsOnlyWhenAsked() async throws {
            try await withEventLoopGroup(threads: 2) { group in
                let server = try await startEchoServer(group: group)
                let clientSide = Recorder()
                let client = try await connect(group: group, to: try boundAddress(server), options: [.autoRead(false)]) { channel in
                    try channel.pipeline.addHandler(RecordingHandler(clientSide))
                }
                try await client.writeAndFlush(ByteBuffer(string: "ping")).get(within: .seconds(5))
                try await Task.sleep(for: .milliseconds(100))  // the echo is waiting in the socket
                #expect(clientSide.text == "")
                client.read()
                try await waitUntil("the first echo") { clientSide.text == "ping" }

                try await client.writeAndFlush(ByteBuffer(string: "pong")).get(within: .seconds(5))
                try await Task.sleep(for: .milliseconds(100))
                #expect(clientSide.text == "ping")  // one read() is one read
                client.read()
                try await waitUntil("the second echo") { clientSide.text == "pingpong" }

                // Turning autoRead back on reads without asking.
                try await client.setOption(.autoRead(true)).get(within: .seconds(5))
                try await client.writeAndFlush(ByteBuffer(string: "!")).get(within: .seconds(5))
                try await waitUntil("the third echo") { clientSide.text == "pingpong!" }
            }
        }

        @Test func readRequestedFromInsideReadCompleteIsKept() async throws {
            // The usual backpressure pattern with autoRead off: ask for the next read when done
            // with the current batch. That request must not be dropped.
            try await withEventLoopGroup(threads: 2) { group in
                let accepted = Locked<[any Channel]>([])
                let server = try await startRecordingServer(group: group, accepted: accepted)
                let clientSide = Recorder()
                let client = try await connect(group: group, to: try boundAddress(server), options: [.autoRead(false)]) { channel in
                    try channel.pipeline.addHandler(RecordingHandler(clientSide) { context in context.read() })
                }
                client.read()  // the first read; every later one is asked for by the handler
                try await waitUntil("the server to accept") { accepted.value.count == 1 }
                let child = accepted.value[0]
                try await child.writeAndFlush(ByteBuffer(string: "first")).get(within: .seconds(5))
                try await waitUntil("the first message") { clientSide.text == "first" }
                try await child.writeAndFlush(ByteBuffer(string: "second")).get(within: .seconds(5))
                try await waitUntil("the second message (read() called in channelReadComplete)", within: .seconds(3)) {
                    clientSide.text == "firstsecond"
                }
            }
        }

        /// IPv6 is part of the contract: a machine without ::1 fails this test, it never skips.
        @Test func echoOverIPv6Loopback() async throws {
            #expect(ipv6LoopbackAvailable(), "this machine has no ::1 loopback address")
            try await withEventLoopGroup(threads: 2) { group in
                let server = try await startEchoServer(group: group, host: "::1")
                let address = try boundAddress(server)
                #expect(address.family == AF_INET6)
                #expect(address.ipAddress == "::1")
                #expect(address.description == "[::1]:\(address.port)")
                let done = group.next().makePromise(of: ByteBuffer.self)
                let client = try await connect(group: group, to: address) { channel in
                    try channel.pipeline.addHandler(CollectingTestHandler(expected: 11, done: done))
                }
                #expect(client.localAddress?.ipAddress == "::1")
                #expect(client.remoteAddress == address)
                try await client.writeAndFlush(ByteBuffer(string: "hello over ")).get(within: .seconds(5))
                let echoed = try await done.futureResult.get(within: .seconds(5))
                #expect(echoed.string == "hello over ")
            }
        }
    }
}
