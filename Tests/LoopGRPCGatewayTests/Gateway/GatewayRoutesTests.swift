import Testing
import Loop
import LoopGRPC
import LoopGRPCProtobuf
@testable import LoopGRPCGateway
import SwiftProtobuf

/// GatewayRoutes and GatewayRoute: the GatewayDemo's google.api.http rules declared in
/// Swift, each request from match to request bytes and from response bytes to JSON.
@Suite struct GatewayRoutesTests {
    typealias HelloRequest = Loop_Demo_V1_HelloRequest
    typealias HelloReply = Loop_Demo_V1_HelloReply
    typealias StreamHellosRequest = Loop_Demo_V1_StreamHellosRequest

    static let sayHello = "/loop.demo.v1.Greetings/SayHello"
    static let streamHellos = "/loop.demo.v1.Greetings/StreamHellos"

    /// greetings.proto's rules: `get: "/v1/greetings/{name}"` with `additional_bindings {
    /// post: "/v1/greetings" body: "*" }`, and `get: "/v1/greetings/{name}/stream"`.
    static func demoRoutes() throws -> GatewayRoutes {
        var routes = GatewayRoutes()
        try routes.add(.get, "/v1/greetings/{name}", method: sayHello, request: HelloRequest.self, response: HelloReply.self)
        try routes.add(.post, "/v1/greetings", body: "*", method: sayHello, request: HelloRequest.self, response: HelloReply.self)
        try routes.add(.get, "/v1/greetings/{name}/stream", method: streamHellos, kind: .serverStreaming,
                       request: StreamHellosRequest.self, response: HelloReply.self)
        return routes
    }

    func text(_ buffer: ByteBuffer) -> String { String(decoding: buffer.readableBytesView, as: UTF8.self) }

