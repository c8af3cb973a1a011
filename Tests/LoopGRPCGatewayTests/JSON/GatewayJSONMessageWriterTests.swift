import InteropTestSupport
import Loop
@testable import LoopGRPCGateway
import SwiftProtobuf
import Testing

/// GatewayJSONMessageWriter: the gateway's own proto3 JSON for replies of strings, bools,
/// integers and enums must be SwiftProtobuf's encoder's bytes exactly, and every other type
/// must stay with SwiftProtobuf.
@Suite struct GatewayJSONMessageWriterTests {
    typealias Plain = Loop_Gateway_Test_V1_Plain
    typealias Color = Loop_Gateway_Test_V1_Color

    func bytes(_ buffer: ByteBuffer?) -> [UInt8]? { buffer.map { Array($0.readableBytesView) } }

    func expectSameAsSwiftProtobuf<M: SwiftProtobuf.Message>(_ message: M, options: JSONEncodingOptions = JSONEncodingOptions(),
                                                             sourceLocation: SourceLocation = #_sourceLocation) throws {
        let writer = try #require(GatewayJSONMessageWriter(M.self, options: options), sourceLocation: sourceLocation)
        let expected: [UInt8] = try message.jsonUTF8Bytes(options: options)
        let written = try #require(bytes(writer.write(message)), "the writer gave up on \(message)", sourceLocation: sourceLocation)
        // Bytes compared (String equality would take canonically equivalent text as equal).
        if written != expected {
            Issue.record("written \(String(decoding: written, as: UTF8.self))\nexpected \(String(decoding: expected, as: UTF8.self))",
                         sourceLocation: sourceLocation)
        }
    }

