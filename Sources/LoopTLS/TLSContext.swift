import CLoopTLS
import Glibc
import Synchronization

/// A TLS configuration made ready for OpenSSL: certificates and keys read and checked, trust
/// roots loaded, ALPN and verification set. Make one per server or client and share it: every
/// connection's `TLSHandler` is cut from it, and a client's context keeps the sessions it can
/// resume.
///
/// ```swift
/// let tls = try TLSContext(.server(certificateChain: .file("server.pem"), privateKey: .file("server.key")))
/// ```
///
/// - Throws: `TLSError` (`.invalidConfiguration`) naming the file or the problem: "cannot read
///   certificate chain server.pem: No such file or directory", "private key does not match
///   the certificate for localhost".
// @unchecked Sendable: the OpenSSL contexts are only read after init (SSL_new from any thread
// is safe on a context that no longer changes); the client's session cache is behind a Mutex.
public final class TLSContext: @unchecked Sendable {
    public let configuration: TLSConfiguration

    /// One SSL_CTX per certificate (servers choose by SNI); clients have one.
    let contexts: [OpaquePointer]
    /// ALPN in wire format (length-prefixed names), and the list the servers' select callback
    /// reads it through: both kept alive as long as the contexts.
    private let alpnWire: UnsafeMutableBufferPointer<UInt8>
    private let alpnList: UnsafeMutablePointer<cloop_alpn_list>
    private let sessions = Mutex<[String: CachedSession]>([:])

    /// An SSL_SESSION this context holds a reference to.
    // @unchecked Sendable: a session is immutable once stored, and only used under the Mutex.
    private struct CachedSession: @unchecked Sendable {
        let pointer: OpaquePointer
    }
    private static let maximumCachedSessions = 256
    static let tls12Ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
        + "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"
    static let tls13Ciphers = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

    public convenience init(_ configuration: TLSConfiguration) throws {
        try self.init(configuration: configuration)
    }

    public init(configuration: TLSConfiguration) throws {
        self.configuration = configuration
        var wire: [UInt8] = []
        for name in configuration.applicationProtocols {
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty, bytes.count < 256 else {
                throw TLSError(.invalidConfiguration, "ALPN protocol names must have 1 to 255 bytes: \"\(name)\"")
            }
            wire.append(UInt8(bytes.count))
            wire.append(contentsOf: bytes)
        }
        alpnWire = .allocate(capacity: max(wire.count, 1))
        _ = alpnWire.initialize(from: wire)
        let alpnLength = wire.count
        alpnList = .allocate(capacity: 1)
        alpnList.initialize(to: cloop_alpn_list(data: alpnWire.baseAddress, length: UInt32(alpnLength)))

        if configuration.role == .server && configuration.certificates.isEmpty {
            alpnWire.deallocate()
            alpnList.deallocate()
            throw TLSError(.invalidConfiguration, "a TLS server needs a certificate chain and private key")
        }
        var made: [OpaquePointer] = []
        do {
            // A server makes one context per certificate; a client one (with its first
            // certificate, if any, for mutual TLS).
            let keys = configuration.role == .server ? configuration.certificates : Array(configuration.certificates.prefix(1))
            for key in keys.isEmpty ? [nil] : keys.map({ Optional($0) }) {
                let context = try TLSContext.makeContext(configuration, certifiedKey: key)
                made.append(context)
                if alpnLength > 0 {
                    if configuration.role == .server {
                        cloop_tls_ctx_set_alpn_protocols(context, alpnList)
                    } else if SSL_CTX_set_alpn_protos(context, alpnWire.baseAddress, UInt32(alpnLength)) != 0 {
                        throw TLSError(.invalidConfiguration, "cannot set ALPN: \(TLSError.openSSLReason("unknown error"))")
                    }
                }
            }
        } catch {
            for context in made { SSL_CTX_free(context) }
            alpnWire.deallocate()
            alpnList.deallocate()
            throw error
        }
        contexts = made
        if configuration.role == .server && contexts.count > 1 {
            cloop_tls_ctx_set_servername_callback(contexts[0], selectCertificateByName,
                                                  Unmanaged.passUnretained(self).toOpaque())
        }
        if configuration.role == .client && configuration.sessionResumption {
            SSL_CTX_sess_set_new_cb(contexts[0], storeNewSession)
        }
        if configuration.role == .client && configuration.certificates.isEmpty {
            SSL_CTX_set_client_cert_cb(contexts[0], noteCertificateRequest)
        }
    }

