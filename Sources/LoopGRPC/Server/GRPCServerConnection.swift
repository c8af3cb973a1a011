import Glibc
import Loop
import LoopHTTP2

/// The server side of one HTTP/2 connection carrying gRPC: validates each request head,
/// routes it, and runs its handler as a task on the connection's loop (no thread hop per
/// message). Calls answered before a handler runs (unknown method, bad content type,
/// unsupported encoding) cost no task.
final class GRPCServerConnection: HTTP2StreamDelegate {
    let router: GRPCRouter
    private let configuration: GRPCServerConfiguration
    private let loop: EventLoop
    private var calls: [UInt32: GRPCServerCall] = [:]
    /// The connection's limit on unfinished request messages, shared by its calls.
    private let partialMessages: GRPCPartialMessageBudget

    /// Serves the requests that are not gRPC (``GRPCServerConfiguration/httpHandler``).
    private let http: HTTP2AsyncStreamDelegate?
    /// gRPC-Web's CORS rules (nil: gRPC-Web is not served, ``GRPCServerConfiguration/web``).
    private let cors: GRPCWebCORS?

    init(router: GRPCRouter, configuration: GRPCServerConfiguration, loop: EventLoop) {
        self.router = router
        self.configuration = configuration
        self.loop = loop
        self.http = configuration.httpHandler.map { HTTP2AsyncStreamDelegate(loop: loop, handler: $0) }
        self.cors = configuration.web.map { GRPCWebCORS($0) }
        self.partialMessages = GRPCPartialMessageBudget(limit: configuration.maxPartialMessageBytesPerConnection,
                                                        streamWindow: Int(configuration.http2.initialStreamWindowSize),
                                                        connectionWindow: Int(configuration.http2.connectionWindowSize))
    }

