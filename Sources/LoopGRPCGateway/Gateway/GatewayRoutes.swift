import Loop
import SwiftProtobuf

/// The REST routes of a gateway, declared in Swift the way google.api.http declares them in
/// a .proto file (protoc-gen-loop-grpc writes them from those options as `<Service>Gateway`), and
/// the lookup for each request.
///
/// ```swift
/// var routes = GatewayRoutes()
/// try routes.add(.get, "/v1/greetings/{name}", method: "/loop.demo.v1.Greetings/SayHello",
///                request: Loop_Demo_V1_HelloRequest.self, response: Loop_Demo_V1_HelloReply.self)
/// try routes.add(.post, "/v1/greetings", body: "*", method: "/loop.demo.v1.Greetings/SayHello",
///                request: Loop_Demo_V1_HelloRequest.self, response: Loop_Demo_V1_HelloReply.self)
/// try routes.add(.get, "/v1/greetings/{name}/stream", method: "/loop.demo.v1.Greetings/StreamHellos",
///                kind: .serverStreaming,
///                request: Loop_Demo_V1_StreamHellosRequest.self, response: Loop_Demo_V1_HelloReply.self)
///
/// switch routes.match(method: .get, path: "/v1/greetings/ada") {
/// case .found(let route, let captures): ...                      // route.requestMessage(...)
/// case .methodNotAllowed(let allowed): ...                       // 405, Allow: allowed
/// case .notFound: ...                                            // 404
/// }
/// ```
///
/// Everything about a route is checked when it is added (``GatewayRouteError``): the
/// template's grammar, that its variables and body field exist in the request message,
/// that the response field exists, that no route of the same method matches the same
/// paths. Which route wins where templates overlap is ``GatewayRouteTable``'s rule.
public struct GatewayRoutes: Sendable {
    public let options: GatewayMappingOptions
    public private(set) var table = GatewayRouteTable<GatewayRoute>()
    /// The message types learnt so far, shared by the routes' mappings.
    private var schemas = GatewaySchemas()

    public init(options: GatewayMappingOptions = GatewayMappingOptions()) {
        self.options = options
    }

    /// Every route, method by method.
    public var routes: [GatewayRoute] { table.entries.map(\.route) }

    /// Adds a route to the gRPC method `method` (`/package.Service/Method`): `httpMethod` and
    /// `template` as google.api.http's `get: "/v1/..."`, `body` and `responseBody` as its
    /// `body` and `response_body` (nil for none and for the whole message).
    public mutating func add<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ httpMethod: GatewayHTTPMethod, _ template: String, body: String? = nil, responseBody: String? = nil,
        method: String, kind: GatewayMethodKind = .unary, request: Request.Type, response: Response.Type
    ) throws(GatewayRouteError) {
        let name = "\(httpMethod) \(template)"
        let parsed: GatewayPathTemplate
        do {
            parsed = try GatewayPathTemplate(template)
        } catch {
            throw GatewayRouteError("\(name): \(error)")
        }
        let route: GatewayRoute
        do {
            let fields = try GatewayMessageFields<Request>(learningInto: &schemas)
            let requestMapping = try GatewayRequestMapping(template: parsed, body: GatewayRequestBody(rule: body), options: options,
                                                           fields: fields)
            let responseMapping = try GatewayResponseMapping<Response>(body: GatewayResponseBody(rule: responseBody), options: options)
            route = try GatewayRoute(httpMethod, method: method, kind: kind, request: requestMapping, response: responseMapping)
        } catch where error.description.hasPrefix(name) {
            throw error
        } catch {
            throw GatewayRouteError("\(name): \(error)")
        }
        try add(route)
    }

    /// Adds a route built by hand.
    public mutating func add(_ route: GatewayRoute) throws(GatewayRouteError) {
        try table.add(route.httpMethod, route.template, route)
    }

    /// The route for `method` and `path` (the request target's path without the query,
    /// still percent-encoded).
    public func match(method: GatewayHTTPMethod, path: Substring) -> GatewayRouteTable<GatewayRoute>.Match {
        table.match(method: method, path: path)
    }

    /// The route for `method` and `path`.
    public func match(method: GatewayHTTPMethod, path: String) -> GatewayRouteTable<GatewayRoute>.Match {
        table.match(method: method, path: path[...])
    }
}
