import LoopGRPC

/// The parameters of a query string (`application/x-www-form-urlencoded`, as URL queries
/// are written): pairs separated by `&`, name and value by the first `=`, `+` for a space,
/// percent-escapes decoded. A malformed escape or bytes that are not UTF-8 are the
/// client's error (INVALID_ARGUMENT), as Go's `url.ParseQuery` refuses them.
///
/// ```swift
/// try GatewayQueryString.parameters("tags=a&tags=b+c&options.shout=true")
/// // [("tags", "a"), ("tags", "b c"), ("options.shout", "true")]
/// ```
public enum GatewayQueryString {
    /// The decoded parameters in order; empty pairs (`a=1&&b=2`) are skipped, a name without
    /// `=` has the empty value.
    public static func parameters(_ query: Substring) throws(GRPCStatus) -> [(name: String, value: String)] {
        var parameters: [(name: String, value: String)] = []
        for pair in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let rawName = pair[..<(equals ?? pair.endIndex)]
            let rawValue = equals.map { pair[pair.index(after: $0)...] } ?? pair[pair.endIndex...]
            guard let name = GatewayPercentDecoding.decodeString(rawName, keepEncodedSlash: false, plusAsSpace: true),
                  let value = GatewayPercentDecoding.decodeString(rawValue, keepEncodedSlash: false, plusAsSpace: true) else {
                throw GRPCStatus(.invalidArgument, "invalid percent-encoding in the query: \"\(Substring(pair))\"")
            }
            parameters.append((name, value))
        }
        return parameters
    }

    /// The parameters of `query` (a string).
    public static func parameters(_ query: String) throws(GRPCStatus) -> [(name: String, value: String)] {
        try parameters(query[...])
    }
}
