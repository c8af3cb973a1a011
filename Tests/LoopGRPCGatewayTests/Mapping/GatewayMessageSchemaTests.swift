import Testing
@testable import LoopGRPCGateway
import SwiftProtobuf

/// GatewayMessageSchema: each field's number, proto name, JSON name and type, learnt from
/// generated code through SwiftProtobuf's public API only.
@Suite struct GatewayMessageSchemaTests {
    typealias Everything = Loop_Gateway_Test_V1_Everything

    func schema<M: SwiftProtobuf.Message>(_ type: M.Type) throws -> GatewayMessageSchema {
        try GatewayMessageSchema.learn(type)
    }

    /// Every field of the demo request, by number, with proto3 JSON's lowerCamelCase names.
    @Test func demoRequestFields() throws {
        let schema = try schema(Loop_Demo_V1_HelloRequest.self)
        #expect(schema.messageName == "loop.demo.v1.HelloRequest")
        #expect(schema.fields.map(\.number) == [1, 2, 3, 4])
        #expect(schema.fields.map(\.protoName) == ["name", "language", "tags", "options"])
        #expect(schema.fields.map(\.typeDescription) == ["string", "enum", "repeated string", "loop.demo.v1.HelloOptions"])
    }

    /// Every scalar type is told apart by the decode method the generated code calls.
    @Test func everyScalarType() throws {
        let schema = try schema(Loop_Gateway_Test_V1_Scalars.self)
        #expect(schema.fields.map(\.typeDescription) == [
            "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
            "fixed32", "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes", "enum", "int32",
        ])
        #expect(schema.field(named: "f_sfixed64")?.number == 12)
        #expect(schema.field(named: "fSfixed64")?.number == 12)
    }

    /// proto3 JSON names: lowerCamelCase, or the field's json_name option; both names find
    /// the field. Field numbers far from 1 are found too.
    @Test func jsonNamesAndHighNumbers() throws {
        let schema = try schema(Everything.self)
        #expect(schema.field(named: "display_name")?.jsonName == "label")
        #expect(schema.field(named: "label")?.number == 23)
        #expect(schema.field(named: "color_by_id")?.jsonName == "colorById")
        #expect(schema.field(named: "far_away")?.number == 100_000)
        #expect(schema.field(named: "labels")?.typeDescription == "map")
        #expect(schema.field(named: "when")?.typeDescription == "google.protobuf.Timestamp")
        #expect(schema.field(named: "list")?.typeDescription == "repeated loop.gateway.test.v1.Scalars")
        #expect(schema.field(named: "by_id")?.typeDescription == "int64")
        #expect(schema.field(named: "nope") == nil)
    }

    /// SwiftProtobuf's own well-known types are learnt like any generated message.
    @Test func wellKnownTypes() throws {
        #expect(try schema(Google_Protobuf_Timestamp.self).fields.map(\.protoName) == ["seconds", "nanos"])
        #expect(try schema(Google_Protobuf_Int64Value.self).fields.map(\.typeDescription) == ["int64"])
    }
}
