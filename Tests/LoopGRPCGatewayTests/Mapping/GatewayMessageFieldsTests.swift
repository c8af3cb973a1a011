import Foundation
import Testing
import LoopGRPC
@testable import LoopGRPCGateway
import SwiftProtobuf

/// GatewayMessageFields (and the GatewayFieldDecoder under it): setting any generated
/// message's fields from the text of path captures and query parameters.
@Suite struct GatewayMessageFieldsTests {
    typealias Scalars = Loop_Gateway_Test_V1_Scalars
    typealias Everything = Loop_Gateway_Test_V1_Everything

    let scalars: GatewayMessageFields<Scalars>
    let everything: GatewayMessageFields<Everything>

    init() throws {
        scalars = try GatewayMessageFields()
        everything = try GatewayMessageFields()
    }

    func set(_ path: String, _ values: String...) throws -> Scalars {
        var message = Scalars()
        try scalars.set(path, to: values, in: &message)
        return message
    }

    func setting(_ path: String, _ values: String...) throws -> Everything {
        var message = Everything()
        try everything.set(path, to: values, in: &message)
        return message
    }

    func invalid(_ text: String, _ field: String, _ type: String) -> GRPCStatus {
        GRPCStatus(.invalidArgument, "invalid value \"\(text)\" for field \(field) (\(type))")
    }

    // MARK: Scalars, by strconv's rules (grpc-gateway runtime/convert.go)

    /// Integers: decimal with an optional sign, the full range of each type, int64 exactly.
    @Test func integersInDecimal() throws {
        #expect(try set("f_int32", "-42").fInt32 == -42)
        #expect(try set("f_int32", "+7").fInt32 == 7)
        #expect(try set("f_int64", "9007199254740993").fInt64 == 9_007_199_254_740_993)
        #expect(try set("f_uint32", "4294967295").fUint32 == 4_294_967_295)
        #expect(try set("f_uint64", "18446744073709551615").fUint64 == .max)
        #expect(try set("f_sint32", "-5").fSint32 == -5)
        #expect(try set("f_sint64", "-9223372036854775808").fSint64 == .min)
        #expect(try set("f_fixed32", "5").fFixed32 == 5)
        #expect(try set("f_fixed64", "6").fFixed64 == 6)
        #expect(try set("f_sfixed32", "-7").fSfixed32 == -7)
        #expect(try set("f_sfixed64", "-8").fSfixed64 == -8)
        #expect(throws: invalid("2147483648", "f_int32", "int32")) { try set("f_int32", "2147483648") }
        #expect(throws: invalid("1.0", "f_int64", "int64")) { try set("f_int64", "1.0") }
        #expect(throws: invalid("0x10", "f_int64", "int64")) { try set("f_int64", "0x10") }
        #expect(throws: invalid("-1", "f_uint32", "uint32")) { try set("f_uint32", "-1") }
        #expect(throws: invalid("+1", "f_uint64", "uint64")) { try set("f_uint64", "+1") }
        #expect(throws: invalid("", "f_sfixed32", "sfixed32")) { try set("f_sfixed32", "") }
        #expect(throws: invalid(" 1", "f_int32", "int32")) { try set("f_int32", " 1") }
    }

    /// Floats: decimal and exponent forms, proto3 JSON's "NaN", "Infinity", "-Infinity";
    /// a finite number the type cannot hold is refused, not made infinite.
    @Test func floatingPoint() throws {
        #expect(try set("f_double", "1.5").fDouble == 1.5)
        #expect(try set("f_double", "-2e3").fDouble == -2000)
        #expect(try set("f_double", "NaN").fDouble.isNaN)
        #expect(try set("f_double", "Infinity").fDouble == .infinity)
        #expect(try set("f_double", "-Infinity").fDouble == -.infinity)
        #expect(try set("f_float", "3.25").fFloat == 3.25)
        #expect(throws: invalid("1e39", "f_float", "float")) { try set("f_float", "1e39") }
        #expect(throws: invalid("inf", "f_double", "double")) { try set("f_double", "inf") }
        #expect(throws: invalid("0x1p3", "f_double", "double")) { try set("f_double", "0x1p3") }
        #expect(throws: invalid("1,5", "f_double", "double")) { try set("f_double", "1,5") }
    }

