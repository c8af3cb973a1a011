import Testing
import LoopGRPC
@testable import LoopGRPCGateway

/// GatewayQueryString: application/x-www-form-urlencoded parameters as Go's
/// url.ParseQuery reads them (the queries grpc-gateway maps).
@Suite struct GatewayQueryStringTests {
    func parameters(_ query: String) throws -> [String] {
        try GatewayQueryString.parameters(query).map { "\($0.name)=\($0.value)" }
    }

    /// Pairs in order; "+" is a space, percent escapes decoded (so "%2B" is a plus and "%26"
    /// an ampersand inside a value).
    @Test func formURLEncodedPairs() throws {
        #expect(try parameters("tags=a&tags=b+c&options.shout=true") == ["tags=a", "tags=b c", "options.shout=true"])
        #expect(try parameters("q=1%2B1%3D2&x=%26%3D") == ["q=1+1=2", "x=&="])
        #expect(try parameters("name=%C3%A9t%C3%A9") == ["name=été"])
        #expect(try parameters("a%5Bk%5D=v") == ["a[k]=v"])
    }

    /// A name without "=" has the empty value; empty pairs are skipped; the value runs to
    /// the next "&", "=" included.
    @Test func emptyNamesValuesAndPairs() throws {
        #expect(try parameters("flag&&x=&=v&y=a=b") == ["flag=", "x=", "=v", "y=a=b"])
        #expect(try parameters("") == [])
    }

    /// A malformed escape, or bytes that are not UTF-8, are refused (url.ParseQuery's error).
    @Test func malformedEscapesAreInvalidArgument() {
        #expect(throws: GRPCStatus(.invalidArgument, "invalid percent-encoding in the query: \"a=%zz\"")) { try parameters("x=1&a=%zz") }
        #expect(throws: GRPCStatus(.invalidArgument, "invalid percent-encoding in the query: \"a=%F\"")) { try parameters("a=%F") }
        #expect(throws: GRPCStatus(.invalidArgument, "invalid percent-encoding in the query: \"%FF=1\"")) { try parameters("%FF=1") }
    }
}
