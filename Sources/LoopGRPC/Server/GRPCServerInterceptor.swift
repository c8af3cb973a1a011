/// Runs around every call a server handles: to check credentials, log, time or enrich
/// calls. Throw a `GRPCStatus` to refuse a call before its handler runs. What `next` returns
/// or throws is not always the status the call ends with (the response is sent after it,
/// the deadline or the client's reset can end the call first): register
/// ``GRPCServerContext/onFinish(_:)`` to be told the status the client got.
///
/// ```swift
/// struct RequireToken: GRPCServerInterceptor {
///     func intercept<Result: Sendable>(context: GRPCServerContext, next: @Sendable () async throws -> Result) async throws -> Result {
///         guard context.requestMetadata["authorization"] == "Bearer secret" else {
///             throw GRPCStatus(.unauthenticated, "missing or wrong token")
///         }
///         return try await next()
///     }
/// }
/// ```
public protocol GRPCServerInterceptor: Sendable {
    // `@concurrent`: the closure's type stays what conforming types declare in modules built
    // without NonisolatedNonsendingByDefault (this package enables it; see Package.swift).
    func intercept<Result: Sendable>(
        context: GRPCServerContext, next: @concurrent @Sendable () async throws -> Result
    ) async throws -> Result
}

extension Array where Element == any GRPCServerInterceptor {
    /// Runs `handler` inside the interceptors, the first one outermost.
    func run<Result: Sendable>(
        context: GRPCServerContext, from index: Int = 0, _ handler: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        guard index < count else { return try await handler() }
        let rest = self
        return try await self[index].intercept(context: context) {
            try await rest.run(context: context, from: index + 1, handler)
        }
    }
}
