/// Every abuse limit of a connection, in one place: what a peer may make us do cheaply and
/// repeatedly before the connection is closed with ENHANCE_YOUR_CALM (RFC 9113 §10.5).
/// Each limit is set through ``HTTP2Configuration``.
///
/// One budget of "glitches" (the name nghttp2 and swift-nio-http2 use) covers everything a
/// peer can do that costs us work and serves no request. It is a token bucket: a burst
/// (``HTTP2Configuration/GlitchBudget/burst``) refilled at a steady rate
/// (``HTTP2Configuration/GlitchBudget/perSecond``), so a client that misbehaves now and
/// then never runs out, while a flood is cut within the burst, however it is paced.
///
/// | glitch | charged for |
/// |---|---|
/// | peer reset (CVE-2023-44487, rapid reset) | RST_STREAM of a stream we are still answering |
/// | provoked reset (CVE-2025-8671, MadeYouReset) | every stream error the peer's frames cause us to answer with RST_STREAM (invalid headers, zero WINDOW_UPDATE, frames on half-closed streams, streams over the limit, ...) |
/// | SETTINGS | every SETTINGS frame (each is answered, and a window change walks the open streams) |
/// | cheap frames | PING, PRIORITY, empty DATA without END_STREAM, WINDOW_UPDATE, unknown frame types, and frames for closed or ignored streams |
///
/// Cheap frames are normal beside real traffic (a downloading client sends WINDOW_UPDATEs
/// and BDP PINGs, a browser sends PRIORITY), so each bit of progress — a request, a DATA
/// frame with bytes in either direction — earns an allowance of a few cheap frames that
/// cost nothing. WINDOW_UPDATE has an allowance of its own, earned by DATA frames we send:
/// receivers credit in pieces smaller than our frames (HAProxy 2.6 sends about four per
/// 16 KiB frame, counting stream and connection), and 8 per frame sent cover that while
/// keeping what a peer can send for free proportional to what it makes us send. Resets and SETTINGS never use the allowance: a request that is opened only
/// to be reset must not pay for its own reset (that is exactly MadeYouReset).
///
/// Other limits, not glitches:
///
/// | abuse | limit | configuration |
/// |---|---|---|
/// | CONTINUATION floods (CVE-2024-27316): one header block in endless pieces | frames per block | `maxContinuationFrames` |
/// | oversized header blocks | encoded bytes per block | `maxHeaderBlockSize` |
///
/// The header-block limits are checked by the frame decoder while it gathers a block
/// (``HTTP2HeaderBlockLimits``); the glitch budget by the connection as frames arrive.
/// Memory a peer can make us queue is bounded elsewhere: the connection handler stops
/// reading while the socket is not writable, and its timeouts close connections that stop
/// making progress (``HTTP2Configuration/idleTimeout`` and the others).
///
/// ```swift
/// var limits = HTTP2AbuseLimits(configuration: .init(role: .server))
/// try limits.charge(.ping, now: clock)       // a PING: free beside traffic, else a glitch
/// limits.progress()                          // a request or DATA: earns cheap frames
/// try limits.charge(.peerReset, now: clock)  // the peer reset a stream being answered
/// ```
struct HTTP2AbuseLimits {
    /// What a glitch was, for the budget and for the message that names the cause.
    enum Glitch: Int, CaseIterable {
        case peerReset
        case provokedReset
        case settings
        case ping
        case priority
        case emptyData
        case windowUpdate
        case unknownFrame
        case ignoredFrame

        /// Cheap frames may be paid for by the allowance that progress earns.
        var isCheapFrame: Bool {
            switch self {
            case .peerReset, .provokedReset, .settings: return false
            case .ping, .priority, .emptyData, .windowUpdate, .unknownFrame, .ignoredFrame: return true
            }
        }

        var name: String {
            switch self {
            case .peerReset: return "streams reset by the peer while being answered (rapid reset)"
            case .provokedReset: return "stream errors the peer provoked (each answered with RST_STREAM)"
            case .settings: return "SETTINGS frames"
            case .ping: return "PING frames"
            case .priority: return "PRIORITY frames"
            case .emptyData: return "empty DATA frames"
            case .windowUpdate: return "WINDOW_UPDATE frames"
            case .unknownFrame: return "frames of unknown type"
            case .ignoredFrame: return "frames for closed or ignored streams"
            }
        }
    }

