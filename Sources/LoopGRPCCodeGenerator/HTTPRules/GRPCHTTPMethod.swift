/// The HTTP method of a `google.api.http` binding: one of the five the rule names as fields
/// (`get`, `put`, `post`, `delete`, `patch`), or the same five written as a `custom` rule's
/// `kind`. The generated route names it as LoopGRPCGateway's `GatewayHTTPMethod` does.
///
/// ```swift
/// let method = GRPCHTTPMethod(token: "POST")  // .post
/// method?.swiftCase                             // ".post"
/// ```
public enum GRPCHTTPMethod: String, Sendable, Hashable, CaseIterable {
    case get = "GET"
    case put = "PUT"
    case post = "POST"
    case delete = "DELETE"
    case patch = "PATCH"

    /// The method for an HTTP method token (case-sensitive, as RFC 9110 §9.1 says): nil for
    /// any other token, such as `HEAD` or `get`.
    public init?(token: String) {
        self.init(rawValue: token)
    }

    /// The method's token, e.g. `GET`.
    public var token: String { rawValue }

    /// The expression naming the method in generated code, e.g. `.get` for `GatewayHTTPMethod.get`.
    public var swiftCase: String { "." + rawValue.lowercased() }
}
