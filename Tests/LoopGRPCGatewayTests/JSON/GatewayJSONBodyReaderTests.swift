import InteropTestSupport
import Loop
@testable import LoopGRPCGateway
import SwiftProtobuf
import Testing

/// GatewayJSONBodyReader: a flat request body read without SwiftProtobuf's parser must give
/// the message SwiftProtobuf gives, and every body it does not take must be left to it.
@Suite struct GatewayJSONBodyReaderTests {
    typealias Plain = Loop_Gateway_Test_V1_Plain
    typealias HelloRequest = Loop_Demo_V1_HelloRequest

    func read<M: SwiftProtobuf.Message>(_ json: String, as type: M.Type) throws -> M? {
        let reader = try #require(GatewayJSONBodyReader(type))
        return reader.read(ByteBuffer(string: json), as: type)
    }

    @Test func theBenchmarksBodyIsRead() throws {
        let body = #"{"name":"world","language":"FRENCH"}"#
        let read = try #require(try read(body, as: HelloRequest.self))
        #expect(read == (try HelloRequest(jsonString: body)))
        #expect(read.name == "world" && read.language == .french)
    }

    /// Both names of a field, whitespace anywhere JSON allows it, presence of an optional
    /// field set to its default, a oneof member, the extremes of each integer kind.
    @Test func flatBodiesGiveSwiftProtobufsMessage() throws {
        let bodies = [
            "{}", " \t\r\n{ } \n",
            #"{"fString":"a","f_int32":-2147483648,"fUint64":18446744073709551615,"fBool":true}"#,
            #"{ "f_sint64" : -9223372036854775808 , "fSfixed64":9223372036854775807, "fColor":"GREEN", "f_bool": false }"#,
            #"{"fOptional":0,"otherName":"x","pickId":5,"farAway":4294967295,"fFixed32":0,"fString":""}"#,
            "{\"f_string\":\"日本 é 😀 \u{7F}\",\"renamed\":\"proto name of otherName\",\"pick_name\":\"n\"}",
        ]
        for body in bodies {
            let read = try #require(try read(body, as: Plain.self), "\(body)")
            #expect(read == (try Plain(jsonString: body)), "\(body)")
        }
        #expect(try read(#"{"fOptional":0}"#, as: Plain.self)?.hasFOptional == true)
    }

