import Testing
@testable import LoopHTTP1

/// HTTP1Fields: lookups ignore case (RFC 9110 §5.1), also for the names the message rules
/// look up on every message, which the fields remember as they are added.
@Suite struct HTTP1FieldsTests {
    @Test func rfc9110Section5_1LookupsIgnoreCaseForKnownAndOtherNames() {
        var fields = HTTP1Fields()
        fields.add("HOST", "a")
        fields.add("Content-Length", "5")
        fields.add("X-Trace", "1")
        fields.add("x-trace", "2")
        #expect(fields["host"] == "a")
        #expect(fields["Host"] == "a")
        #expect(fields.contains("content-length"))
        #expect(fields.count("content-length") == 1)
        #expect(fields["x-trace"] == "1")
        #expect(fields.count("X-TRACE") == 2)
        #expect(fields.values("x-trace") == ["1", "2"])
        // Known names that are absent.
        for name in ["transfer-encoding", "connection", "expect", "upgrade", "te"] {
            #expect(!fields.contains(name), "\(name)")
            #expect(fields[name] == nil, "\(name)")
            #expect(fields.count(name) == 0, "\(name)")
            #expect(fields.values(name).isEmpty, "\(name)")
        }
        #expect(!fields.contains("x-other"))
    }

    @Test func everyKnownNameIsFoundInAnyCase() {
        let names = ["host", "expect", "upgrade", "connection", "content-length", "transfer-encoding", "te"]
        for name in names {
            var fields = HTTP1Fields()
            fields.add(String(name.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element }), "v")
            #expect(fields.contains(name), "\(name)")
            #expect(fields[name] == "v", "\(name)")
            for other in names where other != name { #expect(!fields.contains(other), "\(other) next to \(name)") }
        }
        // Same length as a known name, another name: not taken for it.
        var fields = HTTP1Fields()
        fields.add("hose", "1")
        fields.add("content-lengtx", "2")
        #expect(!fields.contains("host"))
        #expect(!fields.contains("content-length"))
        #expect(fields["hose"] == "1")
    }

    @Test func removingAFieldForgetsItAndKeepsTheOthers() {
        var fields = HTTP1Fields([("Connection", "close"), ("Host", "a"), ("connection", "keep-alive")])
        #expect(fields.count("connection") == 2)
        fields.remove("CONNECTION")
        #expect(!fields.contains("connection"))
        #expect(fields["connection"] == nil)
        #expect(fields["host"] == "a")
        #expect(fields == HTTP1Fields([("Host", "a")]))
    }
}
