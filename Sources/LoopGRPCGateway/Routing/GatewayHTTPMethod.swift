/// An HTTP request method, as a route names it and a request carries it. Methods are
/// case-sensitive (RFC 9110 §9.1), so `"get"` is not `GET`.
///
/// google.api.http names five methods (`get`, `put`, `post`, `delete`, `patch`) and lets a
/// `custom` rule name any other; every one of them is a value of this type.
///
/// ```swift
/// let method: GatewayHTTPMethod = .get
/// let custom = GatewayHTTPMethod("PURGE")
/// ```
public struct GatewayHTTPMethod: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The method's token, such as `GET`.
    public let rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public init(stringLiteral value: String) {
        self.rawValue = value
    }

    public static let get = GatewayHTTPMethod("GET")
    public static let put = GatewayHTTPMethod("PUT")
    public static let post = GatewayHTTPMethod("POST")
    public static let delete = GatewayHTTPMethod("DELETE")
    public static let patch = GatewayHTTPMethod("PATCH")

    public var description: String { rawValue }
}
