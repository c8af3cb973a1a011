import Glibc
import Loop
import LoopGRPC
import LoopHTTP2
import Synchronization

/// The HTTP/JSON gateway: serves REST requests by the routes' google.api.http rules, calling
/// the gRPC methods through a backend (in process, or a remote server through a
/// `GRPCChannel`), over HTTP/1.1 and HTTP/2 alike. Put it on a `GRPCServer`'s port as its
/// `httpHandler`; requests no route matches go to `fallback`.
///
/// ```swift
/// var routes = GatewayRoutes()
/// try routes.add(.get, "/v1/greetings/{name}", method: "/loop.demo.v1.Greetings/SayHello",
///                request: Loop_Demo_V1_HelloRequest.self, response: Loop_Demo_V1_HelloReply.self)
/// let gateway = GRPCGateway(routes: routes, backend: .local(GRPCLocalCaller(services: services)))
/// var configuration = GRPCServerConfiguration()
/// configuration.httpHandler = gateway.handler()
/// let server = try await GRPCServer.bind(host: "127.0.0.1", port: 8080, group: group, services: services,
///                                        configuration: configuration)
/// ```
///
/// Answers: 200 with the response message as proto3 JSON (`application/json`); a server
/// stream as newline-delimited `{"result": ...}` objects written as the method sends them
/// (each write waits while the client is slow: backpressure reaches the handler); an error as
/// the status's HTTP code (``GatewayStatusMapping``) with `{"code", "message", "details"}`; 405
/// with `Allow` for a path served with other methods; 413 past
/// ``GatewayConfiguration/maxRequestBodySize``.
public struct GRPCGateway: Sendable {
    public let routes: GatewayRoutes
    public let backend: GatewayBackend
    public let configuration: GatewayConfiguration
    /// Request body bytes held now, across requests (``GatewayConfiguration/maxBufferedRequestBytes``).
    private let buffered: GatewayByteBudget

    public init(routes: GatewayRoutes, backend: GatewayBackend, configuration: GatewayConfiguration = GatewayConfiguration()) {
        self.routes = routes
        self.backend = backend
        self.configuration = configuration
        self.buffered = GatewayByteBudget(limit: configuration.maxBufferedRequestBytes)
    }

    /// An HTTP handler serving the gateway's routes and handing every other request to
    /// `fallback` (nil: 404 with a JSON error body).
    public func handler(fallback: HTTP2AsyncStreamDelegate.Handler? = nil) -> HTTP2AsyncStreamDelegate.Handler {
        let gateway = self
        return { request, response in
            guard try await gateway.serve(request, response) else {
                if let fallback { return try await fallback(request, response) }
                let status = GRPCStatus(.notFound, "no route for \(request.head.method) \(request.head.path)")
                try await Self.respond(response, status: 404, body: GatewayStatusMapping.errorBody(for: status))
                return
            }
        }
    }

