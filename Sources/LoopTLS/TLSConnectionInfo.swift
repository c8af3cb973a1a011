import CLoopTLS

/// A peer's certificate as the application sees it: its DER bytes and the fields people
/// authorise on.
///
/// ```swift
/// if let certificate = context.tls?.peerCertificate, certificate.names.contains("client.loop.test") { ... }
/// ```
public struct TLSCertificate: Sendable, Equatable {
    /// The certificate, DER-encoded.
    public let der: [UInt8]
    /// The subject, RFC 2253 ("CN=loop-test-client,O=Loop").
    public let subject: String
    /// The subjectAltName's DNS names and IP addresses, each as it is (the common name only
    /// when the certificate has no subjectAltName).
    public let names: [String]
    /// When it expires, in seconds since 1970.
    public let notAfter: Int64

    init(_ certificate: OpaquePointer) {
        var derPointer: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(certificate, &derPointer)
        if length > 0, let derPointer {
            der = Array(UnsafeBufferPointer(start: derPointer, count: Int(length)))
            CRYPTO_free(derPointer, #fileID, #line)
        } else {
            der = []
        }
        subject = TLSCertificate.text(capacity: 1024) { cloop_tls_certificate_subject(certificate, $0, $1) }
        var collected: [String] = []
        withUnsafeMutablePointer(to: &collected) { list in
            cloop_tls_certificate_each_name(certificate, { name, length, context in
                guard let name, let context else { return }
                let text = String(decoding: UnsafeRawBufferPointer(start: name, count: length), as: UTF8.self)
                context.assumingMemoryBound(to: [String].self).pointee.append(text)
            }, list)
        }
        names = collected
        notAfter = cloop_tls_certificate_not_after(certificate)
    }

    static func text(capacity: Int, _ body: (UnsafeMutablePointer<CChar>, Int) -> Int) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer in
            let length = body(buffer.baseAddress!, capacity)
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress!, count: length), as: UTF8.self)
        }
    }
}

/// What a finished handshake agreed on.
///
/// ```swift
/// print(info.negotiatedProtocol ?? "no ALPN", info.version, info.cipher)   // h2 TLSv1.3 TLS_AES_128_GCM_SHA256
/// ```
public struct TLSConnectionInfo: Sendable, Equatable {
    /// The ALPN protocol selected (`h2`), or nil when the peers did not use ALPN.
    public let negotiatedProtocol: String?
    /// "TLSv1.3" or "TLSv1.2".
    public let version: String
    /// The cipher suite (OpenSSL's name).
    public let cipher: String
    /// The server name the client asked for (SNI), if any.
    public let serverName: String?
    /// The peer's certificate: on a client, the server's; on a server, the client's when it
    /// sent one (mutual TLS).
    public let peerCertificate: TLSCertificate?
    /// Whether the session was resumed from an earlier one (a ticket), skipping the full handshake.
    public let sessionReused: Bool

    public init(negotiatedProtocol: String?, version: String, cipher: String, serverName: String?,
                peerCertificate: TLSCertificate?, sessionReused: Bool) {
        self.negotiatedProtocol = negotiatedProtocol
        self.version = version
        self.cipher = cipher
        self.serverName = serverName
        self.peerCertificate = peerCertificate
        self.sessionReused = sessionReused
    }
}
