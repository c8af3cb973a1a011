import Loop

/// One HTTP/2 connection from the proxy to an upstream, on the loop of the downstream
/// connections it serves: the delegate of its client-role ``HTTP2ConnectionHandler``, which
/// hands each stream's events to the stream's owner (a ``HTTP2ProxiedStream`` or a health
/// check). Many streams share it, up to the upstream's SETTINGS_MAX_CONCURRENT_STREAMS.
final class HTTP2UpstreamConnection: HTTP2StreamDelegate {
    weak var pool: HTTP2UpstreamPool?
    /// The upstream's index in the proxy's list.
    let upstream: Int
    /// Set by the channel initializer.
    var handler: HTTP2ConnectionHandler?
    var channel: (any Channel)?
    /// The upstream's SETTINGS arrived.
    private(set) var isReady = false
    /// The upstream sent GOAWAY: no new streams here.
    private(set) var isGoingAway = false
    /// The channel closed (or never connected).
    private(set) var isClosed = false
    var streams: [UInt32: any HTTP2UpstreamStreamOwner] = [:]

    init(pool: HTTP2UpstreamPool, upstream: Int) {
        self.pool = pool
        self.upstream = upstream
    }

    /// Whether a new stream may be opened here now.
    var hasCapacity: Bool {
        guard isReady, !isGoingAway, !isClosed, let handler, handler.connection.state == .active else { return false }
        let limit = handler.peerMaxConcurrentStreams.map(Int.init) ?? Int.max
        return handler.connection.openStreamCount < limit
    }

    /// Still connecting or handshaking.
    var isPending: Bool { !isReady && !isClosed }

    private var connectionLost: Bool { handler.map { $0.connection.state == .closed } ?? true }

    // MARK: HTTP2StreamDelegate

    func streamHeaders(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], endStream: Bool) {
        streams[stream.id]?.upstreamHeaders(headers, endStream: endStream)
    }

    func streamData(_ stream: HTTP2StreamHandle, _ data: ByteBuffer, endStream: Bool) {
        if let owner = streams[stream.id] {
            owner.upstreamData(data, endStream: endStream)
        } else {
            stream.consumed(data.readableBytes)
        }
    }

    func streamReset(_ stream: HTTP2StreamHandle, code: HTTP2ErrorCode) {
        streams.removeValue(forKey: stream.id)?.upstreamReset(code, connectionLost: connectionLost)
    }

    func streamClosed(_ stream: HTTP2StreamHandle) {
        streams.removeValue(forKey: stream.id)?.upstreamClosed()
    }

    func streamWritable(_ stream: HTTP2StreamHandle) {
        streams[stream.id]?.upstreamWritable()
    }

    func connectionReady(_ connection: HTTP2ConnectionHandler) {
        isReady = true
        pool?.connectionReady(self)
    }

    func connectionGoingAway(_ connection: HTTP2ConnectionHandler, lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: String) {
        isGoingAway = true
        pool?.connectionGoingAway(self)
    }

    /// The channel closed: streams still here learn that their connection is lost.
    func closed() {
        guard !isClosed else { return }
        isClosed = true
        let left = streams
        streams = [:]
        for owner in left.values { owner.upstreamReset(.cancel, connectionLost: true) }
        pool?.connectionClosed(self)
    }
}