    func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
        if let call = calls[stream.id] {
            // Request trailers: gRPC clients send none, but they end the request all the same.
            call.endRequest()
            return
        }
        if let http, !Self.mayBeGRPC(headers, preflights: cors != nil) {
            // Plainly not gRPC (no gRPC content type, not a preflight): the HTTP handler's, at
            // once (no validation, no rejection text made and thrown away).
            return http.streamHeaders(stream, headers, endStream: endStream)
        }
        let head: GRPCRequestHead
        do {
            head = try GRPCRequestHead(validating: headers, acceptedEncodings: configuration.acceptedEncodings,
                                       compressResponsesLikeRequests: configuration.compressResponsesLikeRequests)
        } catch {
            if error.httpStatus == 405, let cors, answerPreflight(stream, headers, cors) { return }
            if let http, error.httpStatus == 415 || error.httpStatus == 405 {
                // Not gRPC at all: the application's HTTP handler answers it.
                return http.streamHeaders(stream, headers, endStream: endStream)
            }
            observeRejection(stream, headers, error.status)
            return reject(stream, httpStatus: error.httpStatus, error.status)
        }
        if let type = head.web, cors == nil {
            let status = GRPCStatus(.internal, "gRPC-Web is not served here (\(type.responseContentType))")
            observeRejection(stream, headers, status)
            return reject(stream, httpStatus: 415, status)
        }
        guard let handler = router.method(for: head.path) else {
            let status = router.unknownMethodStatus(head.path)
            observeRejection(stream, headers, status)
            if let type = head.web, let cors {
                let answer = GRPCWebCallMode.rejection(status, contentType: type, corsHeaders: cors.responseHeaders(origin: head.origin))
                try? stream.sendHeaders(answer.head, endStream: false)
                try? stream.sendData(answer.body, endStream: true)
                return
            }
            return reject(stream, httpStatus: 200, status)
        }
        let context = GRPCServerContext(path: head.path, requestMetadata: head.hasMetadata ? GRPCMetadata(headers: headers) : GRPCMetadata(),
                                        deadline: head.timeout.map { ContinuousClock.now + $0 }, userAgent: head.userAgent,
                                        tls: stream.connection.tls, remoteAddress: stream.connection.remoteAddress,
                                        localAddress: stream.connection.localAddress)
        let call = GRPCServerCall(stream: stream, loop: loop, context: context, requestCompression: head.requestCompression,
                                  responseCompression: head.responseCompression,
                                  maxReceiveMessageSize: configuration.maxReceiveMessageSize,
                                  maxSendMessageSize: configuration.maxSendMessageSize, partialMessages: partialMessages)
        calls[stream.id] = call
        if let type = head.web, let cors {
            call.web = GRPCWebCallMode(contentType: type, corsHeaders: cors.responseHeaders(origin: head.origin))
        }
        call.observer = GRPCCallObserver(metrics: handler.metrics)
        if endStream { call.endRequest() }
        if let timeout = head.timeout {
            call.deadlineTimer = loop.scheduleCallback(in: timeout) { [weak call] in call?.deadlineExceeded() }
        }
        call.method = handler
        call.interceptors = configuration.interceptors
        call.task = Task(executorPreference: loop) { await call.run() }
    }

    /// Whether a request could be a gRPC or gRPC-Web call (its content type starts with
    /// `application/grpc`) or, with gRPC-Web served, a CORS preflight (OPTIONS). One pass over
    /// the fields, by bytes.
    /// Whether a content-type begins with "application/grpc", compared as bytes (through
    /// `UTF8View.starts(with:)` it cost an iterator step per byte, ~1,700 instructions a request).
    static func hasGRPCPrefix(_ contentType: String) -> Bool {
        let prefix: StaticString = "application/grpc"
        var value = contentType
        return value.withUTF8 { bytes in
            bytes.count >= prefix.utf8CodeUnitCount
                && memcmp(bytes.baseAddress!, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
        }
    }

    static func mayBeGRPC(_ headers: [HPACKHeader], preflights: Bool) -> Bool {
        for header in headers {
            if header.name == "content-type" { return hasGRPCPrefix(header.value) }
            if preflights, header.name == ":method", header.value == "OPTIONS" { return true }
        }
        return false
    }

    /// Answers a CORS preflight for gRPC-Web (OPTIONS with Origin and
    /// Access-Control-Request-Method); false if the request is no preflight.
    private func answerPreflight(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], _ cors: GRPCWebCORS) -> Bool {
        let method = headers.first { $0.name == ":method" }?.value ?? ""
        let request = GRPCWebCORS.Request(method: method, headers: headers)
        guard request.isPreflight else { return false }
        let answer = cors.answer(toPreflight: request)
        try? stream.sendHeaders([HPACKHeader(":status", String(answer.status))] + answer.headers, endStream: true)
        return true
    }

    /// Answers a call that never reaches a handler with a trailers-only response.
    private func reject(_ stream: HTTP2StreamHandle, httpStatus: Int, _ status: GRPCStatus) {
        try? stream.sendHeaders(GRPCResponseHead.rejection(httpStatus: httpStatus, status), endStream: true)
    }

    // Streams that are not calls belong to the HTTP handler, if any (it ignores streams it
    // does not know and returns their credit).

    func streamData(_ stream: HTTP2StreamHandle, _ data: ByteBuffer, endStream: Bool) {
        guard let call = calls[stream.id] else {
            if let http { return http.streamData(stream, data, endStream: endStream) }
            stream.consumed(data.readableBytes)
            return
        }
        call.receive(data, endStream: endStream)
    }

    func streamReset(_ stream: HTTP2StreamHandle, code: HTTP2ErrorCode) {
        guard let call = calls[stream.id] else { return http?.streamReset(stream, code: code) ?? () }
        call.cancelledByPeer(code)
    }

    func streamClosed(_ stream: HTTP2StreamHandle) {
        guard let call = calls.removeValue(forKey: stream.id) else { return http?.streamClosed(stream) ?? () }
        call.streamClosed()
    }

    func streamWritable(_ stream: HTTP2StreamHandle) {
        guard let call = calls[stream.id] else { return http?.streamWritable(stream) ?? () }
        call.writable()
    }
}