    /// The index of the first "?" in `target`, found with memchr over its UTF-8.
    static func queryStart(_ target: String) -> String.Index? {
        var copy = target
        let offset = copy.withUTF8 { bytes -> Int? in
            guard let base = bytes.baseAddress, let found = memchr(base, Int32(UInt8(ascii: "?")), bytes.count) else { return nil }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
        return offset.map { target.utf8.index(target.utf8.startIndex, offsetBy: $0) }
    }

    /// Serves `request` if a route's path matches it (true), else leaves it alone (false).
    ///
    /// With the in-process backend, a call that outlives its deadline cancels the task serving
    /// the request (it is answered 504 all the same): call this from a task that has nothing
    /// left to do once the request is answered, as the handler's tasks are.
    public func serve(_ request: HTTP2ServerRequest, _ response: HTTP2ServerResponse) async throws -> Bool {
        let target = request.head.path
        // Split at the first "?" by bytes (a Character walk costs a grapheme check per
        // character, and UTF8View.firstIndex(of:) an iterator step per byte).
        let question = Self.queryStart(target)
        let path = target[..<(question ?? target.endIndex)]
        let query = question.map { target[target.utf8.index(after: $0)...] }
        let route: GatewayRoute
        let captures: GatewayPathCaptures
        switch routes.match(method: GatewayHTTPMethod(request.head.method), path: path) {
        case .notFound:
            return false
        case .methodNotAllowed(let allowed):
            let status = GRPCStatus(.unimplemented, "\(request.head.method) is not served for \(path); use \(allowed.map(\.description).joined(separator: ", "))")
            try await Self.respond(response, status: 405, body: GatewayStatusMapping.errorBody(for: status),
                                   extra: [HPACKHeader("allow", allowed.map(\.description).joined(separator: ", "))])
            return true
        case .found(let found, let foundCaptures):
            route = found
            captures = foundCaptures
        }
        var body: ByteBuffer?
        var held = 0
        defer { buffered.release(held) }
        if route.body != .none {
            var whole = ByteBuffer()
            for try await var chunk in request.body {
                guard whole.readableBytes + chunk.readableBytes <= configuration.maxRequestBodySize else {
                    let status = GRPCStatus(.invalidArgument, "the request body is larger than \(configuration.maxRequestBodySize) bytes")
                    try await Self.respond(response, status: 413, body: GatewayStatusMapping.errorBody(for: status))
                    return true
                }
                guard buffered.reserve(chunk.readableBytes) else {
                    let status = GRPCStatus(.resourceExhausted, "the gateway is reading too many request bodies at once; retry later")
                    try await Self.respond(response, status: 429, body: GatewayStatusMapping.errorBody(for: status))
                    return true
                }
                held += chunk.readableBytes
                whole.writeBuffer(&chunk)
            }
            body = whole
        }
        var options = GatewayCallOptions()
        options.metadata = GatewayHeaders.metadata(from: request.head.headers, forwarding: configuration.forwardedHeaders)
        if let timeout = GatewayHeaders.timeout(from: request.head.headers) ?? configuration.defaultTimeout {
            options.deadline = .now + timeout
        }
        options.userAgent = request.head.header("user-agent")
        options.tls = request.tls
        options.remoteAddress = request.remoteAddress
        options.localAddress = request.localAddress
        switch route.kind {
        case .serverStreaming:
            try await serveStream(route, captures, query, body, options, response)
        default:
            let reply: GatewayReply
            do {
                reply = try await route.calls.unary(backend, captures, query, body, options)
            } catch {
                try await Self.respond(response, status: GatewayStatusMapping.httpStatus(for: error.code),
                                       body: GatewayStatusMapping.errorBody(for: error))
                return true
            }
            try await Self.respond(response, status: 200, body: reply.body,
                                   extra: GatewayHeaders.responseFields(initial: reply.initialMetadata, trailing: reply.trailingMetadata))
        }
        return true
    }

    /// Newline-delimited JSON as the method sends it; the head goes with the first message, so
    /// a call that fails before one gets its error's HTTP status.
    private func serveStream(_ route: GatewayRoute, _ captures: GatewayPathCaptures, _ query: Substring?, _ body: ByteBuffer?,
                             _ options: GatewayCallOptions, _ response: HTTP2ServerResponse) async throws {
        let started = StreamStart(response: response)
        do {
            try await route.calls.stream(backend, captures, query, body, options) { chunk in
                try await started.headIfNeeded()
                try await response.write(chunk)
            }
            try await started.headIfNeeded()
            try await response.finish()
        } catch {
            let status = GatewayStatusMapping.status(for: error)
            if await started.isStarted {
                // Mid-stream: the last line says why it ended (grpc-gateway's framing). A client
                // that went away (the write failed) hears nothing more.
                try? await response.write(GatewayStreamFraming.errorChunk(for: status))
                try? await response.finish()
            } else {
                try await Self.respond(response, status: GatewayStatusMapping.httpStatus(for: status.code),
                                       body: GatewayStreamFraming.errorChunk(for: status))
            }
        }
    }

    static func respond(_ response: HTTP2ServerResponse, status: Int, body: ByteBuffer, extra: [HPACKHeader] = []) async throws {
        var headers = [HPACKHeader("content-type", "application/json"), HPACKHeader("content-length", String(body.readableBytes))]
        headers.append(contentsOf: extra)
        try await response.respond(HTTP2ResponseHead(status: status, headers: headers), body: body)
    }
}

/// Whether a stream's head went out (sent with its first message).
private actor StreamStart {
    let response: HTTP2ServerResponse
    private(set) var isStarted = false

    init(response: HTTP2ServerResponse) {
        self.response = response
    }

    func headIfNeeded() async throws {
        guard !isStarted else { return }
        isStarted = true
        try await response.sendHead(HTTP2ResponseHead(status: 200, headers: [HPACKHeader("content-type", "application/json")]))
    }
}

/// Bytes held across requests, limited (one lock-free counter per gateway).
final class GatewayByteBudget: Sendable {
    private let held = Atomic<Int>(0)
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes `bytes` if that stays within the limit.
    func reserve(_ bytes: Int) -> Bool {
        var current = held.load(ordering: .relaxed)
        while true {
            guard current + bytes <= limit else { return false }
            let (exchanged, original) = held.compareExchange(expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        held.subtract(bytes, ordering: .relaxed)
    }

    var current: Int { held.load(ordering: .relaxed) }
}
