import Testing
import Loop
@testable import LoopHTTP2

// Helpers for driving HTTP2FrameDecoder and HTTP2Connection with raw bytes: frame
// builders, header-block encoding, exact summaries of output frames and events, a harness
// that plays the peer of one connection, and a pair harness that joins a client and a server.

// MARK: Raw frames

/// Big-endian bytes of an integer.
func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    (0..<MemoryLayout<T>.size).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}

/// The 9-byte frame header (RFC 9113 §4.1) with any length, for frames whose payload
/// follows later or never.
func rawFrameHeader(length: Int, type: UInt8, flags: UInt8 = 0, streamID: UInt32) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(UInt8(truncatingIfNeeded: length >> 16))
    buffer.writeInteger(UInt8(truncatingIfNeeded: length >> 8))
    buffer.writeInteger(UInt8(truncatingIfNeeded: length))
    buffer.writeInteger(type)
    buffer.writeInteger(flags)
    buffer.writeInteger(streamID)
    return buffer
}

/// One frame, exactly as given: type, flags, stream id (reserved bit included) and payload.
func rawFrame(type: UInt8, flags: UInt8 = 0, streamID: UInt32, payload: [UInt8] = []) -> ByteBuffer {
    var buffer = rawFrameHeader(length: payload.count, type: type, flags: flags, streamID: streamID)
    buffer.writeBytes(payload)
    return buffer
}

/// Several buffers as one.
func joined(_ buffers: [ByteBuffer]) -> ByteBuffer {
    var all = ByteBuffer(capacity: buffers.reduce(0) { $0 + $1.readableBytes })
    for buffer in buffers { all.writeImmutableBuffer(buffer) }
    return all
}

func prefaceBytes() -> ByteBuffer { ByteBuffer(bytes: http2ClientPreface) }

func settingsFrame(_ parameters: [HTTP2Setting] = []) -> ByteBuffer {
    rawFrame(type: HTTP2FrameType.settings, streamID: 0,
             payload: parameters.flatMap { bigEndianBytes($0.identifier) + bigEndianBytes($0.value) })
}

func settingsAckFrame() -> ByteBuffer {
    rawFrame(type: HTTP2FrameType.settings, flags: HTTP2FrameFlags.ack, streamID: 0)
}

func pingFrame(_ opaque: UInt64, ack: Bool = false, streamID: UInt32 = 0) -> ByteBuffer {
    rawFrame(type: HTTP2FrameType.ping, flags: ack ? HTTP2FrameFlags.ack : 0, streamID: streamID, payload: bigEndianBytes(opaque))
}

func windowUpdateFrame(streamID: UInt32, increment: UInt32) -> ByteBuffer {
    rawFrame(type: HTTP2FrameType.windowUpdate, streamID: streamID, payload: bigEndianBytes(increment))
}

func rstStreamFrame(streamID: UInt32, code: HTTP2ErrorCode) -> ByteBuffer {
    rawFrame(type: HTTP2FrameType.rstStream, streamID: streamID, payload: bigEndianBytes(code.rawValue))
}

func goAwayFrame(lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: String = "") -> ByteBuffer {
    rawFrame(type: HTTP2FrameType.goAway, streamID: 0,
             payload: bigEndianBytes(lastStreamID) + bigEndianBytes(code.rawValue) + Array(debugData.utf8))
}

func priorityFrame(streamID: UInt32, dependsOn: UInt32 = 0, weight: UInt8 = 15) -> ByteBuffer {
    rawFrame(type: HTTP2FrameType.priority, streamID: streamID, payload: bigEndianBytes(dependsOn) + [weight])
}

/// A DATA frame; with `padLength`, PADDED with that many zero bytes (RFC 9113 §6.1).
func dataFrame(streamID: UInt32, _ data: [UInt8], endStream: Bool = false, padLength: UInt8? = nil) -> ByteBuffer {
    var flags: UInt8 = endStream ? HTTP2FrameFlags.endStream : 0
    var payload = data
    if let padLength {
        flags |= HTTP2FrameFlags.padded
        payload = [padLength] + data + [UInt8](repeating: 0, count: Int(padLength))
    }
    return rawFrame(type: HTTP2FrameType.data, flags: flags, streamID: streamID, payload: payload)
}

