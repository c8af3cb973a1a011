import CLoopTLS
import Glibc
import Loop

/// One connection's TLS state over OpenSSL memory BIOs, with no I/O: ciphertext from the peer
/// goes in (`receive`), plaintext comes out (`read`); plaintext to send goes in (`write`),
/// ciphertext to put on the wire comes out (`takeOutput`). The reactor owns the socket;
/// `TLSHandler` carries bytes between the two.
///
/// ```
///   peer ──ciphertext──▶ receive ─▶ [rbio] ─▶ SSL ─▶ read ──plaintext──▶ application
///   peer ◀─ciphertext── takeOutput ◀─ [wbio] ◀─ SSL ◀─ write ◀─plaintext── application
/// ```
///
/// Memory BIOs keep their buffers once grown, and OpenSSL keeps its record buffers, so a warm
/// connection allocates nothing per record.
final class TLSEngine {
    let context: TLSContext
    let role: TLSConfiguration.Role
    private let ssl: OpaquePointer
    /// Ciphertext from the peer, read by OpenSSL.
    private let networkIn: OpaquePointer
    /// Ciphertext OpenSSL wrote, for the wire.
    private let networkOut: OpaquePointer
    /// For a client: the server name and port its sessions are kept under.
    let sessionKey: String?
    /// For a client: the name verified against the server's certificate.
    private let expectedName: String?
    /// For a client without a certificate: the server asked for one.
    var serverAskedForCertificate = false

    enum HandshakeResult: Equatable {
        case complete
        case needMoreData
        case failed(TLSError)
    }

    enum ReadResult: Equatable {
        /// Plaintext was appended; call again for more.
        case bufferFull
        /// Everything received was decrypted.
        case needMoreData
        /// The peer sent close_notify: it sends nothing more.
        case closeNotify
        case failed(TLSError)
    }

    /// - Parameters:
    ///   - serverName: for a client, the host dialled (or `serverHostOverride`): sent as SNI
    ///     when it is a name, and verified against the certificate.
    ///   - port: for a client, the port dialled (part of the session cache key).
    init(context: TLSContext, serverName: String? = nil, port: Int = 0) throws {
        self.context = context
        self.role = context.configuration.role
        guard let ssl = context.makeSSL() else {
            throw TLSError(.invalidConfiguration, "cannot make a TLS connection: \(TLSError.openSSLReason("out of memory"))")
        }
        guard let networkIn = BIO_new(BIO_s_mem()), let networkOut = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError(.invalidConfiguration, "cannot make TLS buffers: out of memory")
        }
        // An empty memory BIO reports "retry" instead of end-of-file: more may come.
        _ = BIO_ctrl(networkIn, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nil)
        _ = BIO_ctrl(networkOut, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nil)
        SSL_set_bio(ssl, networkIn, networkOut)  // The SSL owns both from here.
        self.ssl = ssl
        self.networkIn = networkIn
        self.networkOut = networkOut

        let configuration = context.configuration
        if role == .client {
            let name = configuration.serverHostOverride ?? serverName
            expectedName = name
            sessionKey = name.map { "\($0):\(port)" }
            SSL_set_connect_state(ssl)
            // Every property is set: if this throws, deinit frees the SSL.
            try TLSEngine.setServerName(name, on: ssl, verify: configuration.certificateVerification == .fullVerification)
            if configuration.sessionResumption, let sessionKey {
                context.resumeSession(for: sessionKey, on: ssl)
            }
        } else {
            expectedName = nil
            sessionKey = nil
            SSL_set_accept_state(ssl)
        }
        _ = cloop_tls_set_app_data(ssl, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        SSL_free(ssl)
    }

