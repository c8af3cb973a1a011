import Foundation
import Testing
import Loop
import LoopGRPC
@testable import LoopGRPCGateway
import SwiftProtobuf

/// GatewayResponseMapping: responses as proto3 JSON (SwiftProtobuf's mapping), the whole
/// message or one field (`response_body`), and server-stream chunks.
@Suite struct GatewayResponseMappingTests {
    typealias HelloReply = Loop_Demo_V1_HelloReply
    typealias Everything = Loop_Gateway_Test_V1_Everything

    func text(_ buffer: ByteBuffer) -> String { String(decoding: buffer.readableBytesView, as: UTF8.self) }

    func json<M: SwiftProtobuf.Message>(_ message: M, field: String? = nil, options: GatewayMappingOptions = GatewayMappingOptions()) throws -> String {
        try text(GatewayResponseMapping<M>(body: GatewayResponseBody(rule: field), options: options).json(message))
    }

    let reply = HelloReply.with { $0.message = "Hello, ada"; $0.sequence = 2; $0.tags = ["a"]; $0.language = .french }

    /// proto3 JSON: lowerCamelCase names, int64 as a string, enums by name, fields in number
    /// order, nothing but the JSON (no spaces).
    @Test func proto3JSONWholeMessage() throws {
        #expect(try json(reply) == #"{"message":"Hello, ada","sequence":"2","tags":["a"],"language":"FRENCH"}"#)
        #expect(try json(Everything.with { $0.displayName = "d"; $0.colorByID = [1: .red]; $0.farAway = 1 }) ==
            #"{"colorById":{"1":"RED"},"label":"d","farAway":1}"#)
    }

    /// proto3 JSON: "If a field has the default value in the protocol buffer, it will be
    /// omitted in the JSON-encoded data by default" (grpc-gateway 1.6's EmitDefaults is
    /// false too).
    @Test func proto3JSONOmitsDefaults() throws {
        #expect(try json(HelloReply()) == "{}")
        #expect(try json(HelloReply.with { $0.sequence = 0; $0.message = "" }) == "{}")
    }

    /// The encoding options pass through: proto names (grpc-gateway 1.6's OrigName), int64 as
    /// numbers, enums as numbers.
    @Test func encodingOptions() throws {
        var options = GatewayMappingOptions()
        options.jsonEncoding.preserveProtoFieldNames = true
        options.jsonEncoding.alwaysPrintInt64sAsNumbers = true
        options.jsonEncoding.alwaysPrintEnumsAsInts = true
        #expect(try json(reply, options: options) == #"{"message":"Hello, ada","sequence":2,"tags":["a"],"language":2}"#)
        #expect(try json(Everything.with { $0.displayName = "d" }, options: options) == #"{"display_name":"d"}"#)
    }

    /// proto3 JSON's well-known types: Timestamp as RFC 3339, Duration in seconds, wrappers as
    /// their value, FieldMask as lowerCamelCase paths.
    @Test func proto3JSONWellKnownTypes() throws {
        let message = Everything.with {
            $0.when = Google_Protobuf_Timestamp(seconds: 1_714_564_800, nanos: 500_000_000)
            $0.timeout = Google_Protobuf_Duration(seconds: 1, nanos: 500_000_000)
            $0.count = Google_Protobuf_Int64Value(42)
            $0.flag = Google_Protobuf_BoolValue(false)
            $0.mask = Google_Protobuf_FieldMask(protoPaths: ["display_name"])
        }
        #expect(try json(message) ==
            #"{"when":"2024-05-01T12:00:00.500Z","timeout":"1.500s","count":"42","flag":false,"mask":"displayName"}"#)
        #expect(try json(Google_Protobuf_Timestamp(seconds: 1)) == #""1970-01-01T00:00:01Z""#)
    }