    /// What the reader leaves to SwiftProtobuf (which parses it or words the error).
    @Test func everyOtherBodyIsLeftToSwiftProtobuf() throws {
        let bodies = [
            #"{"fString":"a\"b"}"#, #"{"fString":"tab\tinside"}"#, #"{"fInt32":"5"}"#, #"{"fInt32":1.0}"#,
            #"{"fInt32":1e2}"#, #"{"fInt32":01}"#, #"{"fInt32":-0}"#, #"{"fInt32":2147483648}"#,
            #"{"fUint32":-1}"#, #"{"fInt64":18446744073709551616}"#, #"{"fString":null}"#, #"{"fString":1}"#,
            #"{"fBool":"true"}"#, #"{"fBool":truex}"#, #"{"fColor":1}"#, #"{"fColor":"PURPLE"}"#, #"{"rInt32":[1]}"#,
            #"{"unknown":1}"#, #"{"fString":"a","f_string":"b"}"#, #"{"pickName":"a","pickId":1}"#, #"{"fString":"a"} x"#,
            #"{"fString":"a",}"#, #"{"fString" "a"}"#, #"["fString"]"#, #"{"f\u0053tring":"a"}"#, "{\"fString\":\"\u{1}\"}",
        ]
        for body in bodies {
            #expect(try read(body, as: Plain.self) == nil, "\(body)")
        }
        // Not UTF-8.
        let reader = try #require(GatewayJSONBodyReader(Plain.self))
        let notUTF8 = Array(#"{"fString":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(notUTF8.withUnsafeBytes { reader.read($0, as: Plain.self) } == nil)
        // A field of a kind the reader does not take (a nested message) is an unknown key to it.
        #expect(try read(#"{"name":"a","options":{"shout":true}}"#, as: HelloRequest.self) == nil)
        #expect(GatewayJSONBodyReader(Google_Protobuf_Struct.self) == nil)
    }

    /// Random bodies, made right and wrong: whatever the reader reads, SwiftProtobuf reads as
    /// the same message; and the reader reads a good share of them.
    @Test func randomBodiesAgreeWithSwiftProtobuf() throws {
        let reader = try #require(GatewayJSONBodyReader(Plain.self))
        var random = SeededRandom(seed: 0xB0D1_0010)
        var readCount = 0
        for _ in 0..<5_000 {
            let body = Self.randomBody(&random)
            let expected = try? Plain(jsonUTF8Bytes: body)
            guard let read = body.withUnsafeBytes({ reader.read($0, as: Plain.self) }) else { continue }
            readCount += 1
            let text = String(decoding: body, as: UTF8.self)
            #expect(expected != nil, "read, but SwiftProtobuf refuses: \(text)")
            #expect(read == expected, "\(text)")
        }
        #expect(readCount > 1_000, "the reader read \(readCount) of 5,000")
    }

    static let members: [(names: [String], values: [String])] = [
        (["fInt32", "f_int32"], ["0", "7", "-7", "2147483647", "-2147483648", "2147483648", "\"3\"", "1.5", "007"]),
        (["fInt64", "f_int64"], ["1", "-9223372036854775808", "9223372036854775807", "9223372036854775808", "\"12\""]),
        (["fUint32", "f_uint32"], ["0", "4294967295", "4294967296", "-1"]),
        (["fUint64", "f_uint64"], ["18446744073709551615", "18446744073709551616", "5"]),
        (["fSint32", "f_sint32"], ["-5", "5"]),
        (["fSint64", "f_sint64"], ["-5", "123456789012"]),
        (["fFixed32", "f_fixed32"], ["9", "-9"]),
        (["fFixed64", "f_fixed64"], ["9", "1e3"]),
        (["fSfixed32", "f_sfixed32"], ["-9", "9"]),
        (["fSfixed64", "f_sfixed64"], ["-9", "null"]),
        (["fBool", "f_bool"], ["true", "false", "\"true\"", "1"]),
        (["fString", "f_string"], ["\"\"", "\"Hello\"", "\"é😀\"", "\"a\\nb\"", "\"\\u00e9\"", "5"]),
        (["fColor", "f_color"], ["\"RED\"", "\"GREEN\"", "\"COLOR_UNSPECIFIED\"", "1", "\"red\"", "\"BLUE\""]),
        (["fOptional", "f_optional"], ["0", "3"]),
        (["pickName", "pick_name"], ["\"p\""]),
        (["pickId", "pick_id"], ["4", "\"4\""]),
        (["otherName", "renamed"], ["\"o\""]),
        (["farAway", "far_away"], ["1", "4294967295"]),
        (["rString", "r_string"], ["[\"a\"]"]),
        (["nope"], ["1"]),
    ]

    static func randomBody(_ random: inout SeededRandom) -> [UInt8] {
        let spaces = ["", "", "", " ", "\n", "\t ", "\r\n"]
        func space() -> String { spaces[Int.random(in: 0..<spaces.count, using: &random)] }
        var parts: [String] = []
        for _ in 0..<Int.random(in: 0...4, using: &random) {
            let member = members[Int.random(in: 0..<members.count, using: &random)]
            let name = member.names[Int.random(in: 0..<member.names.count, using: &random)]
            let value = member.values[Int.random(in: 0..<member.values.count, using: &random)]
            parts.append(space() + "\"\(name)\"" + space() + ":" + space() + value + space())
        }
        return Array((space() + "{" + parts.joined(separator: ",") + "}" + space()).utf8)
    }
}
