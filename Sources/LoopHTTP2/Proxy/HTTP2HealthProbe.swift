import Loop

/// A `grpc.health.v1.Health/Check` call spoken as plain HTTP/2, I/O-free (LoopHTTP2 does
/// not depend on LoopGRPC): the request to send, and the verdict on the response.
///
/// The request is a POST with `content-type: application/grpc`, `te: trailers` and an
/// empty `HealthCheckRequest` (service "": the server as a whole) — a 5-byte message prefix
/// and nothing else. The upstream is serving when the response message is `08 01`
/// (`status: SERVING`) and the call ends with `grpc-status: 0`.
///
/// ```swift
/// var probe = HTTP2HealthProbe()
/// stream = try connection.openStream(HTTP2HealthProbe.requestHead(authority: "127.0.0.1:50051"), endStream: false)
/// try stream.sendData(HTTP2HealthProbe.requestBody, endStream: true)
/// probe.receiveHeaders(responseHead, endStream: false)
/// probe.receiveData(message)
/// probe.receiveHeaders(trailers, endStream: true)
/// probe.verdict   // .serving
/// ```
public struct HTTP2HealthProbe: Sendable {
    public enum Verdict: Sendable, Equatable {
        case serving
        /// Not serving, or the call failed; the reason says which.
        case notServing(String)
    }

    /// The path of the health check method.
    public static let path = "/grpc.health.v1.Health/Check"

    /// The request head for `authority`.
    public static func requestHead(authority: String) -> [HPACKHeader] {
        [HPACKHeader(":method", "POST"), HPACKHeader(":scheme", "http"), HPACKHeader(":path", path),
         HPACKHeader(":authority", authority), HPACKHeader("content-type", "application/grpc"),
         HPACKHeader("te", "trailers")]
    }

    /// The request body: an uncompressed, empty message.
    public static var requestBody: ByteBuffer { ByteBuffer(bytes: [0, 0, 0, 0, 0]) }

    /// The verdict, once the response ended (or failed).
    public private(set) var verdict: Verdict?
    private var message: [UInt8] = []
    private var status: String?

    public init() {}

    public mutating func receiveHeaders(_ headers: [HPACKHeader], endStream: Bool) {
        guard verdict == nil else { return }
        for header in headers {
            if header.name == ":status", header.value != "200" {
                verdict = .notServing("HTTP status \(header.value)")
                return
            }
            if header.name == "grpc-status" { status = header.value }
        }
        if endStream { finish() }
    }

    public mutating func receiveData(_ data: ByteBuffer) {
        guard verdict == nil, message.count < 64 else { return }
        message.append(contentsOf: data.readableBytesView.prefix(64 - message.count))
    }

    /// The stream was reset or its connection lost.
    public mutating func failed(_ reason: String) {
        if verdict == nil { verdict = .notServing(reason) }
    }

    private mutating func finish() {
        guard let status else {
            verdict = .notServing("no grpc-status")
            return
        }
        guard status == "0" else {
            verdict = .notServing("grpc-status \(status)")
            return
        }
        // Prefix: compressed flag 0, length 2; message: field 1 (status), varint 1 (SERVING).
        if message == [0, 0, 0, 0, 2, 0x08, 0x01] {
            verdict = .serving
        } else {
            let hex = message.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
            verdict = .notServing("status is not SERVING (response bytes \(hex))")
        }
    }
}