    deinit {
        for context in contexts { SSL_CTX_free(context) }
        sessions.withLock { cache in
            for session in cache.values { SSL_SESSION_free(session.pointer) }
            cache.removeAll()
        }
        // The ALPN list is referenced by the contexts' select callback: freed after them.
        alpnList.deallocate()
        alpnWire.deallocate()
    }

    // MARK: Building a context

    private static func makeContext(_ configuration: TLSConfiguration,
                                    certifiedKey: TLSConfiguration.CertifiedKey?) throws -> OpaquePointer {
        guard let context = SSL_CTX_new(TLS_method()) else {
            throw TLSError(.invalidConfiguration, "cannot make an OpenSSL context: \(TLSError.openSSLReason("out of memory"))")
        }
        do {
            try configure(context, configuration, certifiedKey: certifiedKey)
            return context
        } catch {
            SSL_CTX_free(context)
            throw error
        }
    }

    private static func configure(_ context: OpaquePointer, _ configuration: TLSConfiguration,
                                  certifiedKey: TLSConfiguration.CertifiedKey?) throws {
        func version(_ version: TLSConfiguration.Version) -> Int32 {
            switch version {
            case .tls12: return TLS1_2_VERSION
            case .tls13: return TLS1_3_VERSION
            }
        }
        guard configuration.minimumVersion <= configuration.maximumVersion else {
            throw TLSError(.invalidConfiguration, "minimumVersion is above maximumVersion")
        }
        _ = cloop_tls_ctx_set_min_version(context, version(configuration.minimumVersion))
        _ = cloop_tls_ctx_set_max_version(context, version(configuration.maximumVersion))
        // No renegotiation (RFC 9113 §9.2.1 forbids it for HTTP/2; it is an attack surface).
        cloop_tls_ctx_set_loop_options(context, configuration.role == .server ? 1 : 0, configuration.sessionResumption ? 1 : 0)
        _ = cloop_tls_ctx_set_key_exchange_groups(context)
        // TLS 1.2: forward-secret AEAD suites only (RFC 9113 §9.2.2 forbids the others for
        // HTTP/2; RFC 7540 Appendix A lists them). TLS 1.3: AES-128-GCM first, as Go and
        // BoringSSL order them (cheaper than AES-256 with the same AES-NI, and as strong for
        // this purpose).
        _ = SSL_CTX_set_cipher_list(context, TLSContext.tls12Ciphers)
        _ = SSL_CTX_set_ciphersuites(context, TLSContext.tls13Ciphers)
        // Writes of any size go into the memory BIO in one call; the buffer may move between
        // retries (it never needs to: the memory BIO takes everything). The chain sent is the
        // one configured (leaf and intermediates from the PEM), never one OpenSSL would try to
        // build from the trust store on every handshake (nginx does the same).
        _ = cloop_tls_ctx_set_mode(context, Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER) | Int(SSL_MODE_NO_AUTO_CHAIN))

        if configuration.role == .server {
            // Resumption by tickets only (stateless, TLS 1.2 and 1.3): no server-side cache to
            // lock or to fill.
            _ = cloop_tls_ctx_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
            _ = SSL_CTX_set_num_tickets(context, configuration.sessionResumption ? 1 : 0)
            let id: [UInt8] = Array("loop".utf8)
            _ = SSL_CTX_set_session_id_context(context, id, UInt32(id.count))
        } else {
            _ = cloop_tls_ctx_set_session_cache_mode(
                context, configuration.sessionResumption ? Int(SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE) : Int(SSL_SESS_CACHE_OFF))
        }

        if let certifiedKey {
            try useCertificate(certifiedKey, in: context)
        }

