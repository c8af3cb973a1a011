import Testing
import LoopGRPC
@testable import LoopGRPCGateway

/// GatewayPathTemplate: google.api.http's template grammar and how a template matches a
/// request path (google/api/http.proto, "Path template syntax").
@Suite struct GatewayPathTemplateTests {
    func parseError(_ text: String) -> GatewayPathTemplate.ParseError? {
        do {
            _ = try GatewayPathTemplate(text)
            return nil
        } catch {
            return error
        }
    }

    /// The raw and decoded captures of `path`, or nil when it does not match.
    func captures(_ template: String, _ path: String) throws -> [String]? {
        guard let captures = try GatewayPathTemplate(template).match(path) else { return nil }
        return try captures.map { try $0.value() }
    }

    // MARK: Grammar

    /// Template = "/" Segments [ Verb ]; Segment = "*" | "**" | LITERAL | Variable.
    @Test func httpRuleGrammarParsesEverySegmentKind() throws {
        let template = try GatewayPathTemplate("/v1/{name=shelves/*}/books/*/{rest=**}:publish")
        #expect(template.segments == [.literal("v1"), .literal("shelves"), .wildcard, .literal("books"), .wildcard, .deepWildcard])
        #expect(template.variables.map(\.dottedPath) == ["name", "rest"])
        #expect(template.variables.map(\.segments) == [1..<3, 5..<6])
        #expect(template.variables.map(\.isMultiSegment) == [true, true])
        #expect(template.verb == "publish")
        #expect(template.description == "/v1/{name=shelves/*}/books/*/{rest=**}:publish")
    }

    /// "If a variable matches a single path segment, its template may be omitted, e.g.
    /// `{var}` is equivalent to `{var=*}`."
    @Test func httpRuleVariableWithoutTemplateIsOneSegment() throws {
        let short = try GatewayPathTemplate("/v1/{options.name}")
        let long = try GatewayPathTemplate("/v1/{options.name=*}")
        #expect(short.segments == long.segments)
        #expect(short.variables == long.variables)
        #expect(short.variables[0].fieldPath == ["options", "name"])
        #expect(short.variables[0].isMultiSegment == false)
    }

    /// Literals are RFC 3986 path characters; percent escapes in them are decoded.
    @Test func literalsArePathCharactersDecoded() throws {
        let template = try GatewayPathTemplate("/v1/a%20b/x-y_z.~!$&'()+,;@")
        #expect(template.segments == [.literal("v1"), .literal("a b"), .literal("x-y_z.~!$&'()+,;@")])
    }

    /// Errors name the rule and the UTF-8 offset where the template broke it.
    @Test func parseErrorsNameTheOffset() {
        #expect(parseError("v1/x") == .init(template: "v1/x", offset: 0, reason: "a template starts with \"/\""))
        #expect(parseError("/v1/{name") == .init(template: "/v1/{name", offset: 9, reason: "expected \"}\" to end the variable name"))
        #expect(parseError("/v1/{a={b}}") == .init(template: "/v1/{a={b}}", offset: 7, reason: "a variable cannot contain another variable"))
        #expect(parseError("/v1/{1a}") == .init(template: "/v1/{1a}", offset: 5, reason: "expected a field name (a letter or \"_\" first)"))
        #expect(parseError("/v1/{a.}") == .init(template: "/v1/{a.}", offset: 7, reason: "expected a field name (a letter or \"_\" first)"))
        #expect(parseError("/v1//x") == .init(template: "/v1//x", offset: 4, reason: "expected a segment, found \"/\""))
        #expect(parseError("/v1/%zz") == .init(template: "/v1/%zz", offset: 4, reason: "\"%\" must be followed by two hexadecimal digits"))
        #expect(parseError("/v1/x:") == .init(template: "/v1/x:", offset: 6, reason: "expected a verb after \":\" at the end"))
        #expect(parseError("/v1/a b") == .init(template: "/v1/a b", offset: 5, reason: "unexpected \" \""))
        #expect(parseError("/v1/{a}/{a}") == .init(template: "/v1/{a}/{a}", offset: 8, reason: "the field a is captured twice"))
        #expect(parseError("/") == .init(template: "/", offset: 1, reason: "expected a segment at the end"))
        #expect(parseError("/v1/%FF") == .init(template: "/v1/%FF", offset: 4, reason: "the literal is not valid UTF-8 once decoded"))
        #expect(parseError("/v1/{")?.description == "invalid path template \"/v1/{\" at offset 5: expected a field name (a letter or \"_\" first)")
    }

    /// "`**` ... must be the last part of the path except the Verb."
    @Test func httpRuleDeepWildcardOnlyLast() {
        #expect(parseError("/v1/**/x") == .init(template: "/v1/**/x", offset: 4, reason: "\"**\" must be the last segment"))
        #expect(parseError("/v1/{a=**}/x") == .init(template: "/v1/{a=**}/x", offset: 7, reason: "\"**\" must be the last segment"))
        #expect(parseError("/v1/{a=**}:verb") == nil)
    }

    // MARK: Matching