/// A HEADERS frame carrying `block` (a fragment unless `endHeaders`), optionally PADDED
/// and with PRIORITY fields (RFC 9113 §6.2).
func headersFrame(streamID: UInt32, block: [UInt8], endStream: Bool = false, endHeaders: Bool = true,
                  padLength: UInt8? = nil, priority: (dependency: UInt32, weight: UInt8)? = nil) -> ByteBuffer {
    var flags: UInt8 = 0
    if endStream { flags |= HTTP2FrameFlags.endStream }
    if endHeaders { flags |= HTTP2FrameFlags.endHeaders }
    var payload: [UInt8] = []
    if let padLength {
        flags |= HTTP2FrameFlags.padded
        payload.append(padLength)
    }
    if let priority {
        flags |= HTTP2FrameFlags.priority
        payload += bigEndianBytes(priority.dependency) + [priority.weight]
    }
    payload += block
    if let padLength { payload += [UInt8](repeating: 0, count: Int(padLength)) }
    return rawFrame(type: HTTP2FrameType.headers, flags: flags, streamID: streamID, payload: payload)
}

func continuationFrame(streamID: UInt32, block: [UInt8], endHeaders: Bool = true) -> ByteBuffer {
    rawFrame(type: HTTP2FrameType.continuation, flags: endHeaders ? HTTP2FrameFlags.endHeaders : 0, streamID: streamID, payload: block)
}

// MARK: Header lists

/// A valid request head (RFC 9113 §8.3.1) plus `extra` regular fields.
func requestHead(method: String = "GET", path: String = "/", extra: [(String, String)] = []) -> [HPACKHeader] {
    [HPACKHeader(":method", method), HPACKHeader(":scheme", "https"), HPACKHeader(":path", path),
     HPACKHeader(":authority", "example.com")] + extra.map { HPACKHeader($0.0, $0.1) }
}

func responseHead(status: String = "200", extra: [(String, String)] = []) -> [HPACKHeader] {
    [HPACKHeader(":status", status)] + extra.map { HPACKHeader($0.0, $0.1) }
}

/// Encodes a header block with `encoder` (keeping its dynamic table in step with the
/// connection's decoder).
func encodeBlock(_ headers: [HPACKHeader], with encoder: inout HPACKEncoder) -> [UInt8] {
    var buffer = ByteBuffer()
    encoder.encode(headers, into: &buffer)
    return Array(buffer.readableBytesView)
}

/// Encodes a header block with a fresh encoder, for a single block.
func encodeBlock(_ headers: [HPACKHeader]) -> [UInt8] {
    var encoder = HPACKEncoder()
    return encodeBlock(headers, with: &encoder)
}

/// Bytes 0..<count in a pattern that makes misplaced or reordered bytes show.
func patternBytes(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &+ seed) &* 7 &+ ($0 >> 8) &+ ($0 >> 16)) }
}

// MARK: Exact summaries

/// A frame as the tests compare it.
enum FrameSummary: Equatable, CustomStringConvertible {
    case data(UInt32, length: Int, endStream: Bool)
    case headers(UInt32, [String], endStream: Bool)
    case oversizedHeaders(UInt32, endStream: Bool)
    case priority(UInt32)
    case rst(UInt32, HTTP2ErrorCode)
    case settings([HTTP2Setting])
    case settingsAck
    case pushPromise(UInt32, promised: UInt32)
    case ping(UInt64, ack: Bool)
    case goAway(last: UInt32, HTTP2ErrorCode)
    case windowUpdate(UInt32, increment: UInt32)

    init(_ frame: HTTP2Frame) {
        let id = frame.streamID
        switch frame.payload {
        case .data(_, let endStream, let length): self = .data(id, length: length, endStream: endStream)
        case .headers(let headers, let endStream): self = .headers(id, headers.map(\.description), endStream: endStream)
        case .oversizedHeaders(let endStream): self = .oversizedHeaders(id, endStream: endStream)
        case .priority: self = .priority(id)
        case .rstStream(let code): self = .rst(id, code)
        case .settings(let parameters): self = .settings(parameters)
        case .settingsAck: self = .settingsAck
        case .pushPromise(let promised, _): self = .pushPromise(id, promised: promised)
        case .ping(let opaque, let ack): self = .ping(opaque, ack: ack)
        case .goAway(let last, let code, _): self = .goAway(last: last, code)
        case .windowUpdate(let increment): self = .windowUpdate(id, increment: increment)
        }
    }

