import CLoopTLS

/// Why a TLS context could not be made or a connection's handshake failed, in words a person
/// can act on ("certificate verify failed: self-signed certificate", "hostname mismatch:
/// certificate is for a.example, not b.example").
///
/// ```swift
/// do {
///     _ = try await HTTP2Client.connect(host: "localhost", port: 8443, group: group, tls: tls)
/// } catch let error as TLSError where error.kind == .certificateVerifyFailed {
///     print(error)   // certificate verify failed: certificate has expired
/// }
/// ```
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure.
    public enum Kind: Sendable, Equatable {
        /// The configuration is unusable (a file missing, a key that does not match its
        /// certificate, no certificate on a server).
        case invalidConfiguration
        /// The peer's certificate did not verify (untrusted, expired, self-signed, ...).
        case certificateVerifyFailed
        /// The server's certificate is not for the name dialled.
        case hostnameMismatch
        /// No ALPN protocol in common.
        case noCommonApplicationProtocol
        /// The peer ended the handshake with an alert (it refused us).
        case alertReceived
        /// The handshake did not finish within `TLSConfiguration.handshakeTimeout`.
        case handshakeTimeout
        /// The peer's bytes are not TLS, or break the protocol.
        case protocolError
        /// The connection closed before the handshake finished.
        case closedDuringHandshake
        /// The server asked for a client certificate, none was configured, and it closed the
        /// connection before sending anything (TLS 1.3 servers refuse after the handshake).
        case clientCertificateRequired
    }

    public let kind: Kind
    /// The whole message.
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The OpenSSL errors queued on this thread, most recent reason last, and the queue
    /// cleared: "certificate verify failed", "wrong version number", "tlsv1 alert unknown ca".
    static func drainOpenSSLErrors() -> [String] {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if let reason = ERR_reason_error_string(code) {
                reasons.append(String(cString: reason))
            } else {
                reasons.append("OpenSSL error \(code)")
            }
        }
        return reasons
    }

    /// The latest OpenSSL error as text, for configuration failures.
    static func openSSLReason(_ fallback: String) -> String {
        drainOpenSSLErrors().last ?? fallback
    }
}
