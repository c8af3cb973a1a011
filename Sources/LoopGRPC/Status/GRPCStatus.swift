/// The outcome of a call: a code and a message, as sent in the `grpc-status` and
/// `grpc-message` trailers. Throw one from a handler to end the call with it; a client
/// call that does not end with `.ok` throws one.
///
/// ```swift
/// throw GRPCStatus(.notFound, "no user 42")
/// ```
public struct GRPCStatus: Error, Sendable, Equatable, CustomStringConvertible {
    /// The status codes of gRPC (doc/statuscodes.md).
    public enum Code: UInt8, Sendable, CaseIterable, CustomStringConvertible {
        case ok = 0
        case cancelled = 1
        case unknown = 2
        case invalidArgument = 3
        case deadlineExceeded = 4
        case notFound = 5
        case alreadyExists = 6
        case permissionDenied = 7
        case resourceExhausted = 8
        case failedPrecondition = 9
        case aborted = 10
        case outOfRange = 11
        case unimplemented = 12
        case `internal` = 13
        case unavailable = 14
        case dataLoss = 15
        case unauthenticated = 16

        public var description: String {
            switch self {
            case .ok: return "OK"
            case .cancelled: return "CANCELLED"
            case .unknown: return "UNKNOWN"
            case .invalidArgument: return "INVALID_ARGUMENT"
            case .deadlineExceeded: return "DEADLINE_EXCEEDED"
            case .notFound: return "NOT_FOUND"
            case .alreadyExists: return "ALREADY_EXISTS"
            case .permissionDenied: return "PERMISSION_DENIED"
            case .resourceExhausted: return "RESOURCE_EXHAUSTED"
            case .failedPrecondition: return "FAILED_PRECONDITION"
            case .aborted: return "ABORTED"
            case .outOfRange: return "OUT_OF_RANGE"
            case .unimplemented: return "UNIMPLEMENTED"
            case .internal: return "INTERNAL"
            case .unavailable: return "UNAVAILABLE"
            case .dataLoss: return "DATA_LOSS"
            case .unauthenticated: return "UNAUTHENTICATED"
            }
        }
    }

    public var code: Code
    public var message: String
    /// Trailing metadata that came with the status (client side), or to send with it
    /// (server side, merged into the trailers).
    public var trailingMetadata: GRPCMetadata

    public init(_ code: Code, _ message: String = "", trailingMetadata: GRPCMetadata = GRPCMetadata()) {
        self.code = code
        self.message = message
        self.trailingMetadata = trailingMetadata
    }

    public static let ok = GRPCStatus(.ok)

    public var description: String {
        message.isEmpty ? "GRPCStatus(\(code))" : "GRPCStatus(\(code)): \(message)"
    }

    public static func == (lhs: GRPCStatus, rhs: GRPCStatus) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }

    /// The code for a `grpc-status` value; unknown or malformed values are UNKNOWN, as the
    /// spec asks of clients.
    public static func code(parsing value: String) -> Code {
        var number = 0
        var digits = 0
        for byte in value.utf8 {
            guard byte >= 0x30, byte <= 0x39, digits < 3 else { return .unknown }
            number = number * 10 + Int(byte - 0x30)
            digits += 1
        }
        guard digits > 0, let code = Code(rawValue: UInt8(clamping: number)), number <= 16 else { return .unknown }
        return code
    }

    /// The status for a response that ended without `grpc-status`, from its HTTP status
    /// (gRPC's http-grpc-status-mapping.md).
    public static func mapping(httpStatus: Int) -> GRPCStatus {
        GRPCStatus(GRPCResponseHead.code(httpStatus: httpStatus), "HTTP status \(httpStatus) without grpc-status")
    }
}
