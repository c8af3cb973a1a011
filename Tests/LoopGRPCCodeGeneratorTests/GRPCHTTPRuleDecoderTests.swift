import Testing
import LoopGRPCCodeGenerator

/// `google.api.http` options from protobuf bytes: every HttpRule field, additional bindings,
/// merging, skipping unknown fields, and the errors for malformed and unsupported rules.
@Suite struct GRPCHTTPRuleDecoderTests {
    /// Protobuf's wire format, written by hand for the tests.
    enum Wire {
        static func varint(_ value: UInt64) -> [UInt8] {
            var value = value
            var bytes: [UInt8] = []
            while value >= 0x80 {
                bytes.append(UInt8(value & 0x7F) | 0x80)
                value >>= 7
            }
            return bytes + [UInt8(value)]
        }

        static func tag(_ number: UInt32, _ wireType: UInt8) -> [UInt8] {
            varint(UInt64(number) << 3 | UInt64(wireType))
        }

        static func bytes(_ number: UInt32, _ payload: [UInt8]) -> [UInt8] {
            tag(number, 2) + varint(UInt64(payload.count)) + payload
        }

        static func string(_ number: UInt32, _ text: String) -> [UInt8] {
            bytes(number, Array(text.utf8))
        }

        /// MethodOptions holding `rule` as the google.api.http extension.
        static func options(_ rule: [UInt8]) -> [UInt8] {
            bytes(GRPCHTTPRuleDecoder.extensionFieldNumber, rule)
        }
    }

    func decode(_ rule: [UInt8]) throws -> GRPCHTTPRule {
        try GRPCHTTPRuleDecoder.rule(httpRule: rule)
    }

    /// The error decoding `rule` throws, or nil when it decodes.
    func error(_ rule: [UInt8]) -> String? {
        do {
            _ = try GRPCHTTPRuleDecoder.rule(httpRule: rule)
            return nil
        } catch {
            return error.description
        }
    }

    // MARK: - Method options

