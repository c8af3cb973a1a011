import FuzzSupport
import Loop
import LoopHTTP2

/// Fuzzes `HTTP2Connection` through its public API only: the peer's bytes go to
/// `receive(_:now:)` in chunks, the events are answered as an application would, and every
/// byte the connection writes is parsed back with `HTTP2FrameDecoder`.
///
/// Input: a control byte, a chunk size (0: one chunk), a clock step in milliseconds per
/// chunk, then the peer's bytes. Control bits:
/// - 0: client role (the connection sent two requests first: GET on stream 1 ended, POST on
///   stream 3 with 100 bytes still open); else server role, the harness sending the client
///   preface before the fuzzed bytes;
/// - 1: small limits (4 streams, 1 KiB stream window, 65,535-byte connection window and no
///   window growth, 1 KiB header lists, 2 CONTINUATIONs, 4 resets/s, 8 control frames);
/// - 2: a server answers each request: HEADERS, 32 bytes of DATA, trailers;
/// - 3: the application consumes every DATA at once (returning credit);
/// - 4: a reset grace period elapses after every chunk;
/// - 5: the peer half-closes the socket after the last chunk;
/// - 6: output is paused while each chunk is received and resumed after it;
/// - 7: a graceful shutdown starts after the first chunk.
///
/// Invariants checked after every chunk (the `ConnectionInvariants` below): no crash; the
/// output parses as frames (our own encoder's bytes by our own decoder, HPACK included);
/// output stays within a fixed budget plus a multiple of the input; a connection error
/// leaves the connection closed with no stream open and a GOAWAY of its code as the last
/// frame written; a closed connection stays closed, silent and empty; the peer's frames
/// only reach streams it may use; nothing arrives on a stream after it closed; without
/// consumption, DATA delivered stays within the windows we granted.
enum ConnectionFuzzer {
    static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let control = input.byte()
        let chunkSize = Int(input.byte())
        let clockStep = UInt64(input.byte()) * 1_000_000
        let isClient = control & 1 != 0
        let smallLimits = control & 2 != 0
        let answers = control & 4 != 0
        let consumes = control & 8 != 0

        var configuration = HTTP2Configuration(role: isClient ? .client : .server)
        if smallLimits {
            configuration.maxConcurrentStreams = 4
            configuration.initialStreamWindowSize = 1024
            configuration.connectionWindowSize = 65_535
            configuration.maximumStreamWindowSize = nil
            configuration.maxHeaderListSize = 1024
            configuration.maxContinuationFrames = 2
            configuration.glitchBudget = .init(burst: 8, perSecond: 4)
        }
        var connection = HTTP2Connection(configuration: configuration)
        var invariants = ConnectionInvariants(configuration: configuration, checksWindows: smallLimits && !consumes)
        connection.start()
        if isClient {
            let get = [HPACKHeader(":method", "GET"), HPACKHeader(":scheme", "http"),
                       HPACKHeader(":path", "/"), HPACKHeader(":authority", "fuzz")]
            let post = [HPACKHeader(":method", "POST"), HPACKHeader(":scheme", "http"),
                        HPACKHeader(":path", "/upload"), HPACKHeader(":authority", "fuzz")]
            let first = try? connection.sendHeaders(get, endStream: true)
            let second = try? connection.sendHeaders(post, endStream: false)
            FuzzCheck.check(first == 1 && second == 3, "requests opened streams \(String(describing: first)) and \(String(describing: second))")
            try? connection.sendData(streamID: 3, ByteBuffer(bytes: repeatElement(0x61, count: 100)), endStream: false)
            invariants.localStreams = [1, 3]
        }
        invariants.afterCall(&connection, inputBytes: 0)

        var chunks = input.chunks(of: chunkSize)
        if !isClient {
            var preface = ByteBuffer()
            preface.writeString("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            chunks.insert(preface, at: 0)
        }
        var now: UInt64 = 1_000_000_000
        var answered = Set<UInt32>()
        for (index, chunk) in chunks.enumerated() {
            if control & 64 != 0 { connection.pauseOutput() }
            connection.receive(chunk, now: now)
            now += clockStep
            for event in invariants.afterCall(&connection, inputBytes: chunk.readableBytes) {
                switch event {
                case .headers(let streamID, _, _) where answers && !isClient && answered.insert(streamID).inserted:
                    _ = try? connection.sendHeaders(streamID: streamID, [HPACKHeader(":status", "200")], endStream: false)
                    try? connection.sendData(streamID: streamID, ByteBuffer(bytes: repeatElement(0x62, count: 32)), endStream: false)
                    _ = try? connection.sendHeaders(streamID: streamID, [HPACKHeader("grpc-status", "0")], endStream: true)
                case .data(let streamID, let payload, _) where consumes:
                    connection.consumed(streamID: streamID, bytes: payload.readableBytes)
                default:
                    break
                }
            }
            if control & 64 != 0 { connection.resumeOutput() }
            if control & 16 != 0 { connection.resetGracePeriodElapsed() }
            if control & 128 != 0 && index == 0 {
                connection.beginGracefulShutdown()
                invariants.shutdownStarted = true
            }
            invariants.afterCall(&connection, inputBytes: 0)
        }
        if control & 32 != 0 {
            connection.peerClosedInput()
            invariants.afterCall(&connection, inputBytes: 0)
        }
        // A closed connection ignores what comes next.
        if connection.state == .closed {
            var ping = ByteBuffer()
            HTTP2FrameEncoder.writePing(7, ack: false, into: &ping)
            connection.receive(ping, now: now)
            FuzzCheck.check(connection.output.isEmpty && connection.takeEvents().isEmpty,
                            "a closed connection answered a PING")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConnection(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    ConnectionFuzzer.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