    /// A token bucket on integers: `capacity` tokens, one more every `nanosecondsPerToken`.
    struct TokenBucket {
        let capacity: Int
        let nanosecondsPerToken: UInt64
        private(set) var tokens: Int
        private var refilledAt: UInt64 = 0

        init(capacity: Int, perSecond: Int) {
            self.capacity = max(capacity, 0)
            self.nanosecondsPerToken = perSecond > 0 ? max(1_000_000_000 / UInt64(perSecond), 1) : .max
            self.tokens = self.capacity
        }

        /// Takes one token at `now` (monotonic nanoseconds); false when none is left.
        mutating func take(now: UInt64) -> Bool {
            if tokens >= capacity {
                refilledAt = now  // a full bucket earns nothing while it waits
            } else if now > refilledAt {
                let earned = (now - refilledAt) / nanosecondsPerToken
                if earned > 0 {
                    if earned >= UInt64(capacity - tokens) {
                        tokens = capacity
                        refilledAt = now
                    } else {
                        tokens += Int(earned)
                        refilledAt += earned * nanosecondsPerToken
                    }
                }
            }
            guard tokens > 0 else { return false }
            tokens -= 1
            return true
        }
    }

    /// Cheap frames one unit of progress pays for, and the most that can be saved up.
    static let allowancePerProgress = 2
    static let maximumAllowance = 64
    /// WINDOW_UPDATEs one DATA frame we send pays for, and the most that can be saved up.
    static let windowUpdatesPerFrameSent = 8
    static let maximumWindowUpdateAllowance = 4096

    private var bucket: TokenBucket
    private var allowance = 0
    private var windowUpdateAllowance = 0
    /// Glitches charged to the bucket, by kind (for the message naming the cause).
    private var charged = InlineArray<9, Int>(repeating: 0)
    /// The budget ran out (the connection is being closed with ENHANCE_YOUR_CALM for it).
    private(set) var isExhausted = false
    let budget: HTTP2Configuration.GlitchBudget

    init(configuration: HTTP2Configuration) {
        budget = configuration.glitchBudget
        bucket = TokenBucket(capacity: budget.burst, perSecond: budget.perSecond)
    }

    /// Tokens left in the bucket (for tests and metrics).
    var remaining: Int { bucket.tokens }

    /// A request or DATA with bytes arrived, or DATA left: the connection is doing real
    /// work, which pays for a few cheap frames beside it.
    mutating func progress() {
        if allowance < Self.maximumAllowance { allowance += Self.allowancePerProgress }
    }

    /// We sent a DATA frame: progress, and credit for the WINDOW_UPDATEs that answer it.
    mutating func dataSent() {
        progress()
        if windowUpdateAllowance < Self.maximumWindowUpdateAllowance { windowUpdateAllowance += Self.windowUpdatesPerFrameSent }
    }

    /// Charges one glitch at `now` (monotonic nanoseconds).
    /// - Throws: ENHANCE_YOUR_CALM, naming what the peer did, once the budget is spent.
    mutating func charge(_ glitch: Glitch, now: UInt64) throws(HTTP2ProtocolError) {
        if glitch == .windowUpdate && windowUpdateAllowance > 0 {
            windowUpdateAllowance -= 1
            return
        }
        if glitch.isCheapFrame && allowance > 0 {
            allowance -= 1
            return
        }
        charged[glitch.rawValue] += 1
        guard bucket.take(now: now) else {
            isExhausted = true
            throw .connection(.enhanceYourCalm, exhaustedReason())
        }
    }

    /// "glitch budget of 1000 (+100/s) spent: 990 PING frames, 11 SETTINGS frames".
    private func exhaustedReason() -> String {
        var parts: [String] = []
        for glitch in Glitch.allCases where charged[glitch.rawValue] > 0 {
            parts.append("\(charged[glitch.rawValue]) \(glitch.name)")
        }
        return "glitch budget of \(budget.burst) (+\(budget.perSecond)/s) spent: " + parts.joined(separator: ", ")
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
