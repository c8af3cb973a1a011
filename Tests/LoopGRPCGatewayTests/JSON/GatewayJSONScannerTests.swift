import Testing
@testable import LoopGRPCGateway

/// GatewayJSONScanner: where a JSON value ends (RFC 8259 §2: one value, whitespace around)
/// and where a top-level key's value is.
@Suite struct GatewayJSONScannerTests {
    func single(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBytes { GatewayJSONScanner.isSingleValue($0) }
    }

    func value(_ key: String, _ json: String) -> String? {
        let bytes = Array(json.utf8)
        return GatewayJSONScanner.valueRange(ofKey: key, in: bytes).map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    @Test func oneValueWithWhitespaceAround() {
        for text in [#"{"a":[1,{"b":"}]"}]}"#, " [ ] ", #""x\"}""#, "true", "-1.5e3", "null", "{}"] {
            #expect(single(text), "\(text)")
        }
        for text in ["", " ", #"{"a":1},{"b":2}"#, "{}}", "{]", "[}", #"{"a":"}"#, "1 2", "1,", "{", #""open"#, "@"] {
            #expect(!single(text), "\(text)")
        }
    }

    @Test func topLevelKeyValues() {
        let json = #"{"a":{"x":"}"},"b":[1,2],"c":"q\"r","d":-1}"#
        #expect(value("a", json) == #"{"x":"}"}"#)
        #expect(value("b", json) == "[1,2]")
        #expect(value("c", json) == #""q\"r""#)
        #expect(value("d", json) == "-1")
        #expect(value("x", json) == nil)
        #expect(value("a", "[1]") == nil)
        #expect(value("a", "{}") == nil)
    }
}
