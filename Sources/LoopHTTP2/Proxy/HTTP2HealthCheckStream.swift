import Loop

/// One health check on an upstream connection: sends ``HTTP2HealthProbe``'s request and
/// reports its verdict once.
final class HTTP2HealthCheckStream: HTTP2UpstreamStreamOwner {
    let upstream: Int
    private let authority: String
    private var probe = HTTP2HealthProbe()
    private var stream: HTTP2StreamHandle?
    private var done: ((Int, HTTP2HealthProbe.Verdict) -> Void)?

    init(upstream: Int, authority: String, done: @escaping (Int, HTTP2HealthProbe.Verdict) -> Void) {
        self.upstream = upstream
        self.authority = authority
        self.done = done
    }

    /// Opens the check's stream on `connection`; false when it takes no new stream.
    func start(on connection: HTTP2UpstreamConnection) -> Bool {
        guard let handler = connection.handler,
              let stream = try? handler.openStream(HTTP2HealthProbe.requestHead(authority: authority), endStream: false)
        else { return false }
        self.stream = stream
        connection.streams[stream.id] = self
        try? stream.sendData(HTTP2HealthProbe.requestBody, endStream: true)
        return true
    }

    /// Gives up on the check (it took too long); no verdict is reported.
    func cancel() {
        done = nil
        stream?.reset(.cancel)
    }

    func upstreamHeaders(_ headers: [HPACKHeader], endStream: Bool) {
        probe.receiveHeaders(headers, endStream: endStream)
        report()
    }

    func upstreamData(_ data: ByteBuffer, endStream: Bool) {
        stream?.consumed(data.readableBytes)
        probe.receiveData(data)
    }

    func upstreamReset(_ code: HTTP2ErrorCode, connectionLost: Bool) {
        probe.failed(connectionLost ? "connection lost" : "stream reset (\(code))")
        report()
    }

    func upstreamClosed() {
        probe.failed("stream closed without a status")
        report()
    }

    func upstreamWritable() {}

    private func report() {
        guard let verdict = probe.verdict, let done else { return }
        self.done = nil
        stream = nil
        done(upstream, verdict)
    }
}