    var description: String {
        switch self {
        case .data(let id, let length, let end): return "DATA(\(id), \(length)\(end ? ", END_STREAM" : ""))"
        case .headers(let id, let fields, let end): return "HEADERS(\(id), \(fields)\(end ? ", END_STREAM" : ""))"
        case .oversizedHeaders(let id, let end): return "HEADERS(\(id), too large\(end ? ", END_STREAM" : ""))"
        case .priority(let id): return "PRIORITY(\(id))"
        case .rst(let id, let code): return "RST_STREAM(\(id), \(code))"
        case .settings(let parameters): return "SETTINGS(\(parameters))"
        case .settingsAck: return "SETTINGS(ACK)"
        case .pushPromise(let id, let promised): return "PUSH_PROMISE(\(id), \(promised))"
        case .ping(let opaque, let ack): return "PING(\(opaque)\(ack ? ", ACK" : ""))"
        case .goAway(let last, let code): return "GOAWAY(last: \(last), \(code))"
        case .windowUpdate(let id, let increment): return "WINDOW_UPDATE(\(id), \(increment))"
        }
    }
}

/// A connection event as the tests compare it.
enum EventSummary: Equatable, CustomStringConvertible {
    case ready
    case headers(UInt32, [String], endStream: Bool)
    case data(UInt32, [UInt8], endStream: Bool)
    case reset(UInt32, HTTP2ErrorCode)
    case streamError(UInt32, HTTP2ErrorCode)
    case closed(UInt32)
    case writable(UInt32)
    case headerListTooLarge(UInt32)
    case pingAck(UInt64)
    case goAway(last: UInt32, HTTP2ErrorCode)
    case drained
    case connectionError(HTTP2ErrorCode)

    init(_ event: HTTP2ConnectionEvent) {
        switch event {
        case .ready: self = .ready
        case .headers(let id, let headers, let endStream): self = .headers(id, headers.map(\.description), endStream: endStream)
        case .data(let id, let data, let endStream): self = .data(id, Array(data.readableBytesView), endStream: endStream)
        case .reset(let id, let code): self = .reset(id, code)
        case .streamError(let id, let error): self = .streamError(id, error.code)
        case .closed(let id): self = .closed(id)
        case .writable(let id): self = .writable(id)
        case .headerListTooLarge(let id): self = .headerListTooLarge(id)
        case .pingAck(let opaque): self = .pingAck(opaque)
        case .goAway(let last, let code, _): self = .goAway(last: last, code)
        case .drained: self = .drained
        case .connectionError(let error): self = .connectionError(error.code)
        }
    }

    var description: String {
        switch self {
        case .ready: return "ready"
        case .headers(let id, let fields, let end): return "headers(\(id), \(fields)\(end ? ", endStream" : ""))"
        case .data(let id, let bytes, let end): return "data(\(id), \(bytes.count) bytes\(end ? ", endStream" : ""))"
        case .reset(let id, let code): return "reset(\(id), \(code))"
        case .streamError(let id, let code): return "streamError(\(id), \(code))"
        case .closed(let id): return "closed(\(id))"
        case .writable(let id): return "writable(\(id))"
        case .headerListTooLarge(let id): return "headerListTooLarge(\(id))"
        case .pingAck(let opaque): return "pingAck(\(opaque))"
        case .goAway(let last, let code): return "goAway(last: \(last), \(code))"
        case .drained: return "drained"
        case .connectionError(let code): return "connectionError(\(code))"
        }
    }
}

/// The strings `FrameSummary.headers` and `EventSummary.headers` carry for a header list.
func fields(_ headers: [HPACKHeader]) -> [String] { headers.map(\.description) }

/// Everything a connection wants sent, as one buffer.
func takeOutput(_ connection: inout HTTP2Connection) -> ByteBuffer {
    var buffers: [ByteBuffer] = []
    connection.drainOutput { buffers.append($0) }
    return joined(buffers)
}

/// Decodes every complete frame in `bytes`; a decoding error is a test failure.
func decodeAll(_ bytes: ByteBuffer, with decoder: inout HTTP2FrameDecoder,
               sourceLocation: SourceLocation = #_sourceLocation) -> [HTTP2Frame] {
    decoder.append(bytes)
    var frames: [HTTP2Frame] = []
    do {
        while let frame = try decoder.nextFrame() { frames.append(frame) }
    } catch {
        Issue.record("the connection's output does not decode: \(error)", sourceLocation: sourceLocation)
    }
    return frames
}

