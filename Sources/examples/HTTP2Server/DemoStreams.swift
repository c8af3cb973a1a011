import Loop
import LoopHTTP2

/// The demo routes, on the stream-level API: no task or object per request.
///
/// Bodies stream with backpressure, as a real service should: GET /echo-size/N makes its N
/// bytes as the stream takes them (`GeneratedBody`, at most 64 KiB queued), and POST /echo
/// sends the body back as it arrives, crediting the client only for bytes that left
/// (`EchoBody`). Neither holds a whole body, whatever its size or the client's pace.
final class DemoStreams: HTTP2StreamDelegate {
    private let staticFiles: StaticFiles
    /// GET /echo-size bodies still being made, by stream.
    private var generated: [UInt32: GeneratedBody] = [:]
    /// POST /echo streams, by stream (until the stream closes: credit follows the last bytes out).
    private var echoes: [UInt32: EchoBody] = [:]
    /// Pending /delay responses, by stream (cancelled if the stream goes away first).
    private var delayed: [UInt32: ScheduledCallback] = [:]
    private static let hello = ByteBuffer(string: "Hello, world!")
    private static let textHead = [HPACKHeader(":status", "200"), HPACKHeader("content-type", "text/plain")]

    init(staticFiles: StaticFiles) {
        self.staticFiles = staticFiles
    }

    func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
        if !echoes.isEmpty && echoes[stream.id] != nil {
            if endStream { echo(stream, ByteBuffer(), endStream: true) }  // request trailers
            return
        }
        var method = ""
        var path = ""
        var contentLength: String?
        for header in headers {
            switch header.name {
            case ":method": method = header.value
            case ":path": path = header.value
            case "content-length": contentLength = header.value
            default: break
            }
        }
        do {
            switch (method, path) {
            case ("GET", "/hello"):
                try stream.sendHeaders(DemoStreams.textHead, endStream: false)
                try stream.sendData(DemoStreams.hello, endStream: true)
            case ("GET", _) where path.hasPrefix("/echo-size/"):
                guard let size = Int(path.dropFirst("/echo-size/".count)), size >= 0, size <= 1 << 30 else {
                    try respond(stream, status: 400, text: "size must be 0...1073741824\n")
                    return
                }
                try stream.sendHeaders([HPACKHeader(":status", "200"), HPACKHeader("content-length", String(size))], endStream: size == 0)
                if size > 0 {
                    generated[stream.id] = GeneratedBody(size: size)
                    generate(stream)
                }
            case ("GET", _) where path.hasPrefix("/delay/"):
                // A slow response: many streams stay open at once (memory per stream).
                guard let milliseconds = Int(path.dropFirst("/delay/".count)), (0...60_000).contains(milliseconds) else {
                    try respond(stream, status: 400, text: "delay must be 0...60000 ms\n")
                    return
                }
                let timer = stream.connection.eventLoop.scheduleCallback(in: .milliseconds(milliseconds)) { [weak self] in
                    self?.delayed[stream.id] = nil
                    try? stream.sendHeaders(DemoStreams.textHead, endStream: false)
                    try? stream.sendData(DemoStreams.hello, endStream: true)
                }
                delayed[stream.id] = timer
            case ("POST", "/echo"):
                echoes[stream.id] = EchoBody(contentLength: contentLength)
                if endStream { echo(stream, ByteBuffer(), endStream: true) }
            case ("GET", _) where path.hasPrefix("/static/"):
                if let file = staticFiles.read(String(path.dropFirst("/static/".count))) {
                    try stream.sendHeaders([HPACKHeader(":status", "200"), HPACKHeader("content-length", String(file.readableBytes))], endStream: file.readableBytes == 0)
                    if file.readableBytes > 0 { try stream.sendData(file, endStream: true) }
                } else {
                    try respond(stream, status: 404, text: "not found\n")
                }
            default:
                try respond(stream, status: 404, text: "no route for \(method) \(path)\n")
            }
        } catch {
            stream.reset(.internalError)
        }
    }

    func streamData(_ stream: HTTP2StreamHandle, _ data: ByteBuffer, endStream: Bool) {
        guard !echoes.isEmpty, echoes[stream.id] != nil else {
            stream.consumed(data.readableBytes)  // a body no route reads: credit it at once
            return
        }
        echo(stream, data, endStream: endStream)
    }

    func streamWritable(_ stream: HTTP2StreamHandle) {
        if !generated.isEmpty && generated[stream.id] != nil {
            generate(stream)
        } else if !echoes.isEmpty, var echo = echoes[stream.id] {
            let wait = echo.returnCredit(on: stream)
            echoes[stream.id] = echo
            if let wait { stream.notifyWhenBuffered(atMost: wait) }
        }
    }

    func streamClosed(_ stream: HTTP2StreamHandle) {
        // Most streams use none of the tables: skip hashing the id then.
        if !generated.isEmpty { generated[stream.id] = nil }
        if !echoes.isEmpty { echoes[stream.id] = nil }
        if !delayed.isEmpty { delayed.removeValue(forKey: stream.id)?.cancel() }
    }

    /// Queues the next part of a GET /echo-size body, and arranges for the part after it.
    /// The body is out of the table while it produces and back in before anything can call
    /// us again (`notifyWhenBuffered` may deliver `streamWritable` at once).
    private func generate(_ stream: HTTP2StreamHandle) {
        guard var body = generated.removeValue(forKey: stream.id) else { return }  // closed meanwhile
        do {
            switch try body.produce(on: stream) {
            case .finished:
                break
            case .waitForWritable(let threshold):
                generated[stream.id] = body
                stream.notifyWhenBuffered(atMost: threshold)
            case .nextTurn:
                generated[stream.id] = body
                stream.connection.eventLoop.executeSoon { [weak self] in self?.generate(stream) }
            }
        } catch {
            stream.reset(.internalError)
        }
    }

    private func echo(_ stream: HTTP2StreamHandle, _ data: ByteBuffer, endStream: Bool) {
        guard var echo = echoes[stream.id] else { return }
        do {
            let wait = try echo.receive(data, endStream: endStream, on: stream)
            echoes[stream.id] = echo
            if let wait { stream.notifyWhenBuffered(atMost: wait) }
        } catch {
            echoes[stream.id] = nil
            stream.reset(.internalError)
        }
    }

    private func respond(_ stream: HTTP2StreamHandle, status: Int, text: String) throws(HTTP2StreamError) {
        try stream.sendHeaders([HPACKHeader(":status", String(status)), HPACKHeader("content-type", "text/plain")], endStream: false)
        try stream.sendData(ByteBuffer(string: text), endStream: true)
    }
}