    /// Sends `name` as SNI when it is a host name (RFC 6066 §3: never a literal address) and,
    /// with `verify`, has OpenSSL check it against the certificate: DNS names (wildcards in
    /// the leftmost label only) or IP addresses. Full verification without a name, or with one
    /// OpenSSL cannot check, is refused rather than quietly checking less.
    private static func setServerName(_ name: String?, on ssl: OpaquePointer, verify: Bool) throws {
        guard let name, !name.isEmpty else {
            if verify {
                throw TLSError(.invalidConfiguration, "full certificate verification needs the server's name: "
                               + "connect by host name or set serverHostOverride")
            }
            return
        }
        if isIPAddress(name) {
            if verify && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) != 1 {
                throw TLSError(.invalidConfiguration, "cannot verify the server's address \(name)")
            }
            return
        }
        guard name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") && $0 != UInt8(ascii: "/")
                                     && $0 != UInt8(ascii: "[") && $0 != UInt8(ascii: "]") && $0 != UInt8(ascii: "%") }) else {
            throw TLSError(.invalidConfiguration, "\"\(name)\" is neither a host name nor an IP address (no port, brackets or zone here)")
        }
        guard cloop_tls_set_server_name(ssl, name) == 1 else {
            throw TLSError(.invalidConfiguration, "cannot send \(name) as the server name: \(TLSError.openSSLReason("rejected"))")
        }
        if verify {
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            guard SSL_set1_host(ssl, name) == 1 else {
                throw TLSError(.invalidConfiguration, "cannot verify the server's name \(name): \(TLSError.openSSLReason("rejected"))")
            }
        }
    }

    /// A literal IPv4 or IPv6 address (as inet_pton reads them).
    static func isIPAddress(_ name: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, name, &address) == 1 || inet_pton(AF_INET6, name, &address) == 1
    }

    // MARK: Bytes in

    /// Ciphertext received since the last application data, once the handshake finished.
    private var bytesWithoutData = 0
    /// Past this, the peer is sending records that carry nothing (KeyUpdate requests, each of
    /// which OpenSSL answers; warning alerts): a flood, not a conversation. Larger than any
    /// record, so a record split across reads never counts against it.
    static let maximumBytesWithoutData = 64 * 1024
    /// Application data was read on this connection.
    private(set) var hasReadData = false

    /// Hands OpenSSL ciphertext from the peer.
    func receive(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            guard bytes.count > 0 else { return }
            if isHandshakeComplete { bytesWithoutData += bytes.count }
            _ = BIO_write(networkIn, bytes.baseAddress, Int32(bytes.count))
        }
    }

    /// Moves the handshake on with what was received; its messages for the peer wait in the
    /// output.
    func handshake() -> HandshakeResult {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .complete }
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .needMoreData
        case SSL_ERROR_ZERO_RETURN:
            ERR_clear_error()
            return .failed(TLSError(.closedDuringHandshake, "the peer closed the connection during the TLS handshake (close_notify)"))
        default:
            return .failed(handshakeError(code))
        }
    }

    var isHandshakeComplete: Bool { SSL_is_init_finished(ssl) == 1 }

    /// Decrypts into `buffer`'s writable bytes (as many as fit).
    func read(into buffer: inout ByteBuffer) -> ReadResult {
        ERR_clear_error()
        while buffer.writableBytes > 0 {
            var count = 0
            let ok = buffer.withUnsafeMutableWritableBytes { raw in
                SSL_read_ex(ssl, raw.baseAddress, raw.count, &count)
            }
            if ok == 1 {
                buffer.moveWriterIndex(forwardBy: count)
                bytesWithoutData = 0
                hasReadData = true
                continue
            }
            let code = SSL_get_error(ssl, ok)
            switch code {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                if bytesWithoutData > TLSEngine.maximumBytesWithoutData {
                    return .failed(TLSError(.protocolError, "the peer sent \(bytesWithoutData) bytes of TLS records without "
                                            + "application data (a KeyUpdate or alert flood)"))
                }
                return .needMoreData
            case SSL_ERROR_ZERO_RETURN:
                return .closeNotify
            default:
                let reason = TLSError.drainOpenSSLErrors().last ?? "code \(code)"
                // TLS 1.3: a server that refuses the client's certificate says so after the
                // client's side of the handshake finished, with an alert.
                if reason.contains("alert") {
                    return .failed(TLSError(.alertReceived, "peer ended the connection: \(reason)"))
                }
                return .failed(TLSError(.protocolError, "TLS record error: \(reason)"))
            }
        }
        return .bufferFull
    }

    // MARK: Bytes out

    /// Encrypts plaintext into the output (as records of up to 16 KiB).
    func write(_ bytes: UnsafeRawBufferPointer) -> TLSError? {
        guard bytes.count > 0 else { return nil }
        ERR_clear_error()
        var written = 0
        let result = SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &written)
        if result == 1 && written == bytes.count { return nil }
        let code = SSL_get_error(ssl, result)
        let reasons = TLSError.drainOpenSSLErrors()
        return TLSError(.protocolError, "TLS write failed: \(reasons.last ?? "OpenSSL error \(code)")")
    }

    /// Ciphertext waiting to go out.
    var outputBytes: Int { Int(BIO_ctrl_pending(networkOut)) }

    /// Appends the waiting ciphertext to `buffer`.
    func takeOutput(into buffer: inout ByteBuffer) {
        let pending = outputBytes
        guard pending > 0 else { return }
        buffer.reserveCapacity(minimumWritableBytes: pending)
        let read = buffer.withUnsafeMutableWritableBytes { raw in
            BIO_read(networkOut, raw.baseAddress, Int32(pending))
        }
        if read > 0 { buffer.moveWriterIndex(forwardBy: Int(read)) }
    }

    /// Queues a TLS 1.3 KeyUpdate (RFC 8446 §4.6.3), asking the peer to update its keys too
    /// when `requestPeerUpdate`; it leaves with the next output.
    func updateKeys(requestPeerUpdate: Bool) -> Bool {
        SSL_key_update(ssl, requestPeerUpdate ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED) == 1
            && SSL_do_handshake(ssl) == 1
    }

    /// For a client without a certificate whose server asked for one and closes before
    /// sending any data: the reason, once (TLS 1.3 servers refuse after the handshake, with an
    /// alert or, like grpcio, without).
    func refusalForMissingCertificate() -> TLSError? {
        guard role == .client, isHandshakeComplete, !hasReadData, serverAskedForCertificate else { return nil }
        serverAskedForCertificate = false
        return TLSError(.clientCertificateRequired,
                        "the server asked for a client certificate, none is configured, and it closed the connection")
    }

    /// Queues close_notify (RFC 8446 §6.1): we send nothing more.
    func shutdown() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    // MARK: What was agreed

    func connectionInfo() -> TLSConnectionInfo {
        var protocolPointer: UnsafePointer<UInt8>?
        var protocolLength: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &protocolPointer, &protocolLength)
        let negotiated = protocolPointer.map {
            String(decoding: UnsafeBufferPointer(start: $0, count: Int(protocolLength)), as: UTF8.self)
        }
        let version = String(cString: SSL_get_version(ssl))
        let cipher = SSL_get_current_cipher(ssl).map { String(cString: SSL_CIPHER_get_name($0)) } ?? ""
        let serverName = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        let peer = SSL_get0_peer_certificate(ssl).map { TLSCertificate($0) }
        return TLSConnectionInfo(negotiatedProtocol: negotiated, version: version, cipher: cipher, serverName: serverName,
                                 peerCertificate: peer, sessionReused: SSL_session_reused(ssl) == 1)
    }

    // MARK: Errors

    private func handshakeError(_ code: Int32) -> TLSError {
        let reasons = TLSError.drainOpenSSLErrors()
        let reason = reasons.last ?? "handshake failed (OpenSSL error \(code))"
        // OpenSSL records a verification result even when nothing was verified: it counts
        // only when we checked the peer, or when the failure is verification's.
        let verify = SSL_get_verify_result(ssl)
        let checked = SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER != 0 || reason.contains("certificate verify failed")
        if verify != X509_V_OK && checked {
            if verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH {
                let names = peerCertificateNames() ?? "other names"
                return TLSError(.hostnameMismatch, "hostname mismatch: certificate is for \(names), not \(expectedName ?? "the name dialled")")
            }
            let detail = String(cString: X509_verify_cert_error_string(Int(verify)))
            let whose = role == .server ? "client certificate verify failed" : "certificate verify failed"
            return TLSError(.certificateVerifyFailed, "\(whose): \(detail)")
        }
        if role == .server {
            var length: UInt32 = 0
            if let offered = cloop_tls_offered_protocols(ssl, &length) {
                let names = TLSEngine.protocolNames(UnsafeBufferPointer(start: offered, count: Int(length)))
                return TLSError(.noCommonApplicationProtocol,
                                "peer offered no common ALPN protocol (offered: \(names.joined(separator: ", ")))")
            }
            if reason.contains("peer did not return a certificate") {
                return TLSError(.certificateVerifyFailed, "client sent no certificate, and this server requires one")
            }
        }
        if reason.contains("no application protocol") {
            let offered = context.configuration.applicationProtocols.joined(separator: ", ")
            return TLSError(.noCommonApplicationProtocol, "server accepts none of the ALPN protocols offered (\(offered))")
        }
        if reason.contains("alert") {
            return TLSError(.alertReceived, "peer refused the handshake: \(reason)")
        }
        return TLSError(.protocolError, "TLS handshake failed: \(reason)")
    }

    /// The names in the server's certificate (from the chain it sent; the verified peer is not
    /// set when verification failed).
    private func peerCertificateNames() -> String? {
        if let chain = SSL_get_peer_cert_chain(ssl), OPENSSL_sk_num(chain) > 0,
           let leaf = OPENSSL_sk_value(chain, 0) {
            return TLSCertificate(OpaquePointer(leaf)).names.joined(separator: ", ")
        }
        return SSL_get0_peer_certificate(ssl).map { TLSCertificate($0).names.joined(separator: ", ") }
    }

    static func protocolNames(_ wire: UnsafeBufferPointer<UInt8>) -> [String] {
        var names: [String] = []
        var index = 0
        while index < wire.count {
            let length = Int(wire[index])
            index += 1
            guard index + length <= wire.count else { break }
            names.append(String(decoding: UnsafeBufferPointer(rebasing: wire[index..<index + length]), as: UTF8.self))
            index += length
        }
        return names
    }
}