    /// `response_body: "field"`: "the name of the response field whose value is mapped to
    /// the HTTP response body", its JSON alone.
    @Test func httpRuleResponseBodyField() throws {
        #expect(try json(reply, field: "message") == #""Hello, ada""#)
        #expect(try json(reply, field: "sequence") == #""2""#)
        #expect(try json(reply, field: "tags") == #"["a"]"#)
        #expect(try json(reply, field: "language") == #""FRENCH""#)
        #expect(try json(Everything.with { $0.scalars.fBool = true }, field: "scalars") == #"{"fBool":true}"#)
        #expect(try json(Everything.with { $0.displayName = "d" }, field: "display_name") == #""d""#)
        var options = GatewayMappingOptions()
        options.jsonEncoding.preserveProtoFieldNames = true
        #expect(try json(Everything.with { $0.displayName = "d" }, field: "label", options: options) == #""d""#)
    }

    /// A response field left at its default is still a value: proto3 JSON's default for its
    /// type, never an empty body.
    @Test func responseBodyFieldAtItsDefault() throws {
        let empty = HelloReply()
        #expect(try json(empty, field: "message") == #""""#)
        #expect(try json(empty, field: "sequence") == #""0""#)
        #expect(try json(empty, field: "tags") == "[]")
        #expect(try json(empty, field: "language") == #""LANGUAGE_UNSPECIFIED""#)
        let nothing = Everything()
        #expect(try json(nothing, field: "scalars") == "{}")
        #expect(try json(nothing, field: "labels") == "{}")
        #expect(try json(nothing, field: "when") == #""1970-01-01T00:00:00Z""#)
        #expect(try json(nothing, field: "count") == #""0""#)
        #expect(try json(nothing, field: "far_away") == "0")
        #expect(try json(Loop_Gateway_Test_V1_Scalars(), field: "f_bool") == "false")
        #expect(try json(Loop_Gateway_Test_V1_Scalars(), field: "f_bytes") == #""""#)
        var options = GatewayMappingOptions()
        options.jsonEncoding.alwaysPrintEnumsAsInts = true
        options.jsonEncoding.alwaysPrintInt64sAsNumbers = true
        #expect(try json(empty, field: "language", options: options) == "0")
        #expect(try json(empty, field: "sequence", options: options) == "0")
    }

    /// The response field is checked when the route is declared.
    @Test func unknownResponseFieldIsRefused() {
        #expect(throws: GatewayRouteError("response_body \"nope\": no top-level field \"nope\" in loop.demo.v1.HelloReply")) {
            try GatewayResponseMapping<HelloReply>(body: .field("nope"))
        }
    }

    /// A server stream's message: `{"result":...}` and a newline (grpc-gateway 1.6's
    /// streamChunk and JSONPb delimiter), the response field alone when there is one.
    @Test func streamChunks() throws {
        let whole = try GatewayResponseMapping<HelloReply>()
        #expect(text(try whole.streamChunk(reply)) == #"{"result":{"message":"Hello, ada","sequence":"2","tags":["a"],"language":"FRENCH"}}"# + "\n")
        #expect(text(try whole.streamChunk(HelloReply())) == "{\"result\":{}}\n")
        let field = try GatewayResponseMapping<HelloReply>(body: .field("message"))
        #expect(text(try field.streamChunk(reply)) == "{\"result\":\"Hello, ada\"}\n")
        #expect(GatewayResponseMapping<HelloReply>.contentType == "application/json")
    }

    /// A message SwiftProtobuf cannot write as JSON (an Any of an unregistered type) is an
    /// INTERNAL error, not a broken body.
    @Test func unwritableResponseIsInternal() throws {
        var any = Google_Protobuf_Any()
        any.typeURL = "type.googleapis.com/nowhere.Unknown"
        any.value = Data([0x08, 0x01])
        let mapping = try GatewayResponseMapping<Google_Protobuf_Any>()
        #expect(throws: GRPCStatus.self) { try mapping.json(any) }
        do {
            _ = try mapping.json(any)
        } catch {
            #expect(error.code == .internal)
            #expect(error.message.hasPrefix("cannot write the response (google.protobuf.Any) as JSON: "))
        }
    }
}
