import InteropTestSupport
import CLoopTLS
import Loop
import Synchronization
import Testing
@testable import LoopTLS

/// A client and a server `TLSHandler` on two embedded channels, their bytes carried across by
/// hand: the handshake, records both ways, ALPN, verification, mutual TLS, SNI, resumption,
/// close_notify and the handshake timeout, with no socket.
@Suite struct TLSHandlerTests {
    /// Two embedded channels with a TLS handler each, and the bytes between them.
    struct Pair {
        let client: EmbeddedChannel
        let server: EmbeddedChannel
        let clientHandler: TLSHandler
        let serverHandler: TLSHandler

        init(client: TLSConfiguration, server: TLSConfiguration, serverName: String? = "localhost") throws {
            let clientContext = try TLSContext(client)
            let serverContext = try TLSContext(server)
            try self.init(clientContext: clientContext, serverContext: serverContext, serverName: serverName)
        }

        init(clientContext: TLSContext, serverContext: TLSContext, serverName: String? = "localhost") throws {
            serverHandler = try TLSHandler(context: serverContext)
            clientHandler = try TLSHandler(context: clientContext, serverHostname: serverName, port: 443)
            server = EmbeddedChannel(handlers: [serverHandler])
            client = EmbeddedChannel(handlers: [clientHandler])
        }

        /// Carries bytes both ways until neither side has anything to send. Errors caught on
        /// either side are returned, not thrown.
        @discardableResult
        func run() throws -> (client: (any Error)?, server: (any Error)?) {
            var clientError: (any Error)?
            var serverError: (any Error)?
            var moved = true
            while moved {
                moved = false
                while let bytes = try client.readOutbound(as: ByteBuffer.self) {
                    moved = true
                    guard server.isActive else { continue }
                    do { try server.writeInbound(bytes) } catch { if serverError == nil { serverError = error } }
                }
                while let bytes = try server.readOutbound(as: ByteBuffer.self) {
                    moved = true
                    guard client.isActive else { continue }
                    do { try client.writeInbound(bytes) } catch { if clientError == nil { clientError = error } }
                }
            }
            return (clientError, serverError)
        }

        func readAll(_ channel: EmbeddedChannel) throws -> String {
            var text = ""
            while let buffer = try channel.readInbound(as: ByteBuffer.self) {
                text += String(decoding: buffer.readableBytesView, as: UTF8.self)
            }
            return text
        }
    }

    static func server(_ certificates: TestCertificates, _ name: String = "server", protocols: [String] = ["h2"]) -> TLSConfiguration {
        .server(certificateChain: .file(certificates.file("\(name).pem")), privateKey: .file(certificates.file("\(name).key")),
                applicationProtocols: protocols)
    }

    static func client(_ certificates: TestCertificates, protocols: [String] = ["h2"]) -> TLSConfiguration {
        .client(trustRoots: .pem(.file(certificates.file("ca.pem"))), applicationProtocols: protocols)
    }

    /// A server that requires client certificates signed by client-ca.pem.
    static func mutualTLSServer(_ certificates: TestCertificates) -> TLSConfiguration {
        var server = Self.server(certificates)
        server.clientCertificates = .required
        server.trustRoots = .pem(.file(certificates.file("client-ca.pem")))
        return server
    }

    /// A client presenting the certificate `name`.pem / `name`.key.
    static func client(_ certificates: TestCertificates, presenting name: String) -> TLSConfiguration {
        var client = Self.client(certificates)
        client.certificateChain = .file(certificates.file("\(name).pem"))
        client.privateKey = .file(certificates.file("\(name).key"))
        return client
    }

