/// Why a method's `google.api.http` option cannot become routes: bytes that are not an
/// `HttpRule`, or a rule the gateway cannot serve (a custom HTTP method, nested additional
/// bindings, a streaming request). protoc-gen-loop-grpc reports it with the method's name.
///
/// ```swift
/// do {
///     _ = try GRPCHTTPRuleDecoder.rule(methodOptions: bytes, kind: .unary)
/// } catch {
///     print("loop.demo.v1.Greetings.SayHello: \(error)")  // ...: google.api.http: custom method "HEAD" ...
/// }
/// ```
public struct GRPCHTTPRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, starting with `google.api.http:`.
    public let description: String

    /// An error saying `problem`.
    public init(_ problem: String) {
        self.description = "google.api.http: " + problem
    }
}
