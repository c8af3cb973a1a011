/// What an ``HTTP2Connection`` counts for metrics, as plain integers (no I/O, no existential
/// call per stream): streams opened and RST_STREAM frames sent and received by code. The
/// connection handler hands them to ``HTTP2Metrics`` at read-complete and at the close, and
/// clears them.
///
/// ```swift
/// var connection = HTTP2Connection(configuration: .init(role: .server))
/// connection.receive(bytes)
/// print(connection.counters.streamsOpened, connection.counters.resetsSent(.refusedStream))
/// ```
public struct HTTP2ConnectionCounters: Sendable {
    /// One slot per RFC 9113 error code, and one for codes it does not define.
    static let codeSlots = 15

    /// Streams opened (by either side) since the last report.
    public internal(set) var streamsOpened = 0
    var resetsSent = Slots()
    var resetsReceived = Slots()
    /// Something was counted since the last report.
    public internal(set) var isEmpty = true

    public init() {}

    /// RST_STREAM frames with `code` sent since the last report.
    public func resetsSent(_ code: HTTP2ErrorCode) -> Int { resetsSent[Self.slot(code)] }

    /// RST_STREAM frames with `code` received since the last report.
    public func resetsReceived(_ code: HTTP2ErrorCode) -> Int { resetsReceived[Self.slot(code)] }

    mutating func streamOpened() {
        streamsOpened += 1
        isEmpty = false
    }

    mutating func resetSent(_ code: HTTP2ErrorCode) {
        resetsSent[Self.slot(code)] += 1
        isEmpty = false
    }

    mutating func resetReceived(_ code: HTTP2ErrorCode) {
        resetsReceived[Self.slot(code)] += 1
        isEmpty = false
    }

    /// One count per code slot, in a tuple: a plain value with a fixed layout. (An
    /// `InlineArray` needs its generic metadata looked up each time the connection is copied,
    /// which the handler's hot path does: +16 instructions per request, callgrind.)
    struct Slots: Sendable {
        private var storage: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

        subscript(slot: Int) -> Int {
            get {
                precondition(slot >= 0 && slot < HTTP2ConnectionCounters.codeSlots)
                return withUnsafeBytes(of: storage) { $0.load(fromByteOffset: slot * MemoryLayout<Int>.stride, as: Int.self) }
            }
            set {
                precondition(slot >= 0 && slot < HTTP2ConnectionCounters.codeSlots)
                withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: newValue, toByteOffset: slot * MemoryLayout<Int>.stride, as: Int.self) }
            }
        }
    }

    static func slot(_ code: HTTP2ErrorCode) -> Int {
        code.rawValue < UInt32(codeSlots - 1) ? Int(code.rawValue) : codeSlots - 1
    }

    /// The `code` label of a slot: the RFC's name, or `UNKNOWN`.
    static func codeLabel(_ slot: Int) -> String {
        slot < codeSlots - 1 ? HTTP2ErrorCode(rawValue: UInt32(slot)).description : "UNKNOWN"
    }
}