        // Trust: a client always verifies unless told not to; a server only when it asks for
        // client certificates.
        let verifies: Bool
        var mode: Int32 = SSL_VERIFY_NONE
        switch configuration.role {
        case .client:
            verifies = configuration.certificateVerification != .none
            if verifies { mode = SSL_VERIFY_PEER }
        case .server:
            switch configuration.clientCertificates {
            case .none: verifies = false
            case .optional: verifies = true; mode = SSL_VERIFY_PEER
            case .required: verifies = true; mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
            }
        }
        if verifies {
            try loadTrustRoots(configuration.trustRoots, into: context, announceToClients: configuration.role == .server)
        }
        SSL_CTX_set_verify(context, mode, nil)
    }

    private static func useCertificate(_ key: TLSConfiguration.CertifiedKey, in context: OpaquePointer) throws {
        let chainPEM = try read(key.certificateChain, what: "certificate chain")
        let keyPEM = try read(key.privateKey, what: "private key")
        let chainName = describe(key.certificateChain)
        var leafNames = ""
        let count = try forEachCertificate(in: chainPEM) { index, certificate in
            if index == 0 {
                leafNames = TLSCertificate(certificate).names.joined(separator: ", ")
                guard SSL_CTX_use_certificate(context, certificate) == 1 else {
                    throw TLSError(.invalidConfiguration, "cannot use the certificate in \(chainName): \(TLSError.openSSLReason("rejected"))")
                }
            } else if cloop_tls_ctx_add_chain_certificate(context, certificate) != 1 {
                throw TLSError(.invalidConfiguration, "cannot add certificate \(index + 1) of \(chainName) to the chain")
            }
        }
        guard count > 0 else { throw TLSError(.invalidConfiguration, "no PEM certificate in \(chainName)") }
        let privateKey = keyPEM.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { cloop_tls_read_private_key($0.baseAddress, $0.count) }
        }
        guard let privateKey else {
            _ = TLSError.drainOpenSSLErrors()
            throw TLSError(.invalidConfiguration, "no PEM private key in \(describe(key.privateKey))")
        }
        defer { EVP_PKEY_free(privateKey) }
        guard SSL_CTX_use_PrivateKey(context, privateKey) == 1, SSL_CTX_check_private_key(context) == 1 else {
            _ = TLSError.drainOpenSSLErrors()
            throw TLSError(.invalidConfiguration,
                           "the private key in \(describe(key.privateKey)) does not match the certificate for \(leafNames) in \(chainName)")
        }
    }

    private static func loadTrustRoots(_ roots: TLSConfiguration.TrustRoots, into context: OpaquePointer,
                                       announceToClients: Bool) throws {
        switch roots {
        case .system:
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw TLSError(.invalidConfiguration, "cannot load the system trust store: \(TLSError.openSSLReason("unknown error"))")
            }
        case .pem(let source):
            let pem = try read(source, what: "trust roots")
            let store = SSL_CTX_get_cert_store(context)
            let count = try forEachCertificate(in: pem) { _, certificate in
                _ = X509_STORE_add_cert(store, certificate)
                if announceToClients { _ = SSL_CTX_add_client_CA(context, certificate) }
            }
            if count == 0 {
                throw TLSError(.invalidConfiguration, "no PEM certificate in the trust roots \(describe(source))")
            }
        }
    }

    /// Hands each certificate of a PEM text to `body`, in order (each freed after), and
    /// returns how many there were.
    private static func forEachCertificate(in pem: [UInt8], _ body: (Int, OpaquePointer) throws -> Void) throws -> Int {
        try pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                throw TLSError(.invalidConfiguration, "cannot read PEM text: out of memory")
            }
            defer { BIO_free(bio) }
            var index = 0
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                defer { X509_free(certificate) }
                try body(index, certificate)
                index += 1
            }
            _ = TLSError.drainOpenSSLErrors()  // The end of the PEM text is queued as an error.
            return index
        }
    }

    private static func describe(_ source: TLSConfiguration.PEMSource) -> String {
        switch source {
        case .file(let path): return path
        case .bytes: return "the PEM bytes given"
        }
    }

    /// The PEM text of a source; a file is read whole.
    static func read(_ source: TLSConfiguration.PEMSource, what: String) throws -> [UInt8] {
        switch source {
        case .bytes(let bytes):
            return bytes
        case .file(let path):
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw TLSError(.invalidConfiguration, "cannot read \(what) \(path): \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 16384)
            while true {
                let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw TLSError(.invalidConfiguration, "cannot read \(what) \(path): \(String(cString: strerror(errno)))")
                }
                if count == 0 { break }
                bytes.append(contentsOf: chunk[0..<count])
                if bytes.count > 16 << 20 {
                    throw TLSError(.invalidConfiguration, "\(what) \(path) is larger than 16 MiB")
                }
            }
            return bytes
        }
    }

    // MARK: Connections

    /// A new connection's OpenSSL state (server: the default certificate; SNI may switch it).
    func makeSSL() -> OpaquePointer? {
        SSL_new(contexts[0])
    }

    /// The context whose certificate is for `name` (SNI), if another than the default.
    fileprivate func context(forServerName name: String) -> OpaquePointer? {
        for context in contexts.dropFirst() {
            guard let certificate = SSL_CTX_get0_certificate(context) else { continue }
            if cloop_tls_certificate_matches_host(certificate, name) == 1 { return context }
        }
        return nil
    }

    // MARK: Client sessions

    /// Puts the last session for `key` (server name and port) on a new client connection and
    /// forgets it: a TLS 1.3 ticket is offered once (RFC 8446 Appendix C.4: a ticket reused
    /// on several connections links them); the server's next ticket takes its place.
    func resumeSession(for key: String, on ssl: OpaquePointer) {
        guard let session = sessions.withLock({ $0.removeValue(forKey: key) }) else { return }
        _ = SSL_set_session(ssl, session.pointer)  // Takes its own reference.
        SSL_SESSION_free(session.pointer)
    }

    /// Keeps `session` (the caller's reference) as the one to offer next time to `key`.
    fileprivate func store(_ session: OpaquePointer, for key: String) {
        let entry = CachedSession(pointer: session)
        sessions.withLock { cache in
            if let old = cache.updateValue(entry, forKey: key) {
                SSL_SESSION_free(old.pointer)
            } else if cache.count > TLSContext.maximumCachedSessions, let victim = cache.keys.first(where: { $0 != key }) {
                if let dropped = cache.removeValue(forKey: victim) { SSL_SESSION_free(dropped.pointer) }
            }
        }
    }

    /// Sessions kept (for tests).
    var cachedSessionCount: Int { sessions.withLock { $0.count } }
}