    @Test func greetingsSayHelloOptionsAsProtocWritesThem() throws {
        // SayHello's options in greetings.proto, from `protoc -o`: get "/v1/greetings/{name}",
        // additional_bindings { post: "/v1/greetings" body: "*" }.
        let options = hex(
            "82d3e493022a12142f76312f6772656574696e67732f7b6e616d657d5a12220d2f76312f6772656574696e67733a012a"
        )
        let rule = try GRPCHTTPRuleDecoder.rule(methodOptions: options, kind: .unary)
        #expect(
            rule
                == GRPCHTTPRule(
                    method: .get,
                    path: "/v1/greetings/{name}",
                    additionalBindings: [GRPCHTTPRule(method: .post, path: "/v1/greetings", body: "*")]
                )
        )
        #expect(rule?.bindings.map(\.method) == [.get, .post])
        #expect(rule?.bindings.allSatisfy(\.additionalBindings.isEmpty) == true)
    }

    @Test func optionsWithoutTheExtensionHaveNoRule() throws {
        // deprecated = true (field 33), idempotency_level = 1 (field 34), and an unknown
        // extension of another number.
        let options = Wire.tag(33, 0) + [1] + Wire.tag(34, 0) + [1] + Wire.string(50_000, "other")
        #expect(try GRPCHTTPRuleDecoder.rule(methodOptions: options, kind: .unary) == nil)
        #expect(try GRPCHTTPRuleDecoder.rule(methodOptions: [], kind: .unary) == nil)
    }

    @Test func otherOptionsAroundTheExtensionAreSkipped() throws {
        let options = Wire.tag(33, 0) + [1] + Wire.options(Wire.string(4, "/v1/items")) + Wire.tag(50_001, 5)
            + [1, 2, 3, 4]
        #expect(try GRPCHTTPRuleDecoder.rule(methodOptions: options, kind: .unary) == GRPCHTTPRule(method: .post, path: "/v1/items"))
    }

    @Test func extensionWrittenTwiceIsMergedAsOneMessage() throws {
        // Protobuf merges a message field seen twice: scalars of the last, repeated fields appended.
        let options = Wire.options(Wire.string(2, "/v1/a") + Wire.bytes(11, Wire.string(5, "/v1/x")))
            + Wire.options(Wire.string(7, "*") + Wire.string(4, "/v1/b") + Wire.bytes(11, Wire.string(6, "/v1/y")))
        let rule = try GRPCHTTPRuleDecoder.rule(methodOptions: options, kind: .unary)
        #expect(
            rule
                == GRPCHTTPRule(
                    method: .post,
                    path: "/v1/b",
                    body: "*",
                    additionalBindings: [
                        GRPCHTTPRule(method: .delete, path: "/v1/x"), GRPCHTTPRule(method: .patch, path: "/v1/y"),
                    ]
                )
        )
    }

    @Test func ruleOnServerStreamingMethodIsAccepted() throws {
        let options = Wire.options(Wire.string(2, "/v1/greetings/{name}/stream"))
        let rule = try GRPCHTTPRuleDecoder.rule(methodOptions: options, kind: .serverStreaming)
        #expect(rule == GRPCHTTPRule(method: .get, path: "/v1/greetings/{name}/stream"))
    }

    @Test func ruleOnClientOrBidirectionalStreamingMethodIsAnError() {
        let options = Wire.options(Wire.string(4, "/v1/upload") + Wire.string(7, "*"))
        #expect(
            throws: GRPCHTTPRuleError(
                "a route to a client-streaming method: the gateway maps unary and server-streaming methods only"
            )
        ) {
            try GRPCHTTPRuleDecoder.rule(methodOptions: options, kind: .clientStreaming)
        }
        #expect(
            throws: GRPCHTTPRuleError(
                "a route to a bidirectional-streaming method: the gateway maps unary and server-streaming methods only"
            )
        ) {
            try GRPCHTTPRuleDecoder.rule(methodOptions: options, kind: .bidirectionalStreaming)
        }
        // Without a rule, streaming methods are fine.
        #expect(throws: Never.self) { try GRPCHTTPRuleDecoder.rule(methodOptions: [], kind: .bidirectionalStreaming) }
    }

    @Test func malformedOptionsAreAnError() {
        // The extension's length says 16 bytes; 2 follow.
        let options = Wire.tag(GRPCHTTPRuleDecoder.extensionFieldNumber, 2) + [16, 0x12, 0x00]
        #expect(
            throws: GRPCHTTPRuleError(
                "the method's options are not valid protobuf: the length 16 at byte 5 runs past the end of the bytes (2 left)"
            )
        ) {
            try GRPCHTTPRuleDecoder.rule(methodOptions: options, kind: .unary)
        }
    }

    // MARK: - HttpRule fields

    @Test func eachOfTheFiveMethodFieldsSetsMethodAndPath() throws {
        let fields: [(UInt32, GRPCHTTPMethod)] = [(2, .get), (3, .put), (4, .post), (5, .delete), (6, .patch)]
        for (number, method) in fields {
            #expect(try decode(Wire.string(number, "/v1/things/{id}")) == GRPCHTTPRule(method: method, path: "/v1/things/{id}"))
        }
    }

    @Test func everyFieldOfARule() throws {
        let rule = try decode(
            Wire.string(1, "loop.demo.v1.Greetings.SayHello") + Wire.string(3, "/v1/{name=greetings/*}")
                + Wire.string(7, "options") + Wire.string(12, "message")
        )
        #expect(rule.selector == "loop.demo.v1.Greetings.SayHello")
        #expect(rule.method == .put)
        #expect(rule.path == "/v1/{name=greetings/*}")
        #expect(rule.body == "options")
        #expect(rule.responseBody == "message")
        #expect(rule.additionalBindings.isEmpty)
        #expect(rule.bindings == [rule])
    }

    @Test func customPatternWithOneOfTheFiveMethods() throws {
        let custom = Wire.bytes(8, Wire.string(1, "PATCH") + Wire.string(2, "/v1/items/{id}"))
        #expect(try decode(custom + Wire.string(7, "*")) == GRPCHTTPRule(method: .patch, path: "/v1/items/{id}", body: "*"))
        // Fields in either order, unknown ones skipped.
        let reordered = Wire.bytes(8, Wire.string(2, "/v1/items") + Wire.tag(3, 0) + [7] + Wire.string(1, "DELETE"))
        #expect(try decode(reordered) == GRPCHTTPRule(method: .delete, path: "/v1/items"))
    }

    @Test func customPatternWithAnotherMethodIsAnError() {
        let head = Wire.bytes(8, Wire.string(1, "HEAD") + Wire.string(2, "/v1/items"))
        #expect(
            error(head)
                == #"google.api.http: custom method "HEAD" is not supported: the gateway routes GET, PUT, POST, DELETE and PATCH"#
        )
        // Methods are case-sensitive: "get" is not GET.
        let lower = Wire.bytes(8, Wire.string(1, "get") + Wire.string(2, "/v1/items"))
        #expect(error(lower)?.contains(#"custom method "get" is not supported"#) == true)
    }

    @Test func lastPatternFieldWins() throws {
        // HttpRule's pattern is a oneof: the last one on the wire is the one set.
        let rule = try decode(Wire.string(2, "/v1/a") + Wire.bytes(8, Wire.string(1, "PUT") + Wire.string(2, "/v1/b")))
        #expect(rule == GRPCHTTPRule(method: .put, path: "/v1/b"))
    }

    @Test func additionalBindingsInDeclarationOrder() throws {
        let rule = try decode(
            Wire.string(2, "/v1/greetings/{name}")
                + Wire.bytes(11, Wire.string(4, "/v1/greetings") + Wire.string(7, "*"))
                + Wire.bytes(11, Wire.string(2, "/v2/greetings/{name}") + Wire.string(12, "message"))
                + Wire.bytes(11, Wire.bytes(8, Wire.string(1, "DELETE") + Wire.string(2, "/v1/greetings/{name}")))
        )
        #expect(
            rule.bindings == [
                GRPCHTTPRule(method: .get, path: "/v1/greetings/{name}"),
                GRPCHTTPRule(method: .post, path: "/v1/greetings", body: "*"),
                GRPCHTTPRule(method: .get, path: "/v2/greetings/{name}", responseBody: "message"),
                GRPCHTTPRule(method: .delete, path: "/v1/greetings/{name}"),
            ]
        )
    }

    @Test func nestedAdditionalBindingsAreAnError() {
        let nested = Wire.string(2, "/v1/a")
            + Wire.bytes(11, Wire.string(4, "/v1/b") + Wire.bytes(11, Wire.string(2, "/v1/c")))
        #expect(
            error(nested)
                == "google.api.http: additional_bindings[0]: an additional binding has additional_bindings of its own; "
                + "google.api.http allows them one level deep only"
        )
    }

    @Test func unknownFieldsOfEveryWireTypeAreSkipped() throws {
        let unknown = Wire.tag(20, 0) + Wire.varint(300) + Wire.tag(21, 1) + [1, 2, 3, 4, 5, 6, 7, 8]
            + Wire.string(22, "skipped") + Wire.tag(23, 5) + [1, 2, 3, 4]
            + Wire.tag(24, 3) + Wire.tag(1, 0) + [5] + Wire.tag(24, 4)
        #expect(try decode(unknown + Wire.string(2, "/v1/a") + unknown) == GRPCHTTPRule(method: .get, path: "/v1/a"))
    }

    // MARK: - Errors

    @Test func ruleWithoutMethodIsAnError() {
        #expect(error(Wire.string(7, "*")) == "google.api.http: no HTTP method and path: set get, put, post, delete, patch or custom")
        #expect(
            error(Wire.string(2, "/v1/a") + Wire.bytes(11, Wire.string(7, "*")))
                == "google.api.http: additional_bindings[0]: no HTTP method and path: set get, put, post, delete, patch or custom"
        )
    }

    @Test func pathThatIsNotATemplateIsAnError() {
        #expect(error(Wire.string(2, "v1/a")) == #"google.api.http: the path "v1/a" does not start with "/""#)
        #expect(error(Wire.string(2, "")) == #"google.api.http: the path "" does not start with "/""#)
        #expect(error(Wire.string(2, "/v1/a b")) == #"google.api.http: the path "/v1/a b" has a space or a control character"#)
        #expect(error(Wire.string(2, "/v1/a\nb")) == #"google.api.http: the path "/v1/a\u{a}b" has a space or a control character"#)
    }

    @Test func bodyOnGetIsAnError() {
        #expect(error(Wire.string(2, "/v1/a") + Wire.string(7, "*")) == #"google.api.http: a GET request has no body, yet the rule says body: "*""#)
    }

    @Test func truncatedVarintIsAnError() {
        #expect(
            error(Wire.string(2, "/v1/a") + [0x92])
                == "google.api.http: not a valid HttpRule: the varint at byte 7 is cut short by the end of the bytes"
        )
    }

    @Test func varintLongerThan64BitsIsAnError() {
        let tooLong = Wire.tag(20, 0) + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]
        #expect(error(tooLong) == "google.api.http: not a valid HttpRule: the varint at byte 2 does not fit in 64 bits")
    }

    @Test func lengthPastTheEndIsAnError() {
        #expect(
            error(Wire.tag(2, 2) + [10] + Array("/v1".utf8))
                == "google.api.http: not a valid HttpRule: the length 10 at byte 1 runs past the end of the bytes (3 left)"
        )
    }

    @Test func offsetsInsideAdditionalBindingsCountFromTheRule() {
        // The binding's payload, a cut-short varint, starts at byte 9 of the rule.
        let rule = Wire.string(2, "/v1/a") + Wire.bytes(11, [0x92])
        #expect(
            error(rule)
                == "google.api.http: additional_bindings[0]: not a valid HttpRule: the varint at byte 9 is cut short "
                + "by the end of the bytes"
        )
    }

    @Test func knownFieldWithWrongWireTypeIsAnError() {
        #expect(
            error(Wire.tag(2, 0) + [1])
                == "google.api.http: not a valid HttpRule: field 2 at byte 0 has wire type 0, not 2 (length-delimited)"
        )
    }

    @Test func invalidUTF8InAStringIsAnError() {
        #expect(error(Wire.bytes(2, [0x2F, 0xC3])) == "google.api.http: not a valid HttpRule: field 2 at byte 0 is not valid UTF-8")
    }

    @Test func invalidTagsAreAnError() {
        #expect(error(Wire.tag(0, 2) + [0]) == "google.api.http: not a valid HttpRule: the tag at byte 0 has field number 0")
        #expect(error(Wire.tag(20, 7)) == "google.api.http: not a valid HttpRule: the tag at byte 0 has wire type 7, which does not exist")
        #expect(
            error(Wire.tag(20, 4))
                == "google.api.http: not a valid HttpRule: an end of group 20 at byte 0 without its start"
        )
        #expect(
            error(Wire.tag(20, 3) + Wire.tag(21, 4))
                == "google.api.http: not a valid HttpRule: the group 20 at byte 0 ends with the end of group 21"
        )
        #expect(error(Wire.tag(20, 3)) == "google.api.http: not a valid HttpRule: the group 20 at byte 0 has no end")
        #expect(
            error(Wire.tag(20, 1) + [1, 2])
                == "google.api.http: not a valid HttpRule: field 20 at byte 0 is cut short by the end of the bytes"
        )
    }

    @Test func httpMethodTokensAreCaseSensitive() {
        #expect(GRPCHTTPMethod(token: "DELETE") == .delete)
        #expect(GRPCHTTPMethod(token: "delete") == nil)
        #expect(GRPCHTTPMethod(token: "HEAD") == nil)
        #expect(GRPCHTTPMethod.allCases.map(\.swiftCase) == [".get", ".put", ".post", ".delete", ".patch"])
    }

    private func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}
