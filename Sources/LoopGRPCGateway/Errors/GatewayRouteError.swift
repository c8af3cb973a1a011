/// A route that cannot be added: its body or response field does not exist, a captured
/// field cannot take a path segment, the method streams its requests, or another route of
/// the same method matches the same paths. Thrown when routes are declared, never per
/// request.
///
/// ```swift
/// do {
///     try routes.add(.get, "/v1/{nme}", method: "/pkg.Svc/Get", request: GetRequest.self, response: Item.self)
/// } catch let error as GatewayRouteError {
///     print(error)  // GET /v1/{nme}: no field "nme" in pkg.GetRequest
/// }
/// ```
public struct GatewayRouteError: Error, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
