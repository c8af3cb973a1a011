/// The calls the server aborts in the proxy tests: each asks for status 7
/// (PERMISSION_DENIED) with `message` in `response_status`, so our TestService ends it with
/// that status before any response message.
enum AbortedCallKind: String, CaseIterable, Sendable, CustomStringConvertible {
    /// FullDuplexCall: one request, the request side left open (no half-close), then the
    /// status. The server ends the response while the request is still open: the stream-end
    /// rule (docs/architecture.md) is what a proxy must carry through.
    case bidi
    /// StreamingOutputCall: the one request, then the status (trailers only).
    case serverStreaming = "server-streaming"

    var description: String { rawValue }

    /// The message the server is asked to send with the status.
    static let message = "aborted by the server (proxy test)"
}
