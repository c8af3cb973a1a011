/// What a TLS endpoint presents and accepts: certificates, trust, verification, ALPN,
/// versions and the handshake timeout. A value; `TLSContext` turns it into OpenSSL state once
/// (reading the files then), and every connection shares that context.
///
/// A server with a certificate chain and key from PEM files, offering HTTP/2 through ALPN:
///
/// ```swift
/// let tls = try TLSContext(.server(certificateChain: .file("server.pem"), privateKey: .file("server.key")))
/// let server = try await HTTP2Server.bind(host: "0.0.0.0", port: 8443, group: group, tls: tls) { request, response in
///     try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: "Hello over TLS"))
/// }
/// ```
///
/// A client trusting one CA (instead of the system store) and sending a client certificate:
///
/// ```swift
/// var configuration = TLSConfiguration.client(trustRoots: .pem(.file("ca.pem")))
/// configuration.certificateChain = .file("client.pem")
/// configuration.privateKey = .file("client.key")
/// let tls = try TLSContext(configuration)
/// ```
public struct TLSConfiguration: Sendable {
    /// Which side of the handshake this context takes.
    public enum Role: Sendable, Equatable {
        case server
        case client
    }

    /// PEM text, from a file or in memory.
    public enum PEMSource: Sendable, Equatable {
        /// A file read when the context is made.
        case file(String)
        /// PEM text already in memory.
        case bytes([UInt8])

        /// PEM text from a string.
        public static func string(_ text: String) -> PEMSource { .bytes(Array(text.utf8)) }
    }

    /// A certificate chain (leaf first, then intermediates) and its private key.
    public struct CertifiedKey: Sendable, Equatable {
        public var certificateChain: PEMSource
        public var privateKey: PEMSource

        public init(certificateChain: PEMSource, privateKey: PEMSource) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    /// Which certificate authorities are trusted to sign the peer's certificate.
    public enum TrustRoots: Sendable, Equatable {
        /// The system store (Debian: /etc/ssl/certs, the ca-certificates package).
        case system
        /// The certificates of a PEM file or text (one or more CAs).
        case pem(PEMSource)
    }

    /// How a client checks the server's certificate.
    public enum CertificateVerification: Sendable, Equatable {
        /// Chain to a trusted root, dates, and the host name (or IP address) dialled or given
        /// as `serverHostOverride`. The default.
        case fullVerification
        /// Chain and dates, any host name.
        case noHostnameVerification
        /// Nothing: any certificate is accepted. For tests against throwaway certificates only.
        case none
    }

    /// Whether a server asks for a client certificate (mutual TLS).
    public enum ClientCertificates: Sendable, Equatable {
        /// Not asked for. The default.
        case none
        /// Asked for; a client without one is served, one whose certificate does not verify is
        /// refused.
        case optional
        /// Required: a client without a certificate that verifies against `trustRoots` is
        /// refused during the handshake.
        case required
    }

    /// A TLS protocol version.
    public enum Version: Sendable, Equatable, Comparable {
        case tls12
        case tls13
    }

    public var role: Role

    /// The certificates presented: for a server, the first is the default one and the others
    /// are chosen by the name the client asks for (SNI) when it matches one of theirs; a client
    /// presents the first when the server asks (mutual TLS). Set `certificateChain` and
    /// `privateKey` for a single one.
    public var certificates: [CertifiedKey]

    /// The trusted roots: a client checks the server's certificate against them, a server
    /// asking for client certificates checks those.
    public var trustRoots: TrustRoots

    /// How a client checks the server's certificate (servers ignore it).
    public var certificateVerification: CertificateVerification

    /// Whether a server asks for client certificates (clients ignore it).
    public var clientCertificates: ClientCertificates

    /// ALPN protocols (RFC 7301), most preferred first: a server selects the first of these the
    /// client offers and refuses a client that offers only others; a client offers them all.
    /// Empty: no ALPN. HTTP/2 servers and clients fill in `h2` when it is empty.
    public var applicationProtocols: [String]

    /// The lowest version spoken: TLS 1.2 by default (RFC 9113 §9.2 requires at least 1.2).
    public var minimumVersion: Version
    /// The highest version spoken: TLS 1.3 by default.
    public var maximumVersion: Version

    /// How long a connection may take to finish its handshake; a peer that stalls or sends
    /// garbage is closed when it runs out. 10 s by default.
    public var handshakeTimeout: Duration

    /// For a client: the name sent as SNI and checked against the server's certificate
    /// instead of the host dialled (gRPC's `--server_host_override`).
    public var serverHostOverride: String?

    /// Whether sessions are resumed: a server issues session tickets, a client keeps the
    /// last session per server and offers it on its next connection. On by default.
    public var sessionResumption: Bool

    /// The first certificate chain (see `certificates`).
    public var certificateChain: PEMSource? {
        get { certificates.first?.certificateChain }
        set {
            guard let newValue else { certificates = []; return }
            let key = certificates.first?.privateKey ?? .bytes([])
            if certificates.isEmpty { certificates = [CertifiedKey(certificateChain: newValue, privateKey: key)] }
            else { certificates[0].certificateChain = newValue }
        }
    }

    /// The private key of the first certificate chain (see `certificates`).
    public var privateKey: PEMSource? {
        get { certificates.first?.privateKey }
        set {
            guard let newValue else { return }
            let chain = certificates.first?.certificateChain ?? .bytes([])
            if certificates.isEmpty { certificates = [CertifiedKey(certificateChain: chain, privateKey: newValue)] }
            else { certificates[0].privateKey = newValue }
        }
    }

    public init(role: Role, certificates: [CertifiedKey] = [], trustRoots: TrustRoots = .system,
                certificateVerification: CertificateVerification = .fullVerification,
                clientCertificates: ClientCertificates = .none, applicationProtocols: [String] = [],
                minimumVersion: Version = .tls12, maximumVersion: Version = .tls13,
                handshakeTimeout: Duration = .seconds(10), serverHostOverride: String? = nil,
                sessionResumption: Bool = true) {
        self.role = role
        self.certificates = certificates
        self.trustRoots = trustRoots
        self.certificateVerification = certificateVerification
        self.clientCertificates = clientCertificates
        self.applicationProtocols = applicationProtocols
        self.minimumVersion = minimumVersion
        self.maximumVersion = maximumVersion
        self.handshakeTimeout = handshakeTimeout
        self.serverHostOverride = serverHostOverride
        self.sessionResumption = sessionResumption
    }

    /// A server presenting one certificate chain.
    public static func server(certificateChain: PEMSource, privateKey: PEMSource,
                              applicationProtocols: [String] = []) -> TLSConfiguration {
        TLSConfiguration(role: .server,
                         certificates: [CertifiedKey(certificateChain: certificateChain, privateKey: privateKey)],
                         applicationProtocols: applicationProtocols)
    }

    /// A client verifying servers against `trustRoots` (the system store by default).
    public static func client(trustRoots: TrustRoots = .system, applicationProtocols: [String] = [],
                              serverHostOverride: String? = nil) -> TLSConfiguration {
        TLSConfiguration(role: .client, trustRoots: trustRoots, applicationProtocols: applicationProtocols,
                         serverHostOverride: serverHostOverride)
    }

    /// This configuration with `protocols` as its ALPN list when it has none: how HTTP/2 and
    /// gRPC servers and clients default to `h2`.
    public func defaultingApplicationProtocols(to protocols: [String]) -> TLSConfiguration {
        guard applicationProtocols.isEmpty else { return self }
        var copy = self
        copy.applicationProtocols = protocols
        return copy
    }
}
