import Testing
import Loop
import LoopGRPC
@testable import LoopGRPCGateway
import SwiftProtobuf

/// GatewayRequestMapping: google.api.http's "Rules for HTTP mapping": the body, then the
/// path's captures, then the query's parameters for the fields neither binds.
@Suite struct GatewayRequestMappingTests {
    typealias HelloRequest = Loop_Demo_V1_HelloRequest
    typealias Everything = Loop_Gateway_Test_V1_Everything

    func request<M: SwiftProtobuf.Message>(
        _ type: M.Type = HelloRequest.self, _ template: String, rule: GatewayRequestBody = .none,
        path: String, query: String? = nil, body: String? = nil, options: GatewayMappingOptions = GatewayMappingOptions()
    ) throws -> M {
        let template = try GatewayPathTemplate(template)
        let mapping = try GatewayRequestMapping<M>(template: template, body: rule, options: options)
        let captures = try #require(template.match(path))
        return try mapping.request(captures: captures, query: query?[...], body: body.map { ByteBuffer(string: $0) })
    }

    func routeError<M: SwiftProtobuf.Message>(_ type: M.Type, _ template: String, body: GatewayRequestBody = .none) -> GatewayRouteError? {
        do {
            _ = try GatewayRequestMapping<M>(template: GatewayPathTemplate(template), body: body)
            return nil
        } catch let error as GatewayRouteError {
            return error
        } catch {
            return GatewayRouteError("\(error)")
        }
    }

