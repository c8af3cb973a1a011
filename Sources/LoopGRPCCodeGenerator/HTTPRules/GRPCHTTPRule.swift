/// A method's `google.api.http` option (`google.api.HttpRule`): the HTTP method and path
/// template of its REST route, the request field the body fills, the response field the
/// body holds, and more bindings to the same method.
///
/// ```swift
/// // option (google.api.http) = {
/// //   get: "/v1/greetings/{name}"
/// //   additional_bindings { post: "/v1/greetings" body: "*" }
/// // };
/// let rule = GRPCHTTPRule(
///     method: .get, path: "/v1/greetings/{name}",
///     additionalBindings: [GRPCHTTPRule(method: .post, path: "/v1/greetings", body: "*")]
/// )
/// rule.bindings.map(\.path)  // ["/v1/greetings/{name}", "/v1/greetings"]
/// ```
public struct GRPCHTTPRule: Sendable, Hashable {
    /// The method the rule applies to (`selector`), used by service configuration files and
    /// empty in a method's option, where the rule's place says which method it is.
    public var selector: String
    /// The HTTP method: the field that holds the path (`get`, `post`, ...) or `custom`'s kind.
    public var method: GRPCHTTPMethod
    /// The path template, e.g. `/v1/greetings/{name}`.
    public var path: String
    /// The request field the HTTP body fills (`body`): `*` for the whole message, a field
    /// name, or empty when the request has no body.
    public var body: String
    /// The response field written as the HTTP body (`response_body`); empty for the whole
    /// message.
    public var responseBody: String
    /// More routes to the same method (`additional_bindings`), each without bindings of its own.
    public var additionalBindings: [GRPCHTTPRule]

    /// A rule.
    public init(
        selector: String = "",
        method: GRPCHTTPMethod,
        path: String,
        body: String = "",
        responseBody: String = "",
        additionalBindings: [GRPCHTTPRule] = []
    ) {
        self.selector = selector
        self.method = method
        self.path = path
        self.body = body
        self.responseBody = responseBody
        self.additionalBindings = additionalBindings
    }

    /// The rule's routes in declaration order: the rule itself (without its additional
    /// bindings), then each additional binding.
    public var bindings: [GRPCHTTPRule] {
        var primary = self
        primary.additionalBindings = []
        return [primary] + additionalBindings
    }
}
