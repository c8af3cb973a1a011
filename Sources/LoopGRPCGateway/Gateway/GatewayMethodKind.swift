/// How a gRPC method streams. The gateway routes unary and server-streaming methods;
/// declaring a route for a method that streams its requests is refused (a
/// ``GatewayRouteError``), so a code generator can hand every method over and let the
/// gateway say which it cannot map.
///
/// ```swift
/// try routes.add(.get, "/v1/greetings/{name}/stream", method: "/loop.demo.v1.Greetings/StreamHellos",
///                kind: .serverStreaming, request: StreamHellosRequest.self, response: HelloReply.self)
/// ```
public enum GatewayMethodKind: Sendable, Equatable, CustomStringConvertible {
    /// One request, one response: the response is the JSON body.
    case unary
    /// One request, a stream of responses: newline-delimited JSON (``GatewayStreamFraming``).
    case serverStreaming
    /// A stream of requests, one response: not routable.
    case clientStreaming
    /// Streams both ways: not routable.
    case bidirectionalStreaming

    public var description: String {
        switch self {
        case .unary: return "unary"
        case .serverStreaming: return "server streaming"
        case .clientStreaming: return "client streaming"
        case .bidirectionalStreaming: return "bidirectional streaming"
        }
    }
}
