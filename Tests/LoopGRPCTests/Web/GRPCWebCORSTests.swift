import Testing
import LoopHTTP2
@testable import LoopGRPC

/// PROTOCOL-WEB.md "CORS preflight" and the Fetch standard's CORS protocol: which requests
/// are preflights, the preflight's answer, and the fields on actual responses.
@Suite struct GRPCWebCORSTests {
    private let origin = "http://example.com"

    private func preflight(origin: String? = "http://example.com", method: String? = "POST", headers: String? = nil)
        -> GRPCWebCORS.Request {
        GRPCWebCORS.Request(method: "OPTIONS", origin: origin, accessControlRequestMethod: method, accessControlRequestHeaders: headers)
    }

    /// Fetch "CORS-preflight request": OPTIONS with Origin and Access-Control-Request-Method.
    @Test func fetchPreflightRequestIsOptionsWithOriginAndRequestMethod() {
        #expect(preflight().isPreflight)
        #expect(!preflight(method: nil).isPreflight)
        #expect(!preflight(origin: nil).isPreflight)
        #expect(!GRPCWebCORS.Request(method: "POST", origin: origin, accessControlRequestMethod: "POST").isPreflight)
        #expect(!GRPCWebCORS.Request(method: "OPTIONS", origin: nil).isPreflight)
    }

    /// The fields come from HTTP/2 header fields; several Access-Control-Request-Headers join.
    @Test func requestFromHeaderFields() {
        let request = GRPCWebCORS.Request(method: "OPTIONS", headers: [
            HPACKHeader(":path", "/loop.demo.v1.Greetings/SayHello"), HPACKHeader("origin", origin),
            HPACKHeader("access-control-request-method", "POST"), HPACKHeader("access-control-request-headers", "x-grpc-web"),
            HPACKHeader("access-control-request-headers", "content-type"),
        ])
        #expect(request == preflight(headers: "x-grpc-web,content-type"))
        #expect(request.isPreflight)
    }

