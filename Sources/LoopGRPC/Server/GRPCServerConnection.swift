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

    init(router: GRPCRouter, configuration: GRPCServerConfiguration, loop: EventLoop) {
        self.router = router
        self.configuration = configuration
        self.loop = loop
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
        let head: GRPCRequestHead
        do {
            head = try GRPCRequestHead(validating: headers, acceptedEncodings: configuration.acceptedEncodings,
                                       compressResponsesLikeRequests: configuration.compressResponsesLikeRequests)
        } catch {
            observeRejection(stream, headers, error.status)
            return reject(stream, httpStatus: error.httpStatus, error.status)
        }
        guard let handler = router.method(for: head.path) else {
            let status = router.unknownMethodStatus(head.path)
            observeRejection(stream, headers, status)
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
        call.observer = GRPCCallObserver(metrics: handler.metrics)
        if endStream { call.endRequest() }
        if let timeout = head.timeout {
            call.deadlineTimer = loop.scheduleCallback(in: timeout) { [weak call] in call?.deadlineExceeded() }
        }
        call.method = handler
        call.interceptors = configuration.interceptors
        call.task = Task(executorPreference: loop) { await call.run() }
    }

    /// Answers a call that never reaches a handler with a trailers-only response.
    private func reject(_ stream: HTTP2StreamHandle, httpStatus: Int, _ status: GRPCStatus) {
        try? stream.sendHeaders(GRPCResponseHead.rejection(httpStatus: httpStatus, status), endStream: true)
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
