/// What a route's response body holds (google.api.http's `response_body`).
///
/// ```swift
/// GatewayResponseBody(rule: nil)        // .message
/// GatewayResponseBody(rule: "message")  // .field("message")
/// ```
public enum GatewayResponseBody: Sendable, Equatable, CustomStringConvertible {
    /// The whole response message as JSON (`response_body` omitted or `*`).
    case message
    /// The JSON of one top-level field of the response.
    case field(String)

    /// The rule as google.api.http writes it: nil, empty or `*` for the message, a field name
    /// otherwise.
    public init(rule: String?) {
        switch rule {
        case nil, "", "*": self = .message
        case let name?: self = .field(name)
        }
    }

    public var description: String {
        switch self {
        case .message: return "*"
        case .field(let name): return name
        }
    }
}