    /// "The syntax `*` matches a single path segment"; literals match themselves (case
    /// sensitive), whole paths only.
    @Test func httpRuleWildcardMatchesOneSegment() throws {
        let template = try GatewayPathTemplate("/v1/*/x")
        #expect(template.match("/v1/a/x") != nil)
        #expect(template.match("/v1/a/b/x") == nil)
        #expect(template.match("/v1/a") == nil)
        #expect(template.match("/v1/a/x/y") == nil)
        #expect(template.match("/V1/a/x") == nil)
        #expect(template.match("v1/a/x") == nil)
        #expect(template.match("") == nil)
    }

    /// A literal compares with the segment decoded when it has escapes.
    @Test func literalMatchesEncodedSegment() throws {
        let template = try GatewayPathTemplate("/v1/greetings")
        #expect(template.match("/v1/gr%65etings") != nil)
        #expect(template.match("/v1/greetings/") == nil)
        #expect(try GatewayPathTemplate("/v1/a%20b").match("/v1/a%20b") != nil)
    }

    /// "The syntax `**` matches zero or more path segments".
    @Test func httpRuleDeepWildcardMatchesZeroOrMoreSegments() throws {
        #expect(try captures("/v1/{name=**}", "/v1/a/b/c") == ["a/b/c"])
        #expect(try captures("/v1/{name=**}", "/v1") == [""])
        #expect(try captures("/v1/{name=shelves/**}", "/v1/shelves") == ["shelves"])
        #expect(try captures("/v1/{name=shelves/**}", "/v1/shelves/1/books/2") == ["shelves/1/books/2"])
        #expect(try captures("/v1/{name=shelves/**}", "/v1/books/1") == nil)
    }

    /// Variables capture what their segments matched, slashes included.
    @Test func httpRuleVariablesCaptureTheirSegments() throws {
        #expect(try captures("/v1/{name=shelves/*}/books/{book}:publish", "/v1/shelves/7/books/a%20b:publish") == ["shelves/7", "a b"])
        #expect(try captures("/v1/{a}/{b.c}", "/v1/x/y") == ["x", "y"])
        #expect(try GatewayPathTemplate("/v1/{a}").match("/v1/x")?[0].rawValue == "x")
        #expect(try GatewayPathTemplate("/v1/x").match("/v1/x")?.isEmpty == true)
    }

    /// An empty segment is a segment: `*` matches it, as grpc-gateway's matcher does.
    @Test func wildcardMatchesEmptySegment() throws {
        #expect(try captures("/v1/greetings/{name}", "/v1/greetings/") == [""])
    }

    /// "Verb = ":" LITERAL": the verb ends the last segment after a colon; the segment
    /// before it matches on its own.
    @Test func httpRuleVerbEndsTheLastSegment() throws {
        #expect(try captures("/v1/{name}:cancel", "/v1/op1:cancel") == ["op1"])
        #expect(try captures("/v1/{name}:cancel", "/v1/op1") == nil)
        #expect(try captures("/v1/{name}:cancel", "/v1/op1:cancelx") == nil)
        #expect(try captures("/v1/{name}:cancel", "/v1/a/b:cancel") == nil)
        #expect(try captures("/v1/{name=**}:undelete", "/v1/a/b:undelete") == ["a/b"])
        #expect(try captures("/v1/{name=**}:undelete", "/v1:undelete") == [""])
    }

    /// Without a verb in the template, a colon is part of the segment (resource names such
    /// as `projects/p:x`), as grpc-gateway 2 matches after its colon fix.
    @Test func colonWithoutVerbIsPartOfTheSegment() throws {
        #expect(try captures("/v1/{name}", "/v1/a:cancel") == ["a:cancel"])
    }

    // MARK: Decoding captures

    /// "If a variable contains exactly one path segment ... The server side does the
    /// reverse decoding": everything, %2F included.
    @Test func httpRuleSingleSegmentCaptureDecodesEverything() throws {
        #expect(try captures("/v1/{name}", "/v1/a%2Fb%20c%C3%A9") == ["a/b cé"])
    }

    /// "If a variable contains multiple path segments ... The server side does the reverse
    /// decoding, except "%2F" and "%2f" are left unchanged."
    @Test func httpRuleMultiSegmentCaptureKeepsEncodedSlash() throws {
        #expect(try captures("/v1/{name=files/**}", "/v1/files/a%2Fb/c%20d%2fe") == ["files/a%2Fb/c d%2fe"])
        #expect(try captures("/v1/{name=files/*}", "/v1/files/a%2Fb") == ["files/a%2Fb"])
    }

    /// A malformed escape or bytes that are not UTF-8 are the client's error.
    @Test func malformedCaptureIsInvalidArgument() throws {
        let template = try GatewayPathTemplate("/v1/{name}")
        #expect(throws: GRPCStatus(.invalidArgument, "invalid percent-encoding in the path for field name: \"a%zz\"")) {
            try template.match("/v1/a%zz")?[0].value()
        }
        #expect(throws: GRPCStatus(.invalidArgument, "invalid percent-encoding in the path for field name: \"%FF\"")) {
            try template.match("/v1/%FF")?[0].value()
        }
        #expect(throws: GRPCStatus(.invalidArgument, "invalid percent-encoding in the path for field name: \"a%2\"")) {
            try template.match("/v1/a%2")?[0].value()
        }
    }

    @Test func capturesByFieldPath() throws {
        let captures = try #require(try GatewayPathTemplate("/v1/{a}/{b.c}").match("/v1/x/y"))
        #expect(captures[fieldPath: "b.c"]?.rawValue == "y")
        #expect(captures[fieldPath: "b"] == nil)
    }
}
