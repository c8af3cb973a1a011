/// A message encoding gRPC negotiates with `grpc-encoding` / `grpc-accept-encoding`.
public enum GRPCCompression: String, Sendable, CaseIterable {
    case identity
    case gzip
    case deflate

    /// The `grpc-accept-encoding` value listing every encoding Loop supports.
    public static let acceptEncodingHeader = "identity,deflate,gzip"

    /// The algorithm for a `grpc-encoding` value; nil if unsupported.
    public init?(headerValue: String) {
        switch headerValue {
        case "identity": self = .identity
        case "gzip": self = .gzip
        case "deflate": self = .deflate
        default: return nil
        }
    }

    /// Whether a `grpc-accept-encoding` list names this encoding.
    func isAccepted(by acceptEncoding: String?) -> Bool {
        if self == .identity { return true }
        guard let acceptEncoding else { return false }
        for part in acceptEncoding.utf8.split(separator: UInt8(ascii: ",")) {
            let name = part.drop { $0 == 0x20 }.prefix { $0 != 0x20 }
            if name.elementsEqual(rawValue.utf8) { return true }
        }
        return false
    }
}