    @Test func handshakeThenRecordsBothWaysWithALPN() async throws {
        let certificates = try await TestCertificates.shared()
        let pair = try Pair(client: Self.client(certificates), server: Self.server(certificates))
        // Written before the handshake finished: held, then sent encrypted.
        try pair.client.writeOutbound(ByteBuffer(string: "early "))
        try pair.run()
        let info = try #require(pair.clientHandler.connectionInfo)
        #expect(info.negotiatedProtocol == "h2")
        #expect(info.version == "TLSv1.3")
        #expect(info.peerCertificate?.names.contains("localhost") == true)
        #expect(pair.serverHandler.connectionInfo?.negotiatedProtocol == "h2")
        #expect(pair.serverHandler.connectionInfo?.serverName == "localhost")
        #expect(pair.serverHandler.connectionInfo?.peerCertificate == nil)
        // The event comes before any plaintext.
        #expect(pair.server.readUserEvents().contains { ($0 as? TLSEvent) == .handshakeCompleted(pair.serverHandler.connectionInfo!) })

        try pair.client.writeOutbound(ByteBuffer(string: "hello"))
        try pair.server.writeOutbound(ByteBuffer(string: "world"))
        try pair.run()
        #expect(try pair.readAll(pair.server) == "early hello")
        #expect(try pair.readAll(pair.client) == "world")
    }