    /// Bools as strconv.ParseBool spells them.
    @Test func boolsAsParseBool() throws {
        for text in ["true", "True", "TRUE", "t", "T", "1"] { #expect(try set("f_bool", text).fBool == true) }
        for text in ["false", "False", "FALSE", "f", "F", "0"] {
            var message = Scalars.with { $0.fBool = true }
            try scalars.set("f_bool", to: [text], in: &message)
            #expect(message.fBool == false)
        }
        #expect(throws: invalid("yes", "f_bool", "bool")) { try set("f_bool", "yes") }
    }

    /// Strings as they are; bytes as base64, standard or URL-safe, padded or not.
    @Test func stringsAndBase64Bytes() throws {
        #expect(try set("f_string", "héllo wörld").fString == "héllo wörld")
        #expect(try set("f_bytes", "aGk=").fBytes == Data("hi".utf8))
        #expect(try set("f_bytes", "aGk").fBytes == Data("hi".utf8))
        #expect(try set("f_bytes", "-_8").fBytes == Data([0xFB, 0xFF]))
        #expect(try set("f_bytes", "+/8=").fBytes == Data([0xFB, 0xFF]))
        #expect(throws: invalid("!!", "f_bytes", "bytes")) { try set("f_bytes", "!!") }
        #expect(throws: invalid("a", "f_bytes", "bytes")) { try set("f_bytes", "a") }
    }

    /// Enums by name or by a number the enum defines (grpc-gateway's convertEnum).
    @Test func enumsByNameOrNumber() throws {
        #expect(try set("f_color", "GREEN").fColor == .green)
        #expect(try set("f_color", "2").fColor == .green)
        #expect(try set("f_color", "COLOR_UNSPECIFIED").fColor == .unspecified)
        #expect(throws: invalid("BLUE", "f_color", "enum")) { try set("f_color", "BLUE") }
        #expect(throws: invalid("7", "f_color", "enum")) { try set("f_color", "7") }
        #expect(throws: invalid("green", "f_color", "enum")) { try set("f_color", "green") }
    }

    /// A proto3 `optional` field gets presence even at its default value.
    @Test func proto3OptionalGetsPresence() throws {
        let message = try set("f_optional", "0")
        #expect(message.hasFOptional)
        #expect(message.fOptional == 0)
    }

    /// A singular field takes one value (grpc-gateway 2: "too many values").
    @Test func singularFieldTakesOneValue() {
        #expect(throws: GRPCStatus(.invalidArgument, "field f_int32 takes one value, got 2")) { try set("f_int32", "1", "2") }
    }

    // MARK: Names and paths

    /// Field paths name fields by proto name or JSON name (grpc-gateway's fieldByProtoName
    /// accepts both), nested messages are created on the way.
    @Test func protoAndJSONNamesNested() throws {
        #expect(try setting("scalars.f_bool", "true").scalars.fBool)
        #expect(try setting("scalars.fBool", "true").scalars.fBool)
        #expect(try setting("display_name", "x").displayName == "x")
        #expect(try setting("label", "x").displayName == "x")
        #expect(try setting("child.child.scalars.f_int64", "5").child.child.scalars.fInt64 == 5)
        #expect(try setting("far_away", "3").farAway == 3)
        var message = Everything.with { $0.scalars.fString = "kept" }
        try everything.set("scalars.f_int32", to: ["4"], in: &message)
        #expect(message.scalars == .with { $0.fString = "kept"; $0.fInt32 = 4 })
    }

    /// "In the case of a repeated type, the parameter can be repeated in the URL, as in
    /// `...?param=A&param=B`": values are appended in order.
    @Test func httpRuleRepeatedFieldsAppend() throws {
        #expect(try setting("ids", "1", "-2").ids == [1, -2])
        #expect(try setting("colors", "RED", "2").colors == [.red, .green])
        #expect(try setting("blobs", "aGk=").blobs == [Data("hi".utf8)])
        var message = Everything.with { $0.ids = [7] }
        try everything.set("ids", to: ["8"], in: &message)
        #expect(message.ids == [7, 8])
        #expect(throws: invalid("x", "ids", "int64")) { try setting("ids", "1", "x") }
    }

    /// Map entries, `labels[key]=value` in a query (grpc-gateway's populateMapField): key and
    /// value parsed by their types.
    @Test func mapEntries() throws {
        var message = Everything()
        try everything.set("labels", key: "k", to: "v", in: &message)
        try everything.set("color_by_id", key: "3", to: "RED", in: &message)
        try everything.set("colorById", key: "4", to: "2", in: &message)
        #expect(message.labels == ["k": "v"])
        #expect(message.colorByID == [3: .red, 4: .green])
        #expect(throws: invalid("x", "color_by_id key", "int32")) { try everything.set("color_by_id", key: "x", to: "RED", in: &message) }
        #expect(throws: invalid("BLUE", "color_by_id[3]", "enum")) { try everything.set("color_by_id", key: "3", to: "BLUE", in: &message) }
        #expect(throws: GRPCStatus(.invalidArgument, "field labels is a map: set an entry as labels[key]=value")) {
            try setting("labels", "v")
        }
        #expect(throws: GRPCStatus(.invalidArgument, "field ids is not a map")) { try everything.set("ids", key: "k", to: "1", in: &message) }
    }