    @Test func theDemosReplyIsWrittenAsSwiftProtobufWritesIt() throws {
        try expectSameAsSwiftProtobuf(Loop_Demo_V1_HelloReply())
        try expectSameAsSwiftProtobuf(Loop_Demo_V1_HelloReply.with { $0.message = "Hello, world!" })
        try expectSameAsSwiftProtobuf(Loop_Demo_V1_HelloReply.with {
            $0.message = "Bonjour, \"ada\"\n"; $0.sequence = -7; $0.tags = ["a", "", "é"]; $0.language = .french
        })
        #expect(String(decoding: try #require(bytes(GatewayJSONMessageWriter(Loop_Demo_V1_HelloReply.self, options: JSONEncodingOptions())?
            .write(Loop_Demo_V1_HelloReply.with { $0.message = "Hi"; $0.sequence = 2 }))), as: UTF8.self) == #"{"message":"Hi","sequence":"2"}"#)
    }

    /// Every string escape: each code point up to U+0200 alone and inside text, then the
    /// line separators and characters of two, three and four UTF-8 bytes.
    @Test func stringsAreEscapedAsSwiftProtobufEscapesThem() throws {
        var scalars = (0...0x200).compactMap(Unicode.Scalar.init)
        scalars += [0x2028, 0x2029, 0xFEFF, 0xFFFD, 0x1F600, 0x10FFFF].compactMap(Unicode.Scalar.init)
        for scalar in scalars {
            let alone = String(Character(scalar))
            try expectSameAsSwiftProtobuf(Plain.with { $0.fString = alone })
            try expectSameAsSwiftProtobuf(Plain.with { $0.fString = "a" + alone + "b\(alone)\(alone)c"; $0.rString = [alone, "x"] })
        }
    }

    @Test func randomMessagesOfEveryKindOfFieldMatch() throws {
        var random = Random(seed: 0x5EED_0010)
        for round in 0..<3_000 {
            let message = random.plain()
            try expectSameAsSwiftProtobuf(message)
            if round % 10 == 0 {
                var options = JSONEncodingOptions()
                options.preserveProtoFieldNames = true
                try expectSameAsSwiftProtobuf(message, options: options)
            }
        }
    }

    /// Enum values the enum does not define are written as numbers, as SwiftProtobuf does.
    @Test func undefinedEnumValuesAreNumbers() throws {
        try expectSameAsSwiftProtobuf(Plain.with { $0.fColor = .UNRECOGNIZED(7); $0.rColor = [.red, .UNRECOGNIZED(-3), .green] })
        #expect(GatewayEnumJSONNames.shared.json(for: Color.UNRECOGNIZED(7)) == Array("7".utf8))
        #expect(GatewayEnumJSONNames.shared.json(for: Color.green) == Array("\"GREEN\"".utf8))
    }

    /// Names are kept; numbers a peer or a handler makes up are not (what is kept stays
    /// bounded by the program's enums).
    @Test func onlyDefinedNamesAreKept() {
        let names = GatewayEnumJSONNames()
        for number in 3..<1_003 { #expect(names.json(for: Color.UNRECOGNIZED(number)) == Array(String(number).utf8)) }
        #expect(names.count == 0)
        #expect(names.json(for: Color.red) == Array("\"RED\"".utf8))
        #expect(names.json(for: Color.red) == Array("\"RED\"".utf8))
        #expect(names.count == 1)
    }

    /// Types with other kinds of fields, well-known types, extensions and the options that
    /// change numbers get no writer: SwiftProtobuf writes them.
    @Test func everythingElseStaysWithSwiftProtobuf() {
        #expect(GatewayJSONMessageWriter(Loop_Gateway_Test_V1_Scalars.self, options: JSONEncodingOptions()) == nil, "double, float, bytes")
        #expect(GatewayJSONMessageWriter(Loop_Gateway_Test_V1_Everything.self, options: JSONEncodingOptions()) == nil, "messages, maps")
        #expect(GatewayJSONMessageWriter(Loop_Demo_V1_HelloRequest.self, options: JSONEncodingOptions()) == nil, "a nested message")
        #expect(GatewayJSONMessageWriter(Google_Protobuf_Timestamp.self, options: JSONEncodingOptions()) == nil, "a JSON form of its own")
        #expect(GatewayJSONMessageWriter(Google_Protobuf_Int64Value.self, options: JSONEncodingOptions()) == nil, "a wrapper")
        var numbers = JSONEncodingOptions()
        numbers.alwaysPrintInt64sAsNumbers = true
        #expect(GatewayJSONMessageWriter(Plain.self, options: numbers) == nil)
        var enumsAsInts = JSONEncodingOptions()
        enumsAsInts.alwaysPrintEnumsAsInts = true
        #expect(GatewayJSONMessageWriter(Plain.self, options: enumsAsInts) == nil)
    }

    /// The response mapping uses the writer for a whole message and gives the same bytes.
    @Test func theResponseMappingWritesWithIt() throws {
        let reply = Loop_Demo_V1_HelloReply.with { $0.message = "Hello"; $0.tags = ["t"]; $0.language = .french }
        let mapped = try GatewayResponseMapping<Loop_Demo_V1_HelloReply>(body: .message).json(reply)
        #expect(Array(mapped.readableBytesView) == (try reply.jsonUTF8Bytes() as [UInt8]))
    }

    /// Random messages, the same every run.
    struct Random {
        var generator: SeededRandom
        init(seed: UInt64) { generator = SeededRandom(seed: seed) }

        mutating func next() -> UInt64 { generator.next() }

        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

        /// Zero often (left out), the extremes sometimes, anything otherwise.
        mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T {
            switch below(6) {
            case 0, 1: return 0
            case 2: return T.min
            case 3: return T.max
            case 4: return T(truncatingIfNeeded: below(2_000) - 1_000)
            default: return T(truncatingIfNeeded: next())
            }
        }

        mutating func string() -> String {
            let pieces = ["", "a", "Hello, world!", "\"", "\\", "/", "\u{0}", "\u{1F}", "\u{7F}", "\u{80}", "\u{9F}", "\u{A0}",
                          "é", "\u{2028}", "😀", "\n\r\t\u{8}\u{C}", "日本"]
            return (0..<below(5)).map { _ in pieces[below(pieces.count)] }.joined()
        }

        mutating func color() -> Color {
            [Color.unspecified, .red, .green, .UNRECOGNIZED(9), .UNRECOGNIZED(-1)][below(5)]
        }

        mutating func array<T>(_ make: (inout Random) -> T) -> [T] {
            chance(60) ? [] : (0..<below(4) + 1).map { _ in make(&self) }
        }

        mutating func plain() -> Plain {
            var m = Plain()
            m.fInt32 = integer(Int32.self)
            m.fInt64 = integer(Int64.self)
            m.fUint32 = integer(UInt32.self)
            m.fUint64 = integer(UInt64.self)
            m.fSint32 = integer(Int32.self)
            m.fSint64 = integer(Int64.self)
            m.fFixed32 = integer(UInt32.self)
            m.fFixed64 = integer(UInt64.self)
            m.fSfixed32 = integer(Int32.self)
            m.fSfixed64 = integer(Int64.self)
            m.fBool = chance(50)
            m.fString = chance(50) ? "" : string()
            m.fColor = chance(50) ? .unspecified : color()
            if chance(30) { m.fOptional = integer(Int32.self) }
            m.rInt32 = array { $0.integer(Int32.self) }
            m.rInt64 = array { $0.integer(Int64.self) }
            m.rUint32 = array { $0.integer(UInt32.self) }
            m.rUint64 = array { $0.integer(UInt64.self) }
            m.rSint32 = array { $0.integer(Int32.self) }
            m.rSint64 = array { $0.integer(Int64.self) }
            m.rFixed32 = array { $0.integer(UInt32.self) }
            m.rFixed64 = array { $0.integer(UInt64.self) }
            m.rSfixed32 = array { $0.integer(Int32.self) }
            m.rSfixed64 = array { $0.integer(Int64.self) }
            m.rBool = array { $0.chance(50) }
            m.rString = array { $0.string() }
            m.rColor = array { $0.color() }
            switch below(3) {
            case 0: m.pick = .pickName(string())
            case 1: m.pick = .pickID(integer(Int64.self))
            default: break
            }
            m.renamed = chance(50) ? "" : string()
            m.farAway = integer(UInt32.self)
            return m
        }
    }
}
