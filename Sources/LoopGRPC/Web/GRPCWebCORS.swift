import LoopHTTP2

/// The CORS answers of a gRPC-Web server (PROTOCOL-WEB.md "CORS preflight", the Fetch
/// standard's CORS protocol), I/O-free: a request's method and CORS headers in, a status and
/// header fields out, the same over HTTP/1.1 and HTTP/2. The policy is a
/// ``GRPCWebConfiguration``; the header values it implies are built once, here.
///
/// - A **preflight** (OPTIONS with `Origin` and `Access-Control-Request-Method`) from an
///   allowed origin asking for POST gets 204 with the allowed origin, methods (POST and
///   OPTIONS), headers and max age; any other gets 403, so the browser never sends the call.
/// - An **actual request** from an allowed origin gets `access-control-allow-origin` and
///   `access-control-expose-headers` on its response. A request from another origin is
///   served without them, as CORS middleware does (Envoy's filter, rs/cors): browsers send
///   `Origin` on same-origin POSTs too, which must not be refused, and a cross-origin
///   gRPC-Web call (its content type is not CORS-safelisted) never leaves a browser unless
///   its preflight passed.
///
/// ```swift
/// let cors = GRPCWebCORS(GRPCWebConfiguration(allowedOrigins: .list(["https://app.example.com"])))
/// let request = GRPCWebCORS.Request(method: method, headers: headers)  // the request's
/// if request.isPreflight {
///     let answer = cors.answer(toPreflight: request)   // 204 or 403, and its header fields
/// } else {
///     responseHeaders += cors.responseHeaders(origin: request.origin)
/// }
/// ```
public struct GRPCWebCORS: Sendable {
    /// What CORS looks at in a request.
    public struct Request: Sendable, Equatable {
        /// The request method (`OPTIONS` for a preflight).
        public var method: String
        /// The `Origin` field; nil when absent (not a browser's cross-origin request).
        public var origin: String?
        /// The `Access-Control-Request-Method` field: the method of the call to come.
        public var accessControlRequestMethod: String?
        /// The `Access-Control-Request-Headers` field: the call's non-safelisted headers,
        /// comma-separated (several fields joined with commas).
        public var accessControlRequestHeaders: String?

        public init(method: String, origin: String?, accessControlRequestMethod: String? = nil,
                    accessControlRequestHeaders: String? = nil) {
            self.method = method
            self.origin = origin
            self.accessControlRequestMethod = accessControlRequestMethod
            self.accessControlRequestHeaders = accessControlRequestHeaders
        }

        /// The fields CORS uses from header fields with lower-case names (HTTP/2's; HTTP/1.1
        /// names lower-cased).
        public init(method: String, headers: [HPACKHeader]) {
            self.init(method: method, origin: nil)
            for header in headers {
                switch header.name {
                case "origin" where origin == nil: origin = header.value
                case "access-control-request-method" where accessControlRequestMethod == nil: accessControlRequestMethod = header.value
                case "access-control-request-headers":
                    accessControlRequestHeaders = accessControlRequestHeaders.map { $0 + "," + header.value } ?? header.value
                default: break
                }
            }
        }

        /// Whether this is a CORS preflight: OPTIONS with `Origin` and
        /// `Access-Control-Request-Method` (Fetch standard, "CORS-preflight request"). A
        /// plain OPTIONS is not one.
        public var isPreflight: Bool {
            method == "OPTIONS" && origin != nil && accessControlRequestMethod != nil
        }
    }

    /// A complete answer: status and header fields (lower-case names), no body.
    public struct Answer: Sendable, Equatable {
        public var status: Int
        public var headers: [HPACKHeader]

        public init(status: Int, headers: [HPACKHeader]) {
            self.status = status
            self.headers = headers
        }
    }

    /// The policy.
    public let configuration: GRPCWebConfiguration
    /// The allowed origins lower-cased; nil for any.
    private let origins: Set<String>?
    /// The allowed request headers lower-cased, defaults first, without repeats.
    private let allowedHeaders: [String]
    private let allowedHeaderSet: Set<String>
    private let exposeHeadersValue: String
    private let maxAgeValue: String?