    /// Well-known types from one value: wrappers by their scalar, Timestamp and Duration in
    /// proto3 JSON form, FieldMask comma-separated (grpc-gateway's populateField).
    @Test func wellKnownTypesFromText() throws {
        #expect(try setting("when", "2024-05-01T12:00:00Z").when == Google_Protobuf_Timestamp(seconds: 1_714_564_800))
        #expect(try setting("when", "2024-05-01T12:00:00.5+02:00").when == Google_Protobuf_Timestamp(seconds: 1_714_557_600, nanos: 500_000_000))
        #expect(try setting("timeout", "1.5s").timeout == Google_Protobuf_Duration(seconds: 1, nanos: 500_000_000))
        #expect(try setting("count", "42").count == Google_Protobuf_Int64Value(42))
        #expect(try setting("flag", "false").flag == Google_Protobuf_BoolValue(false))
        #expect(try setting("note", "").note == Google_Protobuf_StringValue(""))
        #expect(try setting("ratio", "NaN").ratio.value.isNaN)
        #expect(try setting("blob", "aGk=").blob == Google_Protobuf_BytesValue(Data("hi".utf8)))
        #expect(try setting("small", "7").small == Google_Protobuf_UInt32Value(7))
        #expect(try setting("mask", "a,b.c").mask == Google_Protobuf_FieldMask(protoPaths: ["a", "b.c"]))
        #expect(throws: invalid("yesterday", "when", "google.protobuf.Timestamp")) { try setting("when", "yesterday") }
        #expect(throws: invalid("1h", "timeout", "google.protobuf.Duration")) { try setting("timeout", "1h") }
        #expect(throws: invalid("many", "count", "google.protobuf.Int64Value")) { try setting("count", "many") }
        #expect(try setting("when.seconds", "5").when.seconds == 5)
    }

    /// A oneof takes one member: setting another is refused (grpc-gateway: "field already
    /// set for oneof"); continuing the same message member is not a conflict.
    @Test func oneofTakesOneMember() throws {
        var message = Everything()
        try everything.set("by_scalars.f_int32", to: ["1"], in: &message)
        try everything.set("by_scalars.f_bool", to: ["true"], in: &message)
        #expect(message.byScalars == .with { $0.fInt32 = 1; $0.fBool = true })
        #expect(throws: GRPCStatus(.invalidArgument, "field by_id is in a oneof that already has another field set")) {
            try everything.set("by_id", to: ["2"], in: &message)
        }
        var named = try setting("by_name", "x")
        #expect(named.byName == "x")
        #expect(throws: GRPCStatus(.invalidArgument, "field by_scalars.f_bool is in a oneof that already has another field set")) {
            try everything.set("by_scalars.f_bool", to: ["true"], in: &named)
        }
    }

    /// Paths that name no field, or a field text cannot set, say which.
    @Test func unknownAndUnsettablePaths() throws {
        #expect(throws: GRPCStatus(.invalidArgument, "unknown field nope: no field \"nope\" in loop.gateway.test.v1.Everything")) {
            try setting("nope", "1")
        }
        #expect(throws: GRPCStatus(.invalidArgument, "unknown field scalars.nope: no field \"nope\" in loop.gateway.test.v1.Scalars")) {
            try setting("scalars.nope", "1")
        }
        #expect(throws: GRPCStatus(.invalidArgument, "field scalars.f_int32 (int32) has no field \"x\"")) {
            try setting("scalars.f_int32.x", "1")
        }
        #expect(throws: GRPCStatus(.invalidArgument,
                                   "field scalars is a message (loop.gateway.test.v1.Scalars): set its fields, as scalars.<field>")) {
            try setting("scalars", "1")
        }
        #expect(throws: GRPCStatus(.invalidArgument,
                                   "field list is a repeated message (loop.gateway.test.v1.Scalars): it cannot be set from text")) {
            try setting("list", "1")
        }
        #expect(throws: GRPCStatus(.invalidArgument, "field list (repeated loop.gateway.test.v1.Scalars) has no field \"f_int32\"")) {
            try setting("list.f_int32", "1")
        }
        #expect(throws: GRPCStatus(.invalidArgument, "field extra is a message (google.protobuf.Struct): set its fields, as extra.<field>")) {
            try setting("extra", "{}")
        }
        #expect(throws: GRPCStatus(.invalidArgument, "unknown field scalars.: no field \"\" in loop.gateway.test.v1.Scalars")) {
            try setting("scalars.", "1")
        }
        #expect(everything.contains("scalars.f_bool"))
        #expect(everything.contains("list"))
        #expect(!everything.contains("scalars.nope"))
    }

    /// The demo's request, as the curl examples set it.
    @Test func demoRequest() throws {
        let fields = try GatewayMessageFields<Loop_Demo_V1_HelloRequest>()
        var request = Loop_Demo_V1_HelloRequest()
        try fields.set("name", to: ["ada"], in: &request)
        try fields.set("language", to: ["FRENCH"], in: &request)
        try fields.set("tags", to: ["a", "b"], in: &request)
        try fields.set("options.shout", to: ["true"], in: &request)
        try fields.set("options.repeat", to: ["3"], in: &request)
        #expect(request == .with {
            $0.name = "ada"
            $0.language = .french
            $0.tags = ["a", "b"]
            $0.options = .with { $0.shout = true; $0.repeat = 3 }
        })
        #expect(throws: GRPCStatus(.invalidArgument, "invalid value \"x\" for field options.repeat (int64)")) {
            try fields.set("options.repeat", to: ["x"], in: &request)
        }
    }
}