/// SNI on a server with several certificates: switch the connection to the context whose
/// certificate is for the name asked, or keep the default.
private let selectCertificateByName: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?) -> Int32 = { ssl, _, argument in
    guard let ssl, let argument, let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else {
        return SSL_TLSEXT_ERR_OK
    }
    let owner = Unmanaged<TLSContext>.fromOpaque(argument).takeUnretainedValue()
    if let chosen = owner.context(forServerName: String(cString: name)) {
        _ = SSL_set_SSL_CTX(ssl, chosen)
    }
    return SSL_TLSEXT_ERR_OK
}

/// A client's new session (after the handshake in TLS 1.2, with each ticket in TLS 1.3): kept
/// by the context for the next connection to the same server. Returning 1 keeps the reference.
private let storeNewSession: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32 = { ssl, session in
    guard let ssl, let session, let engine = cloop_tls_get_app_data(ssl) else { return 0 }
    let owner = Unmanaged<TLSEngine>.fromOpaque(engine).takeUnretainedValue()
    guard let key = owner.sessionKey else { return 0 }
    owner.context.store(session, for: key)
    return 1
}

/// A client without a certificate asked for one (mutual TLS): noted, so that a server that then
/// closes the connection is reported as refusing us for it. Returning 0 sends no certificate.
private let noteCertificateRequest: @convention(c) (OpaquePointer?, UnsafeMutablePointer<OpaquePointer?>?,
                                                    UnsafeMutablePointer<OpaquePointer?>?) -> Int32 = { ssl, _, _ in
    guard let ssl, let engine = cloop_tls_get_app_data(ssl) else { return 0 }
    Unmanaged<TLSEngine>.fromOpaque(engine).takeUnretainedValue().serverAskedForCertificate = true
    return 0
}
