/// How a server answers browsers calling it with gRPC-Web from other origins: the CORS
/// policy (PROTOCOL-WEB.md "CORS preflight", the Fetch standard's CORS protocol) that
/// ``GRPCWebCORS`` applies.
///
/// The defaults let any page call the services without credentials: every `Origin` is echoed
/// (never `*`, so the same answer works once credentials are allowed), POST and OPTIONS are
/// the methods, the headers gRPC-Web clients send are allowed along with whatever else a
/// preflight asks for (as PROTOCOL-WEB.md says), and the status trailers a browser must read
/// from a trailers-only response are exposed.
///
/// ```swift
/// var web = GRPCWebConfiguration()
/// web.allowedOrigins = .list(["https://app.example.com"])
/// web.allowCredentials = true            // cookies and HTTP authentication
/// web.exposedHeaders = ["x-request-id"]  // initial metadata the page reads
/// ```
public struct GRPCWebConfiguration: Sendable, Equatable {
    /// Which origins may call.
    public enum AllowedOrigins: Sendable, Equatable {
        /// Every origin, echoed back in `access-control-allow-origin`, except the opaque
        /// origin `null` (sandboxed frames, `file:` pages), which must be listed to be allowed.
        case any
        /// Exactly these serialized origins (`scheme://host[:port]`, compared ignoring case).
        case list([String])
    }

    /// Which origins may call; `.any` by default.
    public var allowedOrigins: AllowedOrigins
    /// Whether browsers may send credentials (cookies, HTTP authentication, TLS client
    /// certificates): `access-control-allow-credentials: true`. Off by default.
    public var allowCredentials: Bool
    /// How long a browser may cache a preflight's answer (`access-control-max-age`, whole
    /// seconds); nil sends none, and browsers then cache for seconds at most. 10 minutes by
    /// default: browsers cap it anyway (Chromium at 2 hours), and a shorter cache lets a
    /// changed policy reach them sooner.
    public var maxAge: Duration?
    /// Request headers allowed beyond ``defaultAllowedHeaders``, e.g. custom metadata keys.
    public var allowedHeaders: [String]
    /// Whether a preflight's `access-control-request-headers` are allowed whatever they
    /// name (PROTOCOL-WEB.md: "Access-Control-Allow-Headers to whatever the preflight request
    /// carries"); when false, only the default and ``allowedHeaders`` are, and the browser
    /// refuses a request that asked for others. True by default.
    public var allowsAnyRequestedHeader: Bool
    /// Response headers a page may read beyond ``defaultExposedHeaders``, e.g. initial
    /// metadata keys.
    public var exposedHeaders: [String]

    /// The request headers gRPC-Web clients send, always allowed: `content-type`,
    /// `x-grpc-web`, `x-user-agent`, `grpc-timeout`, `grpc-accept-encoding` (grpc-web's
    /// JavaScript client sends all of these) and `authorization`, which the wildcard `*` never
    /// covers.
    public static let defaultAllowedHeaders = ["content-type", "x-grpc-web", "x-user-agent", "grpc-timeout",
                                               "grpc-accept-encoding", "authorization"]
    /// The response headers always exposed: the status of a trailers-only response, which
    /// arrives in the head.
    public static let defaultExposedHeaders = ["grpc-status", "grpc-message", "grpc-status-details-bin"]

    public init(allowedOrigins: AllowedOrigins = .any, allowCredentials: Bool = false, maxAge: Duration? = .seconds(600),
                allowedHeaders: [String] = [], allowsAnyRequestedHeader: Bool = true, exposedHeaders: [String] = []) {
        self.allowedOrigins = allowedOrigins
        self.allowCredentials = allowCredentials
        self.maxAge = maxAge
        self.allowedHeaders = allowedHeaders
        self.allowsAnyRequestedHeader = allowsAnyRequestedHeader
        self.exposedHeaders = exposedHeaders
    }
}
