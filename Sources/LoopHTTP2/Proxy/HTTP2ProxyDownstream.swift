import Loop

/// The delegate of one downstream (client-facing, server-role) connection of an
/// ``HTTP2Proxy``: each new stream becomes a ``HTTP2ProxiedStream`` sent through the loop's
/// ``HTTP2UpstreamPool``; later events go to it by stream id. A GOAWAY from the client
/// needs nothing here: the connection drains, its streams finish.
final class HTTP2ProxyDownstream: HTTP2StreamDelegate {
    private let pool: HTTP2UpstreamPool
    private var streams: [UInt32: HTTP2ProxiedStream] = [:]

    init(pool: HTTP2UpstreamPool) {
        self.pool = pool
    }

    func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
        if let proxied = streams[stream.id] {
            proxied.requestTrailers(HTTP2ProxyHeaders.forwardable(headers))
            return
        }
        let proxied = HTTP2ProxiedStream(downstream: stream, head: HTTP2ProxyHeaders.forwardable(headers), endStream: endStream, pool: pool)
        streams[stream.id] = proxied
        pool.dispatch(proxied)
    }

    func streamData(_ stream: HTTP2StreamHandle, _ data: ByteBuffer, endStream: Bool) {
        if let proxied = streams[stream.id] {
            proxied.requestData(data, endStream: endStream)
        } else {
            stream.consumed(data.readableBytes)
        }
    }

    func streamReset(_ stream: HTTP2StreamHandle, code: HTTP2ErrorCode) {
        // The client's own RST_STREAM code goes upstream unchanged; a lost connection cancels.
        let lost = stream.connection.connection.state == .closed
        streams.removeValue(forKey: stream.id)?.downstreamReset(lost ? .cancel : code)
    }

    func streamClosed(_ stream: HTTP2StreamHandle) {
        streams.removeValue(forKey: stream.id)?.downstreamClosed()
    }

    func streamWritable(_ stream: HTTP2StreamHandle) {
        streams[stream.id]?.downstreamWritable()
    }
}
