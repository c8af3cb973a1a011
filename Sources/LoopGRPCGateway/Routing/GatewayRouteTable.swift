/// Routes by HTTP method and path template, and the answer for a request: the route with
/// its captures, or why there is none (405 with the methods that would match, or 404).
///
/// Precedence is decided when routes are added, not by the order they were added in: for
/// one method, templates are tried from the most specific, segment by segment a literal
/// before `*` and `*` before `**`, a shorter template before a longer one that only adds a
/// trailing `**`, and a template with a verb before the same one without. Two templates of
/// the same shape for one method (`/v1/{a}` and `/v1/{b}`) are refused: the second could
/// never be chosen. Templates that match disjoint paths keep the order they were added in.
///
/// ```swift
/// var table = GatewayRouteTable<String>()
/// try table.add(.get, GatewayPathTemplate("/v1/{name}"), "get")
/// try table.add(.get, GatewayPathTemplate("/v1/me"), "me")
/// table.match(method: .get, path: "/v1/me")       // .found("me", ...): the literal wins
/// table.match(method: .post, path: "/v1/me")      // .methodNotAllowed(allowed: [.get])
/// table.match(method: .get, path: "/v2/me")       // .notFound
/// ```
public struct GatewayRouteTable<Route: Sendable>: Sendable {
    /// The outcome of a lookup.
    public enum Match: Sendable {
        /// The route for the method and path, with what its template's variables captured.
        case found(Route, GatewayPathCaptures)
        /// The path has routes, but not for this method: answer 405 with `Allow` listing
        /// `allowed` (sorted).
        case methodNotAllowed(allowed: [GatewayHTTPMethod])
        /// No route has this path: answer 404.
        case notFound
    }

    /// A route of the table, as added.
    public struct Entry: Sendable {
        public let method: GatewayHTTPMethod
        public let template: GatewayPathTemplate
        public let route: Route
    }

    /// One method's entries, most specific first.
    private struct Bucket: Sendable {
        let method: GatewayHTTPMethod
        var entries: [Entry]
    }

    private var buckets: [Bucket] = []

    public init() {}

    /// Every route, method by method (in the order methods were first added), each method's
    /// routes in the order they are tried.
    public var entries: [Entry] { buckets.flatMap(\.entries) }

    /// Adds a route; throws ``GatewayRouteError`` when the method already has a template of
    /// the same shape.
    public mutating func add(_ method: GatewayHTTPMethod, _ template: GatewayPathTemplate, _ route: Route) throws(GatewayRouteError) {
        let entry = Entry(method: method, template: template, route: route)
        guard let bucket = buckets.firstIndex(where: { $0.method == method }) else {
            buckets.append(Bucket(method: method, entries: [entry]))
            return
        }
        if let existing = buckets[bucket].entries.first(where: { $0.template.hasSameShape(as: template) }) {
            throw GatewayRouteError("\(method) \(template) conflicts with \(method) \(existing.template): both match the same paths")
        }
        let position = buckets[bucket].entries.firstIndex { template.precedes($0.template) } ?? buckets[bucket].entries.endIndex
        buckets[bucket].entries.insert(entry, at: position)
    }

    /// The route for `method` and `path` (the request target's path, without its query,
    /// still percent-encoded).
    public func match(method: GatewayHTTPMethod, path: String) -> Match {
        match(method: method, path: path[...])
    }

    /// The route for `method` and `path`.
    public func match(method: GatewayHTTPMethod, path: Substring) -> Match {
        if let bucket = buckets.firstIndex(where: { $0.method == method }) {
            // By index: copying each entry out (its template's arrays, its route) costs more
            // than trying the template.
            let entries = buckets[bucket].entries
            for index in entries.indices {
                if let captures = entries[index].template.match(path) { return .found(entries[index].route, captures) }
            }
        }
        var allowed: [GatewayHTTPMethod] = []
        for bucket in buckets where bucket.method != method {
            if bucket.entries.contains(where: { $0.template.matches(path) }) { allowed.append(bucket.method) }
        }
        guard !allowed.isEmpty else { return .notFound }
        return .methodNotAllowed(allowed: allowed.sorted { $0.rawValue < $1.rawValue })
    }
}

