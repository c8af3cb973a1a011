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
    let maxResetsPerSecond: Int
    let maxControlFramesWithoutProgress: Int
    private var resetWindowStart: UInt64 = 0
    private var resetsInWindow = 0
    private var controlWindowStart: UInt64 = 0
    private var controlFramesWithoutProgress = 0

    /// Control frames are counted over this window (a keepalive PING every few seconds on
    /// an idle connection never adds up to a flood).
    static let controlFrameWindow: UInt64 = 10_000_000_000
    /// Resets are counted per second.
    static let resetWindow: UInt64 = 1_000_000_000

    init(configuration: HTTP2Configuration) {
        maxResetsPerSecond = configuration.maxResetsPerSecond
        maxControlFramesWithoutProgress = configuration.maxControlFramesWithoutProgress
    }

    /// HEADERS or DATA arrived: the peer is doing real work.
    mutating func progress() {
        controlFramesWithoutProgress = 0
    }

    /// A PING or SETTINGS that we must answer arrived at `now` (monotonic nanoseconds).
    /// - Throws: ENHANCE_YOUR_CALM past the limit.
    mutating func controlFrame(now: UInt64) throws(HTTP2ProtocolError) {
        if now &- controlWindowStart > HTTP2AbuseLimits.controlFrameWindow {
            controlWindowStart = now
            controlFramesWithoutProgress = 0
        }
        controlFramesWithoutProgress += 1
        guard controlFramesWithoutProgress <= maxControlFramesWithoutProgress else {
            throw .connection(.enhanceYourCalm, "more than \(maxControlFramesWithoutProgress) PING/SETTINGS frames within 10 s without a request")
        }
    }

    /// The peer reset one of its open streams at `now` (servers count these: opening and
    /// cancelling at once costs the peer nothing and the server a request's work).
    /// - Throws: ENHANCE_YOUR_CALM past the limit (rapid reset).
    mutating func peerReset(now: UInt64) throws(HTTP2ProtocolError) {
        if now &- resetWindowStart > HTTP2AbuseLimits.resetWindow {
            resetWindowStart = now
            resetsInWindow = 0
        }
        resetsInWindow += 1
        guard resetsInWindow <= maxResetsPerSecond else {
            throw .connection(.enhanceYourCalm, "more than \(maxResetsPerSecond) streams reset by the peer in a second (rapid reset)")
        }
    }
}

/// The limits on one header block (HEADERS and its CONTINUATION frames), checked by the
/// frame decoder while it gathers the block. Part of ``HTTP2AbuseLimits``.
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