    /// Rule 3: "URL query parameters found in the HTTP request are mapped to (c) fields",
    /// the issue's GET example.
    @Test func httpRuleQueryParametersFillTheOtherFields() throws {
        let request = try request(HelloRequest.self, "/v1/greetings/{name}", path: "/v1/greetings/ada%20l",
                                  query: "language=FRENCH&tags=a&tags=b&options.shout=true&options.repeat=2")
        #expect(request == .with {
            $0.name = "ada l"
            $0.language = .french
            $0.tags = ["a", "b"]
            $0.options = .with { $0.shout = true; $0.repeat = 2 }
        })
    }

    /// Fields the path binds are (a) fields: a query parameter for one is skipped.
    @Test func httpRulePathBoundFieldIgnoredInQuery() throws {
        let request = try request(HelloRequest.self, "/v1/greetings/{name}", path: "/v1/greetings/ada", query: "name=eve&tags=x")
        #expect(request == .with { $0.name = "ada"; $0.tags = ["x"] })
    }

    /// Unknown query parameters are ignored, as grpc-gateway does; or refused when asked.
    @Test func unknownQueryParametersIgnoredOrRefused() throws {
        let ignored = try request(HelloRequest.self, "/v1/greetings/{name}", path: "/v1/greetings/ada", query: "_=1700000000&tags=x")
        #expect(ignored == .with { $0.name = "ada"; $0.tags = ["x"] })
        var options = GatewayMappingOptions()
        options.unknownQueryParameters = .reject
        #expect(throws: GRPCStatus(.invalidArgument, "unknown field _: no field \"_\" in loop.demo.v1.HelloRequest")) {
            try request(HelloRequest.self, "/v1/greetings/{name}", path: "/v1/greetings/ada", query: "_=1", options: options)
        }
    }

    /// A query parameter naming a field it cannot set, or a bad value, is a 400 whatever the
    /// option.
    @Test func badQueryValuesAreInvalidArgument() throws {
        #expect(throws: GRPCStatus(.invalidArgument, "invalid value \"x\" for field options.repeat (int64)")) {
            try request(HelloRequest.self, "/v1/greetings/{name}", path: "/v1/greetings/ada", query: "options.repeat=x")
        }
        #expect(throws: GRPCStatus(.invalidArgument,
                                   "field options is a message (loop.demo.v1.HelloOptions): set its fields, as options.<field>")) {
            try request(HelloRequest.self, "/v1/greetings/{name}", path: "/v1/greetings/ada", query: "options=x")
        }
        #expect(throws: GRPCStatus(.invalidArgument, "field language takes one value, got 2")) {
            try request(HelloRequest.self, "/v1/greetings/{name}", path: "/v1/greetings/ada", query: "language=FRENCH&language=GERMAN")
        }
    }

    /// Map entries in a query: `labels[key]=value`.
    @Test func mapEntriesInTheQuery() throws {
        let message = try request(Everything.self, "/v1/things", path: "/v1/things", query: "labels%5Ba%5D=1&labels[b]=2&colorById[7]=GREEN")
        #expect(message.labels == ["a": "1", "b": "2"])
        #expect(message.colorByID == [7: .green])
    }

    /// A path variable may name a nested field of any scalar type; its text is parsed by the
    /// field's type.
    @Test func pathVariablesOfAnyScalarType() throws {
        let message = try request(Everything.self, "/v1/things/{scalars.f_int64}/{scalars.f_color}", path: "/v1/things/-9/RED")
        #expect(message.scalars == .with { $0.fInt64 = -9; $0.fColor = .red })
        #expect(throws: GRPCStatus(.invalidArgument, "invalid value \"x\" for field scalars.f_int64 (int64)")) {
            try request(Everything.self, "/v1/things/{scalars.f_int64}/{scalars.f_color}", path: "/v1/things/x/RED")
        }
    }

    /// Rule 1, `body: "*"`: the whole message from proto3 JSON (lowerCamelCase or proto
    /// names, int64 as strings, enums by name); the path's captures go over it; the query
    /// is not read (rule 4: with `*` every other field is a (b) field).
    @Test func httpRuleBodyStarIsTheWholeMessage() throws {
        let body = #"{"name":"ignored","language":"GERMAN","tags":["x"],"options":{"shout":true,"repeat":"3"}}"#
        let message = try request(HelloRequest.self, "/v1/greetings/{name}", rule: .message, path: "/v1/greetings/ada",
                                  query: "tags=y&language=FRENCH", body: body)
        #expect(message == .with {
            $0.name = "ada"
            $0.language = .german
            $0.tags = ["x"]
            $0.options = .with { $0.shout = true; $0.repeat = 3 }
        })
        let snake = try request(Everything.self, "/v1/things", rule: .message, path: "/v1/things",
                                body: #"{"display_name":"d","color_by_id":{"1":"RED"},"when":"1970-01-01T00:00:01Z"}"#)
        #expect(snake == .with { $0.displayName = "d"; $0.colorByID = [1: .red]; $0.when = .init(seconds: 1) })
    }

    /// An empty body is an empty message (grpc-gateway treats io.EOF so).
    @Test func emptyBodyIsEmptyMessage() throws {
        #expect(try request(HelloRequest.self, "/v1/greetings", rule: .message, path: "/v1/greetings", body: "") == HelloRequest())
        #expect(try request(HelloRequest.self, "/v1/greetings", rule: .message, path: "/v1/greetings", body: " \n") == HelloRequest())
        #expect(try request(HelloRequest.self, "/v1/greetings/{name}", rule: .field("options"), path: "/v1/greetings/a", body: "") ==
            .with { $0.name = "a" })
    }

    /// "bad JSON or an unknown field → 400 with the parser's message".
    @Test func badJSONBodiesAreInvalidArgument() throws {
        #expect(throws: GRPCStatus(.invalidArgument, "invalid JSON body: unknown field \"nope\"")) {
            try request(HelloRequest.self, "/v1/greetings", rule: .message, path: "/v1/greetings", body: #"{"nope":1}"#)
        }
        #expect(throws: GRPCStatus(.invalidArgument, "invalid JSON body: truncated JSON")) {
            try request(HelloRequest.self, "/v1/greetings", rule: .message, path: "/v1/greetings", body: #"{"name":"#)
        }
        #expect(throws: GRPCStatus(.invalidArgument, "invalid JSON body: unknown enum value")) {
            try request(HelloRequest.self, "/v1/greetings", rule: .message, path: "/v1/greetings", body: #"{"language":"KLINGON"}"#)
        }
        #expect(throws: GRPCStatus(.invalidArgument, "invalid JSON body: malformed number")) {
            try request(HelloRequest.self, "/v1/greetings", rule: .message, path: "/v1/greetings", body: #"{"options":{"repeat":"x"}}"#)
        }
        var options = GatewayMappingOptions()
        options.jsonDecoding.ignoreUnknownFields = true
        #expect(try request(HelloRequest.self, "/v1/greetings", rule: .message, path: "/v1/greetings", body: #"{"nope":1,"name":"a"}"#,
                            options: options) == .with { $0.name = "a" })
    }

    /// Rule 1, `body: "field"`: the body is that field's JSON; other fields come from the
    /// path and the query, and query parameters under the body field are skipped.
    @Test func httpRuleBodyFieldIsThatFieldsJSON() throws {
        let message = try request(HelloRequest.self, "/v1/greetings/{name}", rule: .field("options"), path: "/v1/greetings/ada",
                                  query: "tags=q&options.repeat=9", body: #" {"shout":true,"repeat":"2"} "#)
        #expect(message == .with { $0.name = "ada"; $0.tags = ["q"]; $0.options = .with { $0.shout = true; $0.repeat = 2 } })
        let tags = try request(HelloRequest.self, "/v1/greetings/{name}", rule: .field("tags"), path: "/v1/greetings/ada", body: #"["a","b"]"#)
        #expect(tags == .with { $0.name = "ada"; $0.tags = ["a", "b"] })
        let scalar = try request(HelloRequest.self, "/v1/greetings", rule: .field("language"), path: "/v1/greetings", body: #""FRENCH""#)
        #expect(scalar == .with { $0.language = .french })
    }

    /// A body bound to one field is one JSON value: it cannot set the message's other fields
    /// by closing the wrapper object early.
    @Test func bodyFieldCannotReachSiblingFields() throws {
        #expect(throws: GRPCStatus(.invalidArgument, "invalid JSON body for field options: not a single JSON value")) {
            try request(HelloRequest.self, "/v1/greetings", rule: .field("options"), path: "/v1/greetings", body: #"{"shout":true}, "name":"evil""#)
        }
        #expect(throws: GRPCStatus(.invalidArgument, "invalid JSON body for field options: not a single JSON value")) {
            try request(HelloRequest.self, "/v1/greetings", rule: .field("options"), path: "/v1/greetings", body: #"{"shout":true}}"#)
        }
        #expect(throws: GRPCStatus(.invalidArgument, "invalid JSON body for field options: malformed JSON")) {
            try request(HelloRequest.self, "/v1/greetings", rule: .field("options"), path: "/v1/greetings", body: "true")
        }
    }

    /// Without a body rule, a request's body is not read.
    @Test func noBodyRuleIgnoresTheBody() throws {
        #expect(try request(HelloRequest.self, "/v1/greetings/{name}", path: "/v1/greetings/a", body: #"{"tags":["x"]}"#) ==
            .with { $0.name = "a" })
    }

    /// "Fields mapped to the path pattern cannot be repeated and must have a primitive
    /// (non-message) type", the body field is "present at the top-level": checked when the
    /// route is declared.
    @Test func httpRuleBindingsCheckedWhenDeclared() {
        #expect(routeError(HelloRequest.self, "/v1/{nme}") ==
            GatewayRouteError("path variable {nme}: unknown field nme: no field \"nme\" in loop.demo.v1.HelloRequest"))
        #expect(routeError(HelloRequest.self, "/v1/{tags}") ==
            GatewayRouteError("path variable {tags}: the field is repeated string; a path binds a singular field"))
        #expect(routeError(HelloRequest.self, "/v1/{options}") == GatewayRouteError(
            "path variable {options}: field options is a message (loop.demo.v1.HelloOptions): set its fields, as options.<field>"))
        #expect(routeError(HelloRequest.self, "/v1/x", body: .field("nope")) ==
            GatewayRouteError("body \"nope\": no top-level field \"nope\" in loop.demo.v1.HelloRequest"))
        #expect(routeError(HelloRequest.self, "/v1/x", body: .field("options.shout")) ==
            GatewayRouteError("body \"options.shout\": no top-level field \"options.shout\" in loop.demo.v1.HelloRequest"))
        #expect(routeError(HelloRequest.self, "/v1/{options.repeat}", body: .field("options")) == nil)
        #expect(routeError(Everything.self, "/v1/{when}/{count}") == nil)
    }

    /// GatewayRequestBody and GatewayResponseBody read google.api.http's rule strings.
    @Test func bodyRulesFromStrings() {
        #expect(GatewayRequestBody(rule: nil) == .none)
        #expect(GatewayRequestBody(rule: "") == .none)
        #expect(GatewayRequestBody(rule: "*") == .message)
        #expect(GatewayRequestBody(rule: "options") == .field("options"))
        #expect(GatewayResponseBody(rule: nil) == .message)
        #expect(GatewayResponseBody(rule: "*") == .message)
        #expect(GatewayResponseBody(rule: "message") == .field("message"))
    }
}
