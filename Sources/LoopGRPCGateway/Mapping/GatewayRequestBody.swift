/// What a route's request body holds (google.api.http's `body`).
///
/// ```swift
/// GatewayRequestBody(rule: "*")        // .message
/// GatewayRequestBody(rule: "options")  // .field("options")
/// GatewayRequestBody(rule: nil)        // .none
/// ```
public enum GatewayRequestBody: Sendable, Equatable, CustomStringConvertible {
    /// No body (`body` omitted): fields come from the path and the query.
    case none
    /// `body: "*"`: the whole request message as JSON, except fields the path binds; the
    /// query is not read.
    case message
    /// `body: "field"`: the JSON of that top-level field; other fields from the path and the
    /// query.
    case field(String)

    /// The rule as google.api.http writes it: nil or empty for none, `*` for the message, a
    /// field name otherwise.
    public init(rule: String?) {
        switch rule {
        case nil, "": self = .none
        case "*": self = .message
        case let name?: self = .field(name)
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .message: return "*"
        case .field(let name): return name
        }
    }
}
