import Testing
@testable import LoopGRPCGateway

/// GatewayRouteTable: which route a request gets where templates overlap (decided by
/// specificity, never by the order routes were added), and 405 versus 404.
@Suite struct GatewayRouteTableTests {
    typealias Table = GatewayRouteTable<String>

    func table(_ routes: [(GatewayHTTPMethod, String, String)]) throws -> Table {
        var table = Table()
        for (method, template, name) in routes { try table.add(method, GatewayPathTemplate(template), name) }
        return table
    }

    /// The route's name, or "405 A,B" / "404".
    func outcome(_ table: Table, _ method: GatewayHTTPMethod, _ path: String) -> String {
        switch table.match(method: method, path: path) {
        case .found(let route, _): return route
        case .methodNotAllowed(let allowed): return "405 " + allowed.map(\.rawValue).joined(separator: ",")
        case .notFound: return "404"
        }
    }

    /// Both orders of adding give the same table.
    func bothOrders(_ routes: [(GatewayHTTPMethod, String, String)], check: (Table) -> Void) throws {
        check(try table(routes))
        check(try table(routes.reversed()))
    }

    /// Precedence: a literal segment before a variable.
    @Test func literalBeforeVariable() throws {
        try bothOrders([(.get, "/v1/{name}", "byName"), (.get, "/v1/me", "me")]) { table in
            #expect(outcome(table, .get, "/v1/me") == "me")
            #expect(outcome(table, .get, "/v1/ada") == "byName")
        }
    }

    /// Precedence: `*` before `**`, compared segment by segment from the left.
    @Test func wildcardBeforeDeepWildcard() throws {
        try bothOrders([(.get, "/v1/{path=**}", "deep"), (.get, "/v1/{name}", "one"), (.get, "/v1/{a}/x", "a-x")]) { table in
            #expect(outcome(table, .get, "/v1/a") == "one")
            #expect(outcome(table, .get, "/v1/a/x") == "a-x")
            #expect(outcome(table, .get, "/v1/a/b") == "deep")
            #expect(outcome(table, .get, "/v1") == "deep")
        }
    }

    /// Precedence: the leftmost difference decides (`/a/b/*` before `/a/*/c`).
    @Test func leftmostDifferenceDecides() throws {
        try bothOrders([(.get, "/a/*/c", "star-c"), (.get, "/a/b/*", "b-star")]) { table in
            #expect(outcome(table, .get, "/a/b/c") == "b-star")
            #expect(outcome(table, .get, "/a/x/c") == "star-c")
        }
    }

    /// Precedence: a shorter template before a longer one whose extra segment is a `**`
    /// matching nothing.
    @Test func shorterBeforeTrailingDeepWildcard() throws {
        try bothOrders([(.get, "/v1/*/**", "longer"), (.get, "/v1/*", "shorter")]) { table in
            #expect(outcome(table, .get, "/v1/a") == "shorter")
            #expect(outcome(table, .get, "/v1/a/b") == "longer")
        }
    }

    /// Precedence: a template with a verb before the same shape without one, so
    /// `/v1/op:cancel` reaches the custom method rather than `{name}` = "op:cancel".
    @Test func verbBeforeNoVerb() throws {
        try bothOrders([(.post, "/v1/{name}", "update"), (.post, "/v1/{name}:cancel", "cancel")]) { table in
            #expect(outcome(table, .post, "/v1/op:cancel") == "cancel")
            #expect(outcome(table, .post, "/v1/op") == "update")
        }
    }

    /// Two templates of the same shape for one method are refused; for two methods they
    /// are two routes.
    @Test func sameShapeSameMethodIsRefused() throws {
        var table = try table([(.get, "/v1/{a}", "a")])
        #expect(throws: GatewayRouteError("GET /v1/{b} conflicts with GET /v1/{a}: both match the same paths")) {
            try table.add(.get, GatewayPathTemplate("/v1/{b}"), "b")
        }
        #expect(throws: GatewayRouteError("GET /v1/* conflicts with GET /v1/{a}: both match the same paths")) {
            try table.add(.get, GatewayPathTemplate("/v1/*"), "star")
        }
        try table.add(.post, GatewayPathTemplate("/v1/{b}"), "b")
        try table.add(.get, GatewayPathTemplate("/v1/{a}:verb"), "verb")
        #expect(table.entries.map(\.route) == ["verb", "a", "b"])
    }

    /// A path that exists for other methods is 405 with those methods (RFC 9110 §15.5.6:
    /// the Allow header), sorted; a path no route matches is 404.
    @Test func methodNotAllowedListsTheOtherMethods() throws {
        let table = try table([(.get, "/v1/x", "get"), (.post, "/v1/{n}", "post"), (.delete, "/v1/{n}", "delete"),
                               (.get, "/v2/{n}", "v2")])
        #expect(outcome(table, .put, "/v1/x") == "405 DELETE,GET,POST")
        #expect(outcome(table, .get, "/v1/y") == "405 DELETE,POST")
        #expect(outcome(table, .get, "/v3/y") == "404")
        #expect(outcome(table, "PURGE", "/v2/y") == "405 GET")
        #expect(outcome(Table(), .get, "/") == "404")
    }

    /// Methods are case-sensitive (RFC 9110 §9.1).
    @Test func methodsAreCaseSensitive() throws {
        let table = try table([(.get, "/v1/x", "get")])
        #expect(outcome(table, "get", "/v1/x") == "405 GET")
    }
}
