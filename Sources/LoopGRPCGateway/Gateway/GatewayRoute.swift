import Loop
import LoopGRPC
import LoopGRPCProtobuf
import SwiftProtobuf

/// One REST route to a gRPC method: what the route table matches (HTTP method and path
/// template), the rules of its body and response body, and its request decoder and
/// response encoder. The two are closures made for the route's message types when it is
/// built, so each request runs generic code specialised for them; messages cross the
/// route as protobuf bytes, what a `GRPCServer` handler's deserializer reads and its
/// serializer writes, whether the call is in-process or goes to a `GRPCChannel`.
///
/// ```swift
/// guard case .found(let route, let captures) = routes.match(method: .get, path: "/v1/greetings/ada") else { ... }
/// let request = try route.requestMessage(captures: captures, query: "language=FRENCH", body: nil)
/// // ... call route.method with `request`, get `reply` (protobuf bytes) ...
/// let json = try route.responseJSON(reply)
/// ```
public final class GatewayRoute: Sendable {
    public let httpMethod: GatewayHTTPMethod
    public let template: GatewayPathTemplate
    /// The gRPC method's path, `/loop.demo.v1.Greetings/SayHello`.
    public let method: String
    public let kind: GatewayMethodKind
    public let body: GatewayRequestBody
    public let responseBody: GatewayResponseBody
    /// The request and response messages' full names, `loop.demo.v1.HelloRequest`.
    public let requestType: String
    public let responseType: String

    /// The route's calls through a backend, typed (GatewayRouteCalls.swift).
    let calls: GatewayRouteCalls
    private let decode: @Sendable (GatewayPathCaptures, Substring?, ByteBuffer?) throws(GRPCStatus) -> ByteBuffer
    private let encode: @Sendable (ByteBuffer, _ asStreamChunk: Bool) throws(GRPCStatus) -> ByteBuffer

    /// A route for `method` (`/package.Service/Method`) of `kind` with the mappings of its
    /// request and response. Throws ``GatewayRouteError`` for a malformed method path, a
    /// method that streams its requests, or a GET with a body.
    public init<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ httpMethod: GatewayHTTPMethod, method: String, kind: GatewayMethodKind = .unary,
        request: GatewayRequestMapping<Request>, response: GatewayResponseMapping<Response>
    ) throws(GatewayRouteError) {
        let name = "\(httpMethod) \(request.template)"
        let parts = method.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else {
            throw GatewayRouteError("\(name): \"\(method)\" is not a gRPC method path (/package.Service/Method)")
        }
        guard kind == .unary || kind == .serverStreaming else {
            throw GatewayRouteError("\(name): \(method) is \(kind); the gateway maps unary and server-streaming methods")
        }
        guard httpMethod != .get || request.body == .none else {
            throw GatewayRouteError("\(name): a GET request has no body (body: \"\(request.body)\")")
        }
        self.httpMethod = httpMethod
        self.template = request.template
        self.method = method
        self.kind = kind
        self.body = request.body
        self.responseBody = response.body
        self.requestType = Request.protoMessageName
        self.responseType = Response.protoMessageName
        self.calls = GatewayRouteCalls(method: method, request: request, response: response)
        decode = { captures, query, body throws(GRPCStatus) in
            let message = try request.request(captures: captures, query: query, body: body)
            var buffer = ByteBuffer()
            do {
                try ProtobufSerializer<Request>().serialize(message, into: &buffer)
            } catch {
                throw GRPCStatus(.internal, "cannot serialize the request (\(Request.protoMessageName)): \(error)")
            }
            return buffer
        }
        encode = { bytes, asStreamChunk throws(GRPCStatus) in
            let message: Response
            do {
                message = try ProtobufDeserializer<Response>().deserialize(bytes)
            } catch {
                throw GRPCStatus(.internal, "the response is not a valid \(Response.protoMessageName): \(error)")
            }
            return asStreamChunk ? try response.streamChunk(message) : try response.json(message)
        }
    }

    /// The request message, serialized, for a request this route matched with `captures`,
    /// with its query string (after `?`, still encoded) and its body. Errors are
    /// INVALID_ARGUMENT (HTTP 400) naming what was wrong.
    public func requestMessage(captures: GatewayPathCaptures, query: Substring?, body: ByteBuffer?) throws(GRPCStatus) -> ByteBuffer {
        try decode(captures, query, body)
    }

    /// A unary response message (serialized) as the JSON body.
    public func responseJSON(_ message: ByteBuffer) throws(GRPCStatus) -> ByteBuffer {
        try encode(message, false)
    }

    /// One server-stream message (serialized) as its newline-delimited JSON chunk.
    public func streamChunk(_ message: ByteBuffer) throws(GRPCStatus) -> ByteBuffer {
        try encode(message, true)
    }
}