    func bytes(_ message: some SwiftProtobuf.Message) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try ProtobufSerializer().serialize(message, into: &buffer)
        return buffer
    }

    func found(_ routes: GatewayRoutes, _ method: GatewayHTTPMethod, _ path: String) throws -> (GatewayRoute, GatewayPathCaptures) {
        guard case .found(let route, let captures) = routes.match(method: method, path: path) else {
            Issue.record("no route for \(method) \(path)")
            throw GRPCStatus(.notFound)
        }
        return (route, captures)
    }

    func routeError(_ add: (inout GatewayRoutes) throws -> Void) -> GatewayRouteError? {
        var routes = GatewayRoutes()
        do {
            try add(&routes)
            return nil
        } catch let error as GatewayRouteError {
            return error
        } catch {
            return GatewayRouteError("unexpected \(error)")
        }
    }

    /// GET with a path capture and a query: the request's protobuf bytes; the reply's bytes
    /// as the JSON body.
    @Test func getWithCaptureAndQuery() throws {
        let routes = try Self.demoRoutes()
        let (route, captures) = try found(routes, .get, "/v1/greetings/ada")
        #expect(route.method == Self.sayHello)
        #expect(route.kind == .unary)
        #expect(route.requestType == "loop.demo.v1.HelloRequest")
        #expect(route.responseType == "loop.demo.v1.HelloReply")
        let request = try route.requestMessage(captures: captures, query: "language=FRENCH&tags=a&tags=b&options.shout=true", body: nil)
        #expect(try ProtobufDeserializer<HelloRequest>().deserialize(request) == .with {
            $0.name = "ada"
            $0.language = .french
            $0.tags = ["a", "b"]
            $0.options.shout = true
        })
        let reply = try bytes(HelloReply.with { $0.message = "BONJOUR, ADA"; $0.sequence = 1; $0.language = .french })
        #expect(text(try route.responseJSON(reply)) == #"{"message":"BONJOUR, ADA","sequence":"1","language":"FRENCH"}"#)
    }

    /// POST with a JSON body (`body: "*"`).
    @Test func postWithJSONBody() throws {
        let routes = try Self.demoRoutes()
        let (route, captures) = try found(routes, .post, "/v1/greetings")
        #expect(route.body == .message)
        let request = try route.requestMessage(captures: captures, query: nil,
                                               body: ByteBuffer(string: #"{"name":"ada","options":{"repeat":"2"}}"#))
        #expect(try ProtobufDeserializer<HelloRequest>().deserialize(request) == .with { $0.name = "ada"; $0.options.repeat = 2 })
        #expect(throws: GRPCStatus(.invalidArgument, "invalid JSON body: unknown field \"nme\"")) {
            try route.requestMessage(captures: captures, query: nil, body: ByteBuffer(string: #"{"nme":"ada"}"#))
        }
    }

    /// The streaming route: each reply as `{"result":...}` and a newline.
    @Test func serverStreamingRoute() throws {
        let routes = try Self.demoRoutes()
        let (route, captures) = try found(routes, .get, "/v1/greetings/ada/stream")
        #expect(route.kind == .serverStreaming)
        let request = try route.requestMessage(captures: captures, query: "count=3&intervalMs=10", body: nil)
        #expect(try ProtobufDeserializer<StreamHellosRequest>().deserialize(request) == .with {
            $0.name = "ada"
            $0.count = 3
            $0.intervalMs = 10
        })
        let chunk = try route.streamChunk(bytes(HelloReply.with { $0.message = "Hello, ada"; $0.sequence = 2 }))
        #expect(text(chunk) == "{\"result\":{\"message\":\"Hello, ada\",\"sequence\":\"2\"}}\n")
    }

    /// 405 with the methods the path has, 404 for a path no route has.
    @Test func missesSayWhy() throws {
        let routes = try Self.demoRoutes()
        guard case .methodNotAllowed(let allowed) = routes.match(method: .delete, path: "/v1/greetings/ada") else {
            Issue.record("DELETE should be 405")
            return
        }
        #expect(allowed == [.get])
        guard case .methodNotAllowed(let post) = routes.match(method: .get, path: "/v1/greetings") else {
            Issue.record("GET /v1/greetings should be 405")
            return
        }
        #expect(post == [.post])
        guard case .notFound = routes.match(method: .get, path: "/v2/greetings/ada") else {
            Issue.record("/v2 should be 404")
            return
        }
        #expect(routes.routes.map { "\($0.httpMethod) \($0.template)" } ==
            ["GET /v1/greetings/{name}", "GET /v1/greetings/{name}/stream", "POST /v1/greetings"])
    }

    /// A reply that is not the response type's protobuf is an INTERNAL error.
    @Test func malformedReplyIsInternal() throws {
        let (route, _) = try found(try Self.demoRoutes(), .get, "/v1/greetings/ada")
        do {
            _ = try route.responseJSON(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF]))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .internal)
            #expect(error.message.hasPrefix("the response is not a valid loop.demo.v1.HelloReply: "))
        }
    }

    /// Each declaration error names the route and what is wrong, when the route is added.
    @Test func declarationErrorsNameTheRoute() {
        #expect(routeError { try $0.add(.get, "/v1/{name", method: Self.sayHello, request: HelloRequest.self, response: HelloReply.self) } ==
            GatewayRouteError("GET /v1/{name: invalid path template \"/v1/{name\" at offset 9: expected \"}\" to end the variable name"))
        #expect(routeError { try $0.add(.get, "/v1/{nme}", method: Self.sayHello, request: HelloRequest.self, response: HelloReply.self) } ==
            GatewayRouteError("GET /v1/{nme}: path variable {nme}: unknown field nme: no field \"nme\" in loop.demo.v1.HelloRequest"))
        #expect(routeError { try $0.add(.get, "/v1/x", body: "*", method: Self.sayHello, request: HelloRequest.self, response: HelloReply.self) } ==
            GatewayRouteError("GET /v1/x: a GET request has no body (body: \"*\")"))
        #expect(routeError { try $0.add(.post, "/v1/x", responseBody: "nope", method: Self.sayHello, request: HelloRequest.self,
                                        response: HelloReply.self) } ==
            GatewayRouteError("POST /v1/x: response_body \"nope\": no top-level field \"nope\" in loop.demo.v1.HelloReply"))
        #expect(routeError { try $0.add(.post, "/v1/x", method: "SayHello", request: HelloRequest.self, response: HelloReply.self) } ==
            GatewayRouteError("POST /v1/x: \"SayHello\" is not a gRPC method path (/package.Service/Method)"))
        #expect(routeError { try $0.add(.post, "/v1/x", body: "*", method: "/loop.demo.v1.Greetings/Upload", kind: .clientStreaming,
                                        request: HelloRequest.self, response: HelloReply.self) } ==
            GatewayRouteError("POST /v1/x: /loop.demo.v1.Greetings/Upload is client streaming; the gateway maps unary and server-streaming methods"))
        #expect(routeError { try $0.add(.post, "/v1/x", method: "/a.B/C", kind: .bidirectionalStreaming,
                                        request: HelloRequest.self, response: HelloReply.self) } ==
            GatewayRouteError("POST /v1/x: /a.B/C is bidirectional streaming; the gateway maps unary and server-streaming methods"))
    }

    /// Two routes of one method that match the same paths are refused, naming both.
    @Test func sameShapeIsRefused() {
        #expect(routeError {
            try $0.add(.get, "/v1/greetings/{name}", method: Self.sayHello, request: HelloRequest.self, response: HelloReply.self)
            try $0.add(.get, "/v1/greetings/*", method: Self.sayHello, request: HelloRequest.self, response: HelloReply.self)
        } == GatewayRouteError("GET /v1/greetings/* conflicts with GET /v1/greetings/{name}: both match the same paths"))
    }

    /// A DELETE may have a body (grpc-gateway 1.6 needed allow_delete_body; later versions
    /// allow it); a response field maps as `response_body`.
    @Test func deleteWithBodyAndResponseField() throws {
        var routes = GatewayRoutes()
        try routes.add(.delete, "/v1/greetings/{name}", body: "options", responseBody: "message", method: Self.sayHello,
                       request: HelloRequest.self, response: HelloReply.self)
        let (route, captures) = try found(routes, .delete, "/v1/greetings/ada")
        #expect(route.body == .field("options"))
        #expect(route.responseBody == .field("message"))
        let request = try route.requestMessage(captures: captures, query: nil, body: ByteBuffer(string: #"{"shout":true}"#))
        #expect(try ProtobufDeserializer<HelloRequest>().deserialize(request) == .with { $0.name = "ada"; $0.options.shout = true })
        #expect(text(try route.responseJSON(bytes(HelloReply.with { $0.message = "bye" }))) == #""bye""#)
    }

    /// Options given to the routes apply to every route (here: proto field names in JSON).
    @Test func optionsApplyToRoutes() throws {
        var options = GatewayMappingOptions()
        options.jsonEncoding.preserveProtoFieldNames = true
        var routes = GatewayRoutes(options: options)
        try routes.add(.get, "/v1/things/{display_name}", method: "/t.T/Get", request: Loop_Gateway_Test_V1_Everything.self,
                       response: Loop_Gateway_Test_V1_Everything.self)
        let (route, captures) = try found(routes, .get, "/v1/things/x")
        let request = try route.requestMessage(captures: captures, query: "far_away=2", body: nil)
        #expect(text(try route.responseJSON(request)) == #"{"display_name":"x","far_away":2}"#)
    }
}