    public init(_ configuration: GRPCWebConfiguration) {
        self.configuration = configuration
        switch configuration.allowedOrigins {
        case .any: origins = nil
        case .list(let list): origins = Set(list.map { $0.lowercased() })
        }
        var headers: [String] = []
        for name in GRPCWebConfiguration.defaultAllowedHeaders + configuration.allowedHeaders.map({ $0.lowercased() })
        where !headers.contains(name) {
            headers.append(name)
        }
        allowedHeaders = headers
        allowedHeaderSet = Set(headers)
        var exposed: [String] = []
        for name in GRPCWebConfiguration.defaultExposedHeaders + configuration.exposedHeaders.map({ $0.lowercased() })
        where !exposed.contains(name) {
            exposed.append(name)
        }
        exposeHeadersValue = exposed.joined(separator: ", ")
        // Whole seconds, rounded down: the field is an integer (Fetch standard, delta-seconds).
        maxAgeValue = configuration.maxAge.map { String(max(0, $0.components.seconds)) }
    }

    /// Whether `origin` may call: in the list, or any origin but `null` with `.any`. An
    /// origin that could not be echoed safely (empty, or with characters outside visible
    /// ASCII, or a comma) never may.
    public func isAllowed(origin: String) -> Bool {
        guard !origin.isEmpty, origin.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E && $0 != 0x2C }) else { return false }
        guard let origins else { return origin != "null" }
        return origins.contains(origin.lowercased())
    }

    /// The answer to a preflight (``Request/isPreflight``): 204 with the CORS fields when the
    /// origin is allowed and the call will be a POST, otherwise 403. The allowed headers are
    /// the defaults, the configured ones and, unless the configuration says otherwise, those
    /// the preflight asked for.
    public func answer(toPreflight request: Request) -> Answer {
        let vary = HPACKHeader("vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
        guard let origin = request.origin, isAllowed(origin: origin), request.accessControlRequestMethod == "POST" else {
            return Answer(status: 403, headers: [vary])
        }
        var allowed = allowedHeaders
        if configuration.allowsAnyRequestedHeader, let requested = request.accessControlRequestHeaders {
            for part in requested.split(separator: ",") {
                let name = GRPCWebFieldSyntax.trimmed(part).lowercased()
                // Only tokens are echoed: anything else cannot be a field name, and must not reach a header value.
                guard !name.isEmpty, name.utf8.allSatisfy(GRPCWebFieldSyntax.isTokenByte),
                      !allowedHeaderSet.contains(name), !allowed.contains(name) else { continue }
                allowed.append(name)
            }
        }
        var headers = [HPACKHeader("access-control-allow-origin", origin)]
        if configuration.allowCredentials { headers.append(HPACKHeader("access-control-allow-credentials", "true")) }
        headers.append(HPACKHeader("access-control-allow-methods", "POST, OPTIONS"))
        headers.append(HPACKHeader("access-control-allow-headers", allowed.joined(separator: ", ")))
        if let maxAgeValue { headers.append(HPACKHeader("access-control-max-age", maxAgeValue)) }
        headers.append(vary)
        return Answer(status: 204, headers: headers)
    }

    /// The CORS fields to add to the response of an actual (not preflight) request with
    /// `origin` (its `Origin` field): the allowed origin, credentials if allowed, the exposed
    /// headers and `vary: Origin`; none when it has no `Origin` or one that is not allowed.
    public func responseHeaders(origin: String?) -> [HPACKHeader] {
        guard let origin, isAllowed(origin: origin) else { return [] }
        var headers = [HPACKHeader("access-control-allow-origin", origin)]
        if configuration.allowCredentials { headers.append(HPACKHeader("access-control-allow-credentials", "true")) }
        headers.append(HPACKHeader("access-control-expose-headers", exposeHeadersValue))
        headers.append(HPACKHeader("vary", "Origin"))
        return headers
    }
}