    /// PROTOCOL-WEB.md: "Access-Control-Allow-Methods to allow POST and (preflight) OPTIONS
    /// only", "Access-Control-Allow-Headers to whatever the preflight request carries" — the
    /// defaults, then what was asked (lower-cased, each once); the origin echoed; Vary.
    @Test func protocolWebPreflightAnswerByDefault() {
        let answer = GRPCWebCORS(GRPCWebConfiguration())
            .answer(toPreflight: preflight(headers: "content-type,x-grpc-web,x-user-agent, X-Custom ,x-custom,grpc-timeout"))
        #expect(answer == GRPCWebCORS.Answer(status: 204, headers: [
            HPACKHeader("access-control-allow-origin", "http://example.com"),
            HPACKHeader("access-control-allow-methods", "POST, OPTIONS"),
            HPACKHeader("access-control-allow-headers",
                        "content-type, x-grpc-web, x-user-agent, grpc-timeout, grpc-accept-encoding, authorization, x-custom"),
            HPACKHeader("access-control-max-age", "600"),
            HPACKHeader("vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
        ]))
    }

    /// A list of origins, credentials (PROTOCOL-WEB.md: "Access-Control-Allow-Credentials to
    /// allow Authorization headers"), configured headers only, no max age.
    @Test func configuredPolicy() {
        let cors = GRPCWebCORS(GRPCWebConfiguration(allowedOrigins: .list(["https://App.Example.com"]), allowCredentials: true,
                                                    maxAge: nil, allowedHeaders: ["X-Tenant", "content-type"],
                                                    allowsAnyRequestedHeader: false))
        let answer = cors.answer(toPreflight: preflight(origin: "https://app.example.com", headers: "x-tenant, x-other"))
        #expect(answer == GRPCWebCORS.Answer(status: 204, headers: [
            HPACKHeader("access-control-allow-origin", "https://app.example.com"),
            HPACKHeader("access-control-allow-credentials", "true"),
            HPACKHeader("access-control-allow-methods", "POST, OPTIONS"),
            HPACKHeader("access-control-allow-headers",
                        "content-type, x-grpc-web, x-user-agent, grpc-timeout, grpc-accept-encoding, authorization, x-tenant"),
            HPACKHeader("vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
        ]))
        #expect(cors.answer(toPreflight: preflight(origin: "https://evil.example.com")).status == 403)
    }

    /// Max age in whole seconds.
    @Test func maxAgeInWholeSeconds() {
        let answer = GRPCWebCORS(GRPCWebConfiguration(maxAge: .milliseconds(7_200_900))).answer(toPreflight: preflight())
        #expect(answer.headers.contains(HPACKHeader("access-control-max-age", "7200")))
    }

    /// A disallowed origin, a call that is not a POST, and `null` unless listed: 403, nothing
    /// allowed, Vary still said.
    @Test func disallowedPreflightIs403() {
        let refused = GRPCWebCORS.Answer(status: 403, headers: [
            HPACKHeader("vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
        ])
        let listed = GRPCWebCORS(GRPCWebConfiguration(allowedOrigins: .list(["https://a.example", "null"])))
        #expect(listed.answer(toPreflight: preflight()) == refused)
        #expect(listed.answer(toPreflight: preflight(origin: "null")).status == 204)
        let any = GRPCWebCORS(GRPCWebConfiguration())
        #expect(any.answer(toPreflight: preflight(method: "GET")) == refused)
        #expect(any.answer(toPreflight: preflight(method: "post")) == refused)
        #expect(any.answer(toPreflight: preflight(origin: "null")) == refused)
        #expect(any.answer(toPreflight: preflight(origin: nil)) == refused)
    }

    /// Nothing from the request reaches a header value unless it is a token or a plain origin:
    /// a CR LF or a comma in the origin refuses it, requested names that are not tokens are dropped.
    @Test func noFieldInjection() {
        let cors = GRPCWebCORS(GRPCWebConfiguration())
        #expect(cors.answer(toPreflight: preflight(origin: "http://a.example\r\nset-cookie: x")).status == 403)
        #expect(cors.answer(toPreflight: preflight(origin: "http://a.example, http://b.example")).status == 403)
        #expect(cors.answer(toPreflight: preflight(origin: "")).status == 403)
        #expect(!cors.isAllowed(origin: "http://a.example\u{e9}"))
        let answer = cors.answer(toPreflight: preflight(headers: "x-ok, x-bad\r\nset-cookie: y, x y,,"))
        #expect(answer.headers.first { $0.name == "access-control-allow-headers" }?.value
                == "content-type, x-grpc-web, x-user-agent, grpc-timeout, grpc-accept-encoding, authorization, x-ok")
    }

    /// The actual response from an allowed origin: origin echoed, the status fields exposed
    /// (a trailers-only response has them in the head), Vary: Origin.
    @Test func actualResponseHeaders() {
        #expect(GRPCWebCORS(GRPCWebConfiguration()).responseHeaders(origin: origin) == [
            HPACKHeader("access-control-allow-origin", "http://example.com"),
            HPACKHeader("access-control-expose-headers", "grpc-status, grpc-message, grpc-status-details-bin"),
            HPACKHeader("vary", "Origin"),
        ])
        let configured = GRPCWebCORS(GRPCWebConfiguration(allowCredentials: true, exposedHeaders: ["X-Request-Id", "grpc-status"]))
        #expect(configured.responseHeaders(origin: origin) == [
            HPACKHeader("access-control-allow-origin", "http://example.com"),
            HPACKHeader("access-control-allow-credentials", "true"),
            HPACKHeader("access-control-expose-headers", "grpc-status, grpc-message, grpc-status-details-bin, x-request-id"),
            HPACKHeader("vary", "Origin"),
        ])
    }

    /// No Origin (not a browser's cross-origin call) or one not allowed: served, without CORS
    /// fields (the browser keeps a disallowed page from reading the answer; same-origin POSTs
    /// carry Origin too and must not be refused).
    @Test func actualResponseWithoutOrDisallowedOrigin() {
        let cors = GRPCWebCORS(GRPCWebConfiguration(allowedOrigins: .list(["https://a.example"])))
        #expect(cors.responseHeaders(origin: nil) == [])
        #expect(cors.responseHeaders(origin: "https://b.example") == [])
        #expect(cors.responseHeaders(origin: "HTTPS://A.EXAMPLE").first == HPACKHeader("access-control-allow-origin", "HTTPS://A.EXAMPLE"))
    }
}