// MARK: One connection and a scripted peer

/// One HTTP2Connection under test, with the test playing its peer in raw frames: bytes go
/// in through `receive`, and the connection's output is decoded (with an
/// HTTP2FrameDecoder of the opposite role, so a client's preface is checked too).
struct PeerHarness {
    var connection: HTTP2Connection
    /// The peer's HPACK encoder, in step with the connection's decoder.
    var hpack = HPACKEncoder()
    /// Decodes what the connection sends.
    var outputDecoder: HTTP2FrameDecoder
    /// The clock passed to `receive` (nanoseconds).
    var now: UInt64 = 0

    init(role: HTTP2Configuration.Role, _ configure: (inout HTTP2Configuration) -> Void = { _ in }) {
        var configuration = HTTP2Configuration(role: role)
        // Windows stay fixed unless a test is about BDP growth (its probes add PINGs).
        configuration.maximumStreamWindowSize = nil
        configure(&configuration)
        connection = HTTP2Connection(configuration: configuration)
        outputDecoder = HTTP2FrameDecoder(role: role == .server ? .client : .server)
        connection.start()
    }

    /// A started server, with the test as its client.
    static func server(_ configure: (inout HTTP2Configuration) -> Void = { _ in }) -> PeerHarness {
        PeerHarness(role: .server, configure)
    }

    /// A started client, with the test as its server.
    static func client(_ configure: (inout HTTP2Configuration) -> Void = { _ in }) -> PeerHarness {
        PeerHarness(role: .client, configure)
    }

    var role: HTTP2Configuration.Role { connection.role }

    /// Feeds bytes to the connection, as one read.
    mutating func receive(_ buffers: ByteBuffer...) {
        connection.receive(joined(buffers), now: now)
    }

    /// Completes the handshake from the peer's side (preface for a server, then our
    /// SETTINGS) and discards what the connection sent so far and its events.
    mutating func handshake(_ settings: [HTTP2Setting] = []) {
        if role == .server {
            receive(prefaceBytes(), settingsFrame(settings))
        } else {
            receive(settingsFrame(settings))
        }
        _ = frames()
        _ = events()
    }

    /// The frames the connection sent since the last call.
    mutating func frames(sourceLocation: SourceLocation = #_sourceLocation) -> [HTTP2Frame] {
        let output = takeOutput(&connection)
        return decodeAll(output, with: &outputDecoder, sourceLocation: sourceLocation)
    }

    /// The frames the connection sent since the last call, summarised.
    mutating func sent(sourceLocation: SourceLocation = #_sourceLocation) -> [FrameSummary] {
        frames(sourceLocation: sourceLocation).map(FrameSummary.init)
    }

    /// The connection's events since the last call, summarised.
    mutating func events() -> [EventSummary] {
        connection.takeEvents().map(EventSummary.init)
    }

    /// A header block in the peer's HPACK context.
    mutating func block(_ headers: [HPACKHeader]) -> [UInt8] {
        encodeBlock(headers, with: &hpack)
    }

    /// HEADERS with a header list, encoded in the peer's HPACK context.
    mutating func headers(streamID: UInt32, _ headers: [HPACKHeader], endStream: Bool = false) -> ByteBuffer {
        headersFrame(streamID: streamID, block: block(headers), endStream: endStream)
    }

    /// Delivers HEADERS with a header list to the connection.
    mutating func deliverHeaders(streamID: UInt32, _ headers: [HPACKHeader], endStream: Bool = false) {
        let frame = self.headers(streamID: streamID, headers, endStream: endStream)
        receive(frame)
    }

    /// Delivers a request head on `streamID` (the test playing a client).
    mutating func sendRequest(streamID: UInt32, _ headers: [HPACKHeader] = requestHead(), endStream: Bool = false) {
        deliverHeaders(streamID: streamID, headers, endStream: endStream)
    }
}

// MARK: A client and a server joined together

/// A client and a server HTTP2Connection joined back to back: `pump()` moves each one's
/// output into the other's `receive` until both are quiet. Every frame that crosses is
/// decoded by a tap and logged in order, and events are collected per side.
struct ConnectionPair {
    enum Direction: Equatable { case toServer, toClient }

