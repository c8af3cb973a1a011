import Loop
import LoopHTTP2

/// The demo routes, on the stream-level API: no task or object per request.
final class DemoStreams: HTTP2StreamDelegate {
    private let staticFiles: StaticFiles
    /// Bodies of POST /echo requests being received, by stream.
    private var echoBodies: [UInt32: ByteBuffer] = [:]
    /// Pending /delay responses, by stream (cancelled if the stream goes away first).
    private var delayed: [UInt32: ScheduledCallback] = [:]
    private static let hello = ByteBuffer(string: "Hello, world!")
    private static let textHead = [HPACKHeader(":status", "200"), HPACKHeader("content-type", "text/plain")]
    private static let maximumEchoSize = 256 * 1024 * 1024

    init(staticFiles: StaticFiles) {
        self.staticFiles = staticFiles
    }

    func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
        if !echoBodies.isEmpty && echoBodies[stream.id] != nil {
            if endStream { finishEcho(stream) }  // request trailers
            return
        }
        var method = ""
        var path = ""
        for header in headers {
            if header.name == ":method" { method = header.value } else if header.name == ":path" { path = header.value }
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
                    var body = ByteBuffer(capacity: size)
                    body.writeRepeatingByte(UInt8(ascii: "x"), count: size)
                    try stream.sendData(body, endStream: true)
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
                echoBodies[stream.id] = ByteBuffer()
                if endStream { finishEcho(stream) }
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
        stream.consumed(data.readableBytes)
        guard var body = echoBodies[stream.id] else { return }
        var data = data
        guard body.readableBytes + data.readableBytes <= DemoStreams.maximumEchoSize else {
            echoBodies[stream.id] = nil
            try? respond(stream, status: 413, text: "body larger than \(DemoStreams.maximumEchoSize) bytes\n")
            return
        }
        echoBodies[stream.id] = nil  // keep the buffer uniquely referenced while appending
        body.writeBuffer(&data)
        echoBodies[stream.id] = body
        if endStream { finishEcho(stream) }
    }

    func streamClosed(_ stream: HTTP2StreamHandle) {
        // Most streams use neither table: skip hashing the id then.
        if !echoBodies.isEmpty { echoBodies[stream.id] = nil }
        if !delayed.isEmpty { delayed.removeValue(forKey: stream.id)?.cancel() }
    }

    private func finishEcho(_ stream: HTTP2StreamHandle) {
        guard let body = echoBodies.removeValue(forKey: stream.id) else { return }
        do {
            try stream.sendHeaders([HPACKHeader(":status", "200"), HPACKHeader("content-length", String(body.readableBytes))], endStream: body.readableBytes == 0)
            if body.readableBytes > 0 { try stream.sendData(body, endStream: true) }
        } catch {
            stream.reset(.internalError)
        }
    }

    private func respond(_ stream: HTTP2StreamHandle, status: Int, text: String) throws {
        try stream.sendHeaders([HPACKHeader(":status", String(status)), HPACKHeader("content-type", "text/plain")], endStream: false)
        try stream.sendData(ByteBuffer(string: text), endStream: true)
    }
}
