/// Every abuse limit of a connection, in one place: what a peer may make us do cheaply and
/// repeatedly before the connection is closed with ENHANCE_YOUR_CALM (RFC 9113 §10.5). Each
/// limit is set through ``HTTP2Configuration``.
///
/// | abuse | limit | configuration |
/// |---|---|---|
/// | rapid reset (CVE-2023-44487): streams opened and reset by the peer | resets per second | `maxResetsPerSecond` |
/// | PING / SETTINGS floods: frames we must answer, with no request between them | frames within 10 s | `maxControlFramesWithoutProgress` |
/// | CONTINUATION floods (CVE-2024-27316): one header block in endless pieces | frames per block | `maxContinuationFrames` |
/// | oversized header blocks | encoded bytes per block | `maxHeaderBlockSize` |
///
/// The header-block limits are checked by the frame decoder while it gathers a block
/// (``HTTP2HeaderBlockLimits``); the others by the connection as frames arrive.
///
/// ```swift
/// var limits = HTTP2AbuseLimits(configuration: .init(role: .server))
/// try limits.controlFrame(now: clock)   // a PING or SETTINGS to answer
/// limits.progress()                     // a request: the control-frame count starts over
/// try limits.peerReset(now: clock)      // the peer reset a stream
/// ```
struct HTTP2AbuseLimits {
    /// Counts events in fixed windows of time: the count starts over when a window has
    /// passed since the first event counted in it.
    struct WindowedCounter {
        let window: UInt64
        let limit: Int
        private var start: UInt64 = 0
        private(set) var count = 0

        init(window: UInt64, limit: Int) {
            self.window = window
            self.limit = limit
        }

        /// Counts one event at `now`; false once more than `limit` fell in one window.
        mutating func count(now: UInt64) -> Bool {
            if now &- start > window {
                start = now
                count = 0
            }
            count += 1
            return count <= limit
        }

        mutating func reset() { count = 0 }
    }

    /// Resets are counted per second.
    private var resets: WindowedCounter
    /// Control frames are counted over 10 s (a keepalive PING every few seconds on an idle
    /// connection never adds up to a flood), and start over with any request.
    private var controlFrames: WindowedCounter

    init(configuration: HTTP2Configuration) {
        resets = WindowedCounter(window: 1_000_000_000, limit: configuration.maxResetsPerSecond)
        controlFrames = WindowedCounter(window: 10_000_000_000, limit: configuration.maxControlFramesWithoutProgress)
    }

    /// HEADERS or DATA arrived, or DATA left: the connection is doing real work.
    mutating func progress() {
        controlFrames.reset()
    }

    /// A PING or SETTINGS that we must answer arrived at `now` (monotonic nanoseconds).
    /// - Throws: ENHANCE_YOUR_CALM past the limit.
    mutating func controlFrame(now: UInt64) throws(HTTP2ProtocolError) {
        guard controlFrames.count(now: now) else {
            throw .connection(.enhanceYourCalm, "more than \(controlFrames.limit) PING/SETTINGS frames within 10 s without a request")
        }
    }

    /// The peer reset one of its open streams at `now` (servers count these: opening and
    /// cancelling at once costs the peer nothing and the server a request's work).
    /// - Throws: ENHANCE_YOUR_CALM past the limit (rapid reset).
    mutating func peerReset(now: UInt64) throws(HTTP2ProtocolError) {
        guard resets.count(now: now) else {
            throw .connection(.enhanceYourCalm, "more than \(resets.limit) streams reset by the peer in a second (rapid reset)")
        }
    }
}

/// The limits on one header block (HEADERS and its CONTINUATION frames), checked by the
/// frame decoder while it gathers the block. Part of `HTTP2AbuseLimits`.
///
/// ```swift
/// var limits = HTTP2HeaderBlockLimits(maxHeaderListSize: 16_384)   // blocks up to 32 KiB
/// limits.maxContinuationFrames = 16
/// ```
public struct HTTP2HeaderBlockLimits: Sendable, Equatable {
    /// Most CONTINUATION frames one block may use.
    public var maxContinuationFrames: Int
    /// Largest block, in encoded bytes.
    public var maxBlockSize: Int

    /// The default: 32 CONTINUATION frames, and twice the larger of the header list limit
    /// and 16 KiB (HPACK rarely makes a block larger than the list it encodes).
    public init(maxHeaderListSize: Int, maxContinuationFrames: Int = 32, maxBlockSize: Int? = nil) {
        self.maxContinuationFrames = maxContinuationFrames
        self.maxBlockSize = maxBlockSize ?? max(maxHeaderListSize, 16_384) * 2
    }

    /// Checks a block that has used `continuations` CONTINUATION frames and `size` bytes.
    /// - Throws: ENHANCE_YOUR_CALM past either limit.
    func check(continuations: Int, size: Int) throws(HTTP2ProtocolError) {
        guard continuations <= maxContinuationFrames else {
            throw .connection(.enhanceYourCalm, "more than \(maxContinuationFrames) CONTINUATION frames in one header block")
        }
        guard size <= maxBlockSize else {
            throw .connection(.enhanceYourCalm, "header block of more than \(maxBlockSize) bytes")
        }
    }
}