    var client: HTTP2Connection
    var server: HTTP2Connection
    /// Frames in the order they crossed.
    var log: [(direction: Direction, frame: HTTP2Frame)] = []
    var clientEvents: [EventSummary] = []
    var serverEvents: [EventSummary] = []
    /// When set, DATA is consumed as soon as it is delivered (the application keeps up).
    var clientConsumes = true
    var serverConsumes = true
    /// DATA delivered per stream, in order.
    var clientReceived: [UInt32: [UInt8]] = [:]
    var serverReceived: [UInt32: [UInt8]] = [:]
    var now: UInt64 = 0

    private var tapToServer = HTTP2FrameDecoder(role: .server)
    private var tapToClient = HTTP2FrameDecoder(role: .client)

    init(client configureClient: (inout HTTP2Configuration) -> Void = { _ in },
         server configureServer: (inout HTTP2Configuration) -> Void = { _ in }) {
        var clientConfiguration = HTTP2Configuration(role: .client)
        var serverConfiguration = HTTP2Configuration(role: .server)
        // Windows stay fixed unless a test is about BDP growth (its probes add PINGs).
        clientConfiguration.maximumStreamWindowSize = nil
        serverConfiguration.maximumStreamWindowSize = nil
        configureClient(&clientConfiguration)
        configureServer(&serverConfiguration)
        client = HTTP2Connection(configuration: clientConfiguration)
        server = HTTP2Connection(configuration: serverConfiguration)
        // The taps accept what each side announced it accepts.
        tapToServer.maxFrameSize = serverConfiguration.maxFrameSize
        tapToClient.maxFrameSize = clientConfiguration.maxFrameSize
        client.start()
        server.start()
    }

    /// Shuttles bytes both ways until neither side has anything to send.
    mutating func pump(sourceLocation: SourceLocation = #_sourceLocation) {
        var rounds = 0
        while true {
            rounds += 1
            guard rounds < 100_000 else {
                Issue.record("the pair did not go quiet", sourceLocation: sourceLocation)
                return
            }
            var moved = false
            let toServer = takeOutput(&client)
            if toServer.readableBytes > 0 {
                moved = true
                for frame in decodeAll(toServer, with: &tapToServer, sourceLocation: sourceLocation) {
                    log.append((.toServer, frame))
                }
                server.receive(toServer, now: now)
            }
            collectServerEvents()
            let toClient = takeOutput(&server)
            if toClient.readableBytes > 0 {
                moved = true
                for frame in decodeAll(toClient, with: &tapToClient, sourceLocation: sourceLocation) {
                    log.append((.toClient, frame))
                }
                client.receive(toClient, now: now)
            }
            collectClientEvents()
            if !moved && client.output.isEmpty && server.output.isEmpty { return }
        }
    }

    private mutating func collectServerEvents() {
        for event in server.takeEvents() {
            if case .data(let id, let data, _) = event {
                serverReceived[id, default: []] += Array(data.readableBytesView)
                if serverConsumes { server.consumed(streamID: id, bytes: data.readableBytes) }
            }
            serverEvents.append(EventSummary(event))
        }
    }

    private mutating func collectClientEvents() {
        for event in client.takeEvents() {
            if case .data(let id, let data, _) = event {
                clientReceived[id, default: []] += Array(data.readableBytesView)
                if clientConsumes { client.consumed(streamID: id, bytes: data.readableBytes) }
            }
            clientEvents.append(EventSummary(event))
        }
    }

    /// Logged frames in one direction, summarised.
    func frames(_ direction: Direction) -> [FrameSummary] {
        log.filter { $0.direction == direction }.map { FrameSummary($0.frame) }
    }

    /// Removes and returns the collected events of both sides.
    mutating func takeEvents() -> (client: [EventSummary], server: [EventSummary]) {
        defer { clientEvents = []; serverEvents = [] }
        return (clientEvents, serverEvents)
    }
}

/// Events other than DATA (whose chunking depends on windows and frame sizes).
func withoutData(_ events: [EventSummary]) -> [EventSummary] {
    events.filter { if case .data = $0 { return false } else { return true } }
}

/// The DATA payload bytes in `frames` for one stream, in order.
func dataBytes(_ frames: [HTTP2Frame], streamID: UInt32) -> [UInt8] {
    var bytes: [UInt8] = []
    for frame in frames where frame.streamID == streamID {
        if case .data(let data, _, _) = frame.payload { bytes += data.readableBytesView }
    }
    return bytes
}