    @Test func aMegabyteCrossesIntactAndSmallWritesShareRecords() async throws {
        let certificates = try await TestCertificates.shared()
        let pair = try Pair(client: Self.client(certificates), server: Self.server(certificates))
        try pair.run()
        // 1,000 writes of 10 bytes in one flush: gathered, so far fewer bytes than 1,000
        // records (each record costs 22 bytes of overhead in TLS 1.3).
        for index in 0..<1000 {
            pair.client.pipeline.write(ByteBuffer(string: String(format: "%09d\n", index)), promise: nil)
        }
        pair.client.pipeline.flush()
        var wire = 0
        var carried: [ByteBuffer] = []
        while let bytes = try pair.client.readOutbound(as: ByteBuffer.self) { wire += bytes.readableBytes; carried.append(bytes) }
        #expect(wire < 10_000 + 22 * 4)
        for bytes in carried { try pair.server.writeInbound(bytes) }
        let text = try pair.readAll(pair.server)
        #expect(text.count == 10_000 && text.hasPrefix("000000000\n") && text.hasSuffix("000000999\n"))

        let big = ByteBuffer(bytes: (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try pair.server.writeOutbound(big)
        try pair.run()
        var received = ByteBuffer(capacity: 1 << 20)
        while var part = try pair.client.readInbound(as: ByteBuffer.self) { _ = received.writeBuffer(&part) }
        #expect(received == big)
    }

    /// RFC 7301 §3.2: a server with no protocol in common ends the handshake with
    /// no_application_protocol; both sides say so in words.
    @Test func rfc7301Section3_2NoCommonProtocolIsRefusedWithTheOffer() async throws {
        let certificates = try await TestCertificates.shared()
        let pair = try Pair(client: Self.client(certificates, protocols: ["http/1.1"]), server: Self.server(certificates))
        let errors = try pair.run()
        let server = try #require(errors.server as? TLSError)
        #expect(server.kind == .noCommonApplicationProtocol)
        #expect(server.message == "peer offered no common ALPN protocol (offered: http/1.1)")
        let client = try #require(errors.client as? TLSError)
        #expect(client.kind == .noCommonApplicationProtocol)
        #expect(client.message == "server accepts none of the ALPN protocols offered (http/1.1)")
        #expect(!pair.server.isActive && !pair.client.isActive)
    }

    @Test func aClientWithoutALPNIsServed() async throws {
        let certificates = try await TestCertificates.shared()
        let pair = try Pair(client: Self.client(certificates, protocols: []), server: Self.server(certificates))
        try pair.run()
        #expect(pair.serverHandler.connectionInfo != nil)
        #expect(pair.serverHandler.connectionInfo?.negotiatedProtocol == nil)
    }

    @Test(arguments: [
        ("self-signed", TLSError.Kind.certificateVerifyFailed, "certificate verify failed: self-signed certificate"),
        ("expired", .certificateVerifyFailed, "certificate verify failed: certificate has expired"),
        ("untrusted", .certificateVerifyFailed, "certificate verify failed: unable to get local issuer certificate"),
        ("wrong-host", .hostnameMismatch, "hostname mismatch: certificate is for a.example, not localhost"),
    ])
    func aClientRefusesABadCertificateInWords(name: String, kind: TLSError.Kind, message: String) async throws {
        let certificates = try await TestCertificates.shared()
        let pair = try Pair(client: Self.client(certificates), server: Self.server(certificates, name))
        let errors = try pair.run()
        let error = try #require(errors.client as? TLSError)
        #expect(error.kind == kind)
        #expect(error.message == message)
        // The server hears the client's alert.
        let server = try #require(errors.server as? TLSError)
        #expect(server.kind == .alertReceived)
    }

    @Test func anIPAddressIsVerifiedAgainstTheCertificatesAddresses() async throws {
        let certificates = try await TestCertificates.shared()
        let good = try Pair(client: Self.client(certificates), server: Self.server(certificates), serverName: "127.0.0.1")
        try good.run()
        #expect(good.clientHandler.connectionInfo != nil)
        #expect(good.serverHandler.connectionInfo?.serverName == nil)  // RFC 6066 §3: no address in SNI
        let bad = try Pair(client: Self.client(certificates), server: Self.server(certificates, "wrong-host"), serverName: "127.0.0.1")
        let errors = try bad.run()
        #expect((errors.client as? TLSError)?.message == "hostname mismatch: certificate is for a.example, not 127.0.0.1")
    }

    @Test func serverHostOverrideIsSentAndVerified() async throws {
        let certificates = try await TestCertificates.shared()
        var client = Self.client(certificates)
        client.serverHostOverride = "a.example"
        let pair = try Pair(client: client, server: Self.server(certificates, "wrong-host"), serverName: "127.0.0.1")
        try pair.run()
        #expect(pair.serverHandler.connectionInfo?.serverName == "a.example")
    }

    @Test func mutualTLSRequiredRefusesAClientWithoutACertificate() async throws {
        let certificates = try await TestCertificates.shared()
        let server = Self.mutualTLSServer(certificates)
        let pair = try Pair(client: Self.client(certificates), server: server)
        let errors = try pair.run()
        let error = try #require(errors.server as? TLSError)
        #expect(error.message == "client sent no certificate, and this server requires one")
        // TLS 1.3: the client's side finished; the refusal arrives as the server's alert.
        #expect((errors.client as? TLSError)?.message == "peer ended the connection: tlsv13 alert certificate required")
        #expect(pair.serverHandler.connectionInfo == nil)
    }

    @Test func mutualTLSShowsTheClientCertificateAndRefusesAnUntrustedOne() async throws {
        let certificates = try await TestCertificates.shared()
        let server = Self.mutualTLSServer(certificates)
        let client = Self.client(certificates, presenting: "client")
        let pair = try Pair(client: client, server: server)
        try pair.run()
        let peer = try #require(pair.serverHandler.connectionInfo?.peerCertificate)
        #expect(peer.names == ["client.loop.test"])
        #expect(peer.subject.contains("CN=loop-test-client"))
        #expect(!peer.der.isEmpty)

        let other = Self.client(certificates, presenting: "other-client")
        let refused = try Pair(client: other, server: server)
        let errors = try refused.run()
        #expect((errors.server as? TLSError)?.message == "client certificate verify failed: unable to get local issuer certificate")
    }

    @Test func sniChoosesTheCertificateForTheNameAsked() async throws {
        let certificates = try await TestCertificates.shared()
        var server = Self.server(certificates)
        server.certificates.append(.init(certificateChain: .file(certificates.file("b-example.pem")),
                                         privateKey: .file(certificates.file("b-example.key"))))
        let serverContext = try TLSContext(server)
        let clientContext = try TLSContext(Self.client(certificates))
        let b = try Pair(clientContext: clientContext, serverContext: serverContext, serverName: "b.example")
        try b.run()
        #expect(b.clientHandler.connectionInfo?.peerCertificate?.names == ["b.example"])
        let local = try Pair(clientContext: clientContext, serverContext: serverContext, serverName: "localhost")
        try local.run()
        #expect(local.clientHandler.connectionInfo?.peerCertificate?.names.contains("localhost") == true)
    }

    @Test func aSecondConnectionResumesTheSession() async throws {
        let certificates = try await TestCertificates.shared()
        let serverContext = try TLSContext(Self.server(certificates))
        let clientContext = try TLSContext(Self.client(certificates))
        let first = try Pair(clientContext: clientContext, serverContext: serverContext)
        try first.run()
        // TLS 1.3 tickets come after the handshake, with the server's first records.
        try first.server.writeOutbound(ByteBuffer(string: "x"))
        try first.run()
        #expect(first.clientHandler.connectionInfo?.sessionReused == false)
        #expect(clientContext.cachedSessionCount == 1)
        let second = try Pair(clientContext: clientContext, serverContext: serverContext)
        try second.run()
        #expect(second.clientHandler.connectionInfo?.sessionReused == true)
        #expect(second.serverHandler.connectionInfo?.sessionReused == true)
    }

    @Test func closeNotifyReachesThePeerAsInputClosed() async throws {
        let certificates = try await TestCertificates.shared()
        let pair = try Pair(client: Self.client(certificates), server: Self.server(certificates))
        try pair.run()
        _ = pair.server.readUserEvents()
        try pair.client.writeOutbound(ByteBuffer(string: "last"))
        pair.client.pipeline.close(mode: .output, promise: nil)
        try pair.run()
        #expect(try pair.readAll(pair.server) == "last")
        #expect(pair.server.readUserEvents().contains { ($0 as? ChannelEvent) == .inputClosed })
        // Nothing more can be written after close_notify.
        let promise = pair.client.eventLoop.makePromise(of: Void.self)
        pair.client.pipeline.write(ByteBuffer(string: "late"), promise: promise)
        let failed = Mutex(false)
        promise.futureResult.whenFailure { _ in failed.withLock { $0 = true } }
        #expect(failed.withLock { $0 })
    }

    @Test func aStalledHandshakeIsClosedByTheTimeout() async throws {
        let certificates = try await TestCertificates.shared()
        var server = Self.server(certificates)
        server.handshakeTimeout = .milliseconds(500)
        let handler = try TLSHandler(context: TLSContext(server))
        let channel = EmbeddedChannel(handlers: [handler])
        try channel.writeInbound(ByteBuffer(bytes: [0x16, 0x03, 0x01]))  // Half a record header, then nothing.
        channel.eventLoop.advanceTime(by: .milliseconds(499))
        #expect(channel.isActive)
        channel.eventLoop.advanceTime(by: .milliseconds(2))
        #expect(!channel.isActive)
        #expect(throws: TLSError(.handshakeTimeout, "TLS handshake not finished within 0.5 seconds")) { try channel.throwIfErrorCaught() }
    }

    @Test func garbageIsAProtocolError() async throws {
        let certificates = try await TestCertificates.shared()
        let handler = try TLSHandler(context: TLSContext(Self.server(certificates)))
        let channel = EmbeddedChannel(handlers: [handler])
        #expect(throws: TLSError.self) { try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n")) }
        #expect(!channel.isActive)
    }

    /// RFC 9113 §9.2.2: over TLS 1.2, only forward-secret AEAD cipher suites; a client that
    /// offers only a blocklisted one (Appendix A of RFC 7540) is refused.
    @Test func rfc9113Section9_2_2ATLS12ClientWithOnlyABlocklistedCipherIsRefused() async throws {
        let certificates = try await TestCertificates.shared()
        var client = Self.client(certificates)
        client.maximumVersion = .tls12
        let good = try Pair(client: client, server: Self.server(certificates))
        try good.run()
        #expect(good.clientHandler.connectionInfo?.version == "TLSv1.2")
        #expect(good.clientHandler.connectionInfo?.cipher == "ECDHE-ECDSA-AES128-GCM-SHA256")

        let clientContext = try TLSContext(client)
        _ = SSL_CTX_set_cipher_list(clientContext.contexts[0], "ECDHE-ECDSA-AES128-SHA")
        let bad = try Pair(clientContext: clientContext, serverContext: TLSContext(Self.server(certificates)))
        let errors = try bad.run()
        #expect((errors.server as? TLSError)?.message == "TLS handshake failed: no shared cipher")
    }

    @Test func tls13PrefersAES128GCM() async throws {
        let certificates = try await TestCertificates.shared()
        let pair = try Pair(client: Self.client(certificates), server: Self.server(certificates))
        try pair.run()
        #expect(pair.serverHandler.connectionInfo?.cipher == "TLS_AES_128_GCM_SHA256")
    }

    // MARK: Bounds and edge cases (the review of the first version)

    /// A peer that sends records carrying no application data (here TLS 1.3 KeyUpdate
    /// requests, each of which OpenSSL answers) is closed once 64 KiB of them arrived in a row.
    @Test func aKeyUpdateFloodIsClosed() async throws {
        let certificates = try await TestCertificates.shared()
        let pair = try Pair(client: Self.client(certificates), server: Self.server(certificates))
        try pair.run()
        var sent = 0
        var serverError: (any Error)?
        while pair.server.isActive && sent < 10_000 {
            #expect(pair.clientHandler.engine.updateKeys(requestPeerUpdate: true))
            var record = ByteBuffer(capacity: 64)
            pair.clientHandler.engine.takeOutput(into: &record)
            sent += 1
            do { try pair.server.writeInbound(record) } catch { serverError = error; break }
        }
        #expect(sent > 2_000 && sent < 3_500, "closed after \(sent) KeyUpdates")
        let error = try #require(serverError as? TLSError)
        #expect(error.message.hasPrefix("the peer sent 655"))
        #expect(error.message.hasSuffix("bytes of TLS records without application data (a KeyUpdate or alert flood)"))
        #expect(!pair.server.isActive)
    }

    /// A KeyUpdate now and then, between application data, is served.
    @Test func keyUpdatesBetweenDataAreServed() async throws {
        let certificates = try await TestCertificates.shared()
        let pair = try Pair(client: Self.client(certificates), server: Self.server(certificates))
        try pair.run()
        for index in 0..<100 {
            #expect(pair.clientHandler.engine.updateKeys(requestPeerUpdate: true))
            try pair.client.writeOutbound(ByteBuffer(string: "\(index % 10)"))
            try pair.run()
        }
        #expect(try pair.readAll(pair.server) == String(repeating: "0123456789", count: 10))
        try pair.server.writeOutbound(ByteBuffer(string: "ok"))
        try pair.run()
        #expect(try pair.readAll(pair.client) == "ok")
    }

    /// Memory per connection: after a 4 MiB flush the handler keeps at most a few hundred KiB
    /// (buffers for reuse and OpenSSL's BIO), not the size of its largest flush.
    @Test func aLargeFlushLeavesNoLargeBuffersBehind() async throws {
        let certificates = try await TestCertificates.shared()
        let pair = try Pair(client: Self.client(certificates), server: Self.server(certificates))
        try pair.run()
        var big = ByteBuffer(capacity: 4 << 20)
        big.writeRepeatingByte(0x61, count: 4 << 20)
        // Many medium writes and one large one in a single flush.
        for _ in 0..<64 { pair.server.pipeline.write(ByteBuffer(bytes: [UInt8](repeating: 0x62, count: 10_000)), promise: nil) }
        pair.server.pipeline.write(big, promise: nil)
        pair.server.pipeline.flush()
        var chunks = 0
        var total = 0
        while let bytes = try pair.server.readOutbound(as: ByteBuffer.self) {
            chunks += 1
            total += bytes.readableBytes
            try pair.client.writeInbound(bytes)
        }
        #expect(total > (4 << 20) + 640_000)
        #expect(chunks > 60, "ciphertext handed over in \(chunks) pieces")
        var received = 0
        while let part = try pair.client.readInbound(as: ByteBuffer.self) { received += part.readableBytes }
        #expect(received == (4 << 20) + 640_000)
        #expect(pair.serverHandler.retainedBytes < 256 * 1024, "kept \(pair.serverHandler.retainedBytes) bytes")
        #expect(pair.clientHandler.retainedBytes < 256 * 1024, "kept \(pair.clientHandler.retainedBytes) bytes")
    }

    /// Like a socket's half-close, `close(mode: .output)` sends what was written before it,
    /// flushed or not, then close_notify.
    @Test func closeOutputSendsUnflushedWritesFirst() async throws {
        let certificates = try await TestCertificates.shared()
        let pair = try Pair(client: Self.client(certificates), server: Self.server(certificates))
        try pair.run()
        pair.client.pipeline.write(ByteBuffer(string: "written, not flushed"), promise: nil)
        pair.client.pipeline.close(mode: .output, promise: nil)
        try pair.run()
        #expect(try pair.readAll(pair.server) == "written, not flushed")
    }

    /// A client that verifies nothing, refused by a server that requires a client
    /// certificate, reports the server's refusal, not a verification failure of its own.
    @Test func aClientThatVerifiesNothingReportsTheServersRefusal() async throws {
        let certificates = try await TestCertificates.shared()
        let server = Self.mutualTLSServer(certificates)
        var client = Self.client(certificates)
        client.certificateVerification = .none
        client.maximumVersion = .tls12
        let pair = try Pair(client: client, server: server)
        let errors = try pair.run()
        let error = try #require(errors.client as? TLSError)
        #expect(error.kind == .alertReceived, "\(error)")
    }

    /// A certificate name is reported whole: a comma in a common name does not make two names.
    @Test func aCommaInACertificateNameDoesNotSplitIt() async throws {
        let certificates = try await TestCertificates.shared()
        let server = Self.mutualTLSServer(certificates)
        let client = Self.client(certificates, presenting: "comma-name")
        let pair = try Pair(client: client, server: server)
        try pair.run()
        #expect(pair.serverHandler.connectionInfo?.peerCertificate?.names == ["evil.example,client.loop.test"])
    }

    /// Full verification needs a name it can check: a name with a port, brackets or a zone,
    /// or no name at all, is refused instead of verifying less.
    @Test(arguments: [
        ("svc.example:443", "\"svc.example:443\" is neither a host name nor an IP address (no port, brackets or zone here)"),
        ("[::1]", "\"[::1]\" is neither a host name nor an IP address (no port, brackets or zone here)"),
        ("fe80::1%lo", "\"fe80::1%lo\" is neither a host name nor an IP address (no port, brackets or zone here)"),
        ("", "full certificate verification needs the server's name: connect by host name or set serverHostOverride"),
    ])
    func aNameThatCannotBeVerifiedIsRefused(name: String, message: String) async throws {
        let certificates = try await TestCertificates.shared()
        var client = Self.client(certificates)
        client.serverHostOverride = name
        let context = try TLSContext(client)
        #expect(throws: TLSError(.invalidConfiguration, message)) { _ = try TLSHandler(context: context, serverHostname: "localhost") }
        // Over a Unix domain socket there is no host: the override must name the server.
        let plain = try TLSContext(Self.client(certificates))
        #expect(throws: TLSError.self) { _ = try TLSHandler(context: plain, serverHostname: nil) }
    }

    /// Writes made before the channel is ever active, on a handler then removed, fail.
    @Test func writesPendingWhenTheHandlerIsRemovedFail() async throws {
        let certificates = try await TestCertificates.shared()
        let handler = try TLSHandler(context: TLSContext(Self.client(certificates)), serverHostname: "localhost")
        let channel = EmbeddedChannel(handlers: [handler], active: false)
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.pipeline.write(ByteBuffer(string: "never sent"), promise: promise)
        let failed = Mutex(false)
        promise.futureResult.whenFailure { _ in failed.withLock { $0 = true } }
        try channel.pipeline.removeHandler(handler)
        #expect(failed.withLock { $0 })
    }

    /// A resumed session's ticket is used once: two connections after the first do not both
    /// offer the same ticket.
    @Test func aTicketIsOfferedOnce() async throws {
        let certificates = try await TestCertificates.shared()
        let serverContext = try TLSContext(Self.server(certificates))
        let clientContext = try TLSContext(Self.client(certificates))
        let first = try Pair(clientContext: clientContext, serverContext: serverContext)
        try first.run()
        try first.server.writeOutbound(ByteBuffer(string: "x"))
        try first.run()
        // Two connections start before either hears back.
        let second = try Pair(clientContext: clientContext, serverContext: serverContext)
        let third = try Pair(clientContext: clientContext, serverContext: serverContext)
        try second.run()
        try third.run()
        #expect(second.clientHandler.connectionInfo?.sessionReused == true)
        #expect(third.clientHandler.connectionInfo?.sessionReused == false)
    }
}
