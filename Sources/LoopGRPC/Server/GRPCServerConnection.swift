import Loop
import LoopHTTP2

/// The server side of one HTTP/2 connection carrying gRPC: validates each request head,
/// routes it, and runs its handler as a task on the connection's loop (no thread hop per
/// message). Calls answered before a handler runs (unknown method, bad content type,
/// unsupported encoding) cost no task.
final class GRPCServerConnection: HTTP2StreamDelegate {
    private let router: GRPCRouter
    private let configuration: GRPCServerConfiguration
    private let loop: EventLoop
    private var calls: [UInt32: GRPCServerCall] = [:]

    init(router: GRPCRouter, configuration: GRPCServerConfiguration, loop: EventLoop) {
        self.router = router
        self.configuration = configuration
        self.loop = loop
    }

    func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
        if let call = calls[stream.id] {
            // Request trailers: gRPC clients send none, but they end the request all the same.
            call.endRequest()
            return
        }
        var method = ""
        var path = ""
        var contentType: String?
        var encoding: String?
        var acceptEncoding: String?
        var timeout: String?
        var userAgent: String?
        var hasMetadata = false
        for header in headers {
            let name = header.name.utf8
            if name.first == UInt8(ascii: ":") {
                if header.name == ":method" { method = header.value } else if header.name == ":path" { path = header.value }
            } else if name.first == UInt8(ascii: "c"), header.name == "content-type" {
                contentType = header.value
            } else if name.first == UInt8(ascii: "g"), name.count > 5 {
                switch header.name {
                case "grpc-encoding": encoding = header.value
                case "grpc-accept-encoding": acceptEncoding = header.value
                case "grpc-timeout": timeout = header.value
                default: if !GRPCMetadata.isReserved(header.name) { hasMetadata = true }
                }
            } else if header.name == "user-agent" {
                userAgent = header.value
            } else if !GRPCMetadata.isReserved(header.name) {
                hasMetadata = true
            }
        }

        guard method == "POST" else {
            return reject(stream, httpStatus: 405, GRPCStatus(.internal, "gRPC requires POST, got \(method.isEmpty ? "no method" : method)"))
        }
        guard let contentType, contentType.hasPrefix("application/grpc") else {
            return reject(stream, httpStatus: 415, GRPCStatus(.internal, "invalid gRPC content-type \(contentType.map { "\"\($0)\"" } ?? "(none)")"))
        }
        var requestCompression: GRPCCompression?
        if let encoding, encoding != "identity" {
            guard let supported = GRPCCompression(headerValue: encoding), configuration.acceptedEncodings.contains(supported) else {
                return reject(stream, httpStatus: 200, GRPCStatus(.unimplemented, "grpc-encoding \"\(encoding)\" is not supported (supported: \(GRPCCompression.acceptEncodingHeader))"))
            }
            requestCompression = supported
        }
        var deadline: ContinuousClock.Instant?
        var timeoutDuration: Duration?
        if let timeout {
            guard let duration = GRPCTimeout.parse(timeout) else {
                return reject(stream, httpStatus: 200, GRPCStatus(.internal, "malformed grpc-timeout \"\(timeout)\""))
            }
            timeoutDuration = duration
            deadline = ContinuousClock.now + duration
        }
        guard let handler = router.method(for: path) else {
            return reject(stream, httpStatus: 200, unknownMethodStatus(path))
        }
        let responseCompression = configuration.compressResponsesLikeRequests && requestCompression != nil
            && requestCompression!.isAccepted(by: acceptEncoding) ? requestCompression : nil
        let context = GRPCServerContext(path: path, requestMetadata: hasMetadata ? GRPCMetadata(headers: headers) : GRPCMetadata(),
                                        deadline: deadline, userAgent: userAgent)
        let call = GRPCServerCall(stream: stream, loop: loop, context: context, requestCompression: requestCompression,
                                  responseCompression: responseCompression,
                                  maxReceiveMessageSize: configuration.maxReceiveMessageSize,
                                  maxSendMessageSize: configuration.maxSendMessageSize)
        calls[stream.id] = call
        if endStream { call.endRequest() }
        if let timeoutDuration {
            call.deadlineTimer = loop.scheduleCallback(in: timeoutDuration) { [weak call] in call?.deadlineExceeded() }
        }
        call.method = handler
        call.interceptors = configuration.interceptors
        call.task = Task(executorPreference: loop) { await call.run() }
    }

    private func unknownMethodStatus(_ path: String) -> GRPCStatus {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else {
            return GRPCStatus(.unimplemented, "malformed method name \"\(path)\"")
        }
        if router.services.contains(parts[1]) {
            return GRPCStatus(.unimplemented, "unknown method \(parts[2]) for service \(parts[1])")
        }
        return GRPCStatus(.unimplemented, "unknown service \(parts[1])")
    }

    /// Answers a call that never reaches a handler with a trailers-only response.
    private func reject(_ stream: HTTP2StreamHandle, httpStatus: Int, _ status: GRPCStatus) {
        var headers = [HPACKHeader(":status", String(httpStatus)), HPACKHeader("content-type", "application/grpc"),
                       HPACKHeader("grpc-status", String(status.code.rawValue))]
        if !status.message.isEmpty { headers.append(HPACKHeader("grpc-message", GRPCStatusMessage.encode(status.message))) }
        if status.code == .unimplemented { headers.append(HPACKHeader("grpc-accept-encoding", GRPCCompression.acceptEncodingHeader)) }
        try? stream.sendHeaders(headers, endStream: true)
    }

    func streamData(_ stream: HTTP2StreamHandle, _ data: ByteBuffer, endStream: Bool) {
        guard let call = calls[stream.id] else {
            stream.consumed(data.readableBytes)
            return
        }
        call.receive(data, endStream: endStream)
    }

    func streamReset(_ stream: HTTP2StreamHandle, code: HTTP2ErrorCode) {
        calls[stream.id]?.cancelledByPeer(code)
    }

    func streamClosed(_ stream: HTTP2StreamHandle) {
        calls.removeValue(forKey: stream.id)?.streamClosed()
    }

    func streamWritable(_ stream: HTTP2StreamHandle) {
        calls[stream.id]?.writable()
    }
}
