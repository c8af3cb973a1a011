/// The four shapes of a gRPC method, from whether each side sends a stream of messages.
public enum GRPCMethodKind: Sendable, Hashable, CaseIterable {
    /// One request, one response.
    case unary
    /// A stream of requests, one response.
    case clientStreaming
    /// One request, a stream of responses.
    case serverStreaming
    /// A stream each way.
    case bidirectionalStreaming

    /// The kind for the streaming flags of a `.proto` method.
    public init(clientStreaming: Bool, serverStreaming: Bool) {
        switch (clientStreaming, serverStreaming) {
        case (false, false): self = .unary
        case (true, false): self = .clientStreaming
        case (false, true): self = .serverStreaming
        case (true, true): self = .bidirectionalStreaming
        }
    }

    /// Whether the client sends a stream of messages.
    public var isClientStreaming: Bool { self == .clientStreaming || self == .bidirectionalStreaming }

    /// Whether the server sends a stream of messages.
    public var isServerStreaming: Bool { self == .serverStreaming || self == .bidirectionalStreaming }
}
