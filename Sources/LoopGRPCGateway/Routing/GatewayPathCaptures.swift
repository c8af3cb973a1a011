import LoopGRPC

/// What a matched path template's variables captured, in the template's order, still
/// percent-encoded until ``Capture/value()`` decodes them.
///
/// google.api.http: a single-segment variable (`{name}`, `{name=*}`) is fully decoded,
/// `%2F` included; a multi-segment one (`{name=shelves/*}`, `{name=**}`) is decoded except
/// `%2F` and `%2f`, which stay as they are so a decoded value's slashes are still the path's.
///
/// ```swift
/// let captures = try GatewayPathTemplate("/v1/{name=files/**}").match("/v1/files/a%2Fb/c%20d")!
/// try captures[0].value()  // "files/a%2Fb/c d"
/// ```
public struct GatewayPathCaptures: RandomAccessCollection, Sendable {
    /// One variable's capture.
    public struct Capture: Sendable, Equatable {
        public let variable: GatewayPathTemplate.Variable
        /// The captured text as it was in the path.
        public let rawValue: Substring

        /// The field path the value goes to, `options.name`.
        public var fieldPath: String { variable.dottedPath }

        /// The value percent-decoded by its variable's rule. A malformed escape or bytes that
        /// are not UTF-8 are the client's error: INVALID_ARGUMENT.
        public func value() throws(GRPCStatus) -> String {
            guard let value = GatewayPercentDecoding.decodeString(rawValue.utf8, keepEncodedSlash: variable.isMultiSegment) else {
                throw GRPCStatus(.invalidArgument, "invalid percent-encoding in the path for field \(fieldPath): \"\(rawValue)\"")
            }
            return value
        }
    }

    let variables: [GatewayPathTemplate.Variable]
    let values: [Substring]

    public var startIndex: Int { 0 }
    public var endIndex: Int { values.count }

    public subscript(position: Int) -> Capture {
        Capture(variable: variables[position], rawValue: values[position])
    }

    /// The capture of the variable with this field path (`"options.name"`), if any.
    public subscript(fieldPath fieldPath: String) -> Capture? {
        guard let index = variables.firstIndex(where: { $0.dottedPath == fieldPath }) else { return nil }
        return self[index]
    }
}
