/// A message an encoder refuses to write, with a reason naming the rule (RFC 9112 / 9110
/// section): a CR, LF or NUL where it would split the request, a missing Host, framing
/// that does not add up. Nothing was written for the call that threw.
///
/// ```swift
/// do {
///     try encoder.writeHead(head, into: &out)
/// } catch {
///     print(error.reason)   // "an HTTP/1.1 request without Host (RFC 9112 §3.2)"
/// }
/// ```
public struct HTTP1EncodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong, naming the rule.
    public let reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { "HTTP1EncodeError: \(reason)" }
}
