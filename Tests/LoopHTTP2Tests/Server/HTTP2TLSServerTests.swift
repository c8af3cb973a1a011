import Foundation
import Glibc
import InteropTestSupport
import Loop
import LoopTLS
import Synchronization
import Testing
@testable import LoopHTTP2

/// HTTP2Server and HTTP2Client over TLS on real sockets: requests with ALPN h2, the handshake's
/// information reaching the handler, each bad certificate refused in words on the client, a
/// server requiring client certificates, and the handshake timeout closing stalled and
/// garbage-sending connections while a good client is served.
@Suite(.serialized) struct HTTP2TLSServerTests {
    static func serverTLS(_ certificates: TestCertificates, _ name: String = "server") -> TLSConfiguration {
        .server(certificateChain: .file(certificates.file("\(name).pem")), privateKey: .file(certificates.file("\(name).key")))
    }

    static func clientTLS(_ certificates: TestCertificates) -> TLSConfiguration {
        .client(trustRoots: .pem(.file(certificates.file("ca.pem"))))
    }

    /// Answers with the ALPN protocol and the client certificate's names it saw.
    static func bindReporting(_ group: EventLoopGroup, tls: TLSConfiguration) async throws -> HTTP2Server {
        try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group, tls: tls) { request, response in
            let names = request.tls?.peerCertificate?.names.joined(separator: ",") ?? "-"
            let text = "\(request.tls?.negotiatedProtocol ?? "none") \(request.tls?.version ?? "cleartext") \(names)"
            try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: text))
        }
    }

    static func get(_ client: HTTP2Client, _ path: String = "/") async throws -> String {
        let response = try await client.send(HTTP2RequestHead(method: "GET", path: path, authority: "localhost"))
        let body = try await response.body.collect(upTo: 1 << 20)
        return String(decoding: body.readableBytesView, as: UTF8.self)
    }

    @Test func requestsOverTLSSeeTheHandshake() async throws {
        let certificates = try await TestCertificates.shared()
        let group = EventLoopGroup(numberOfThreads: 1)
        let server = try await Self.bindReporting(group, tls: Self.serverTLS(certificates, "server-chain"))
        let port = server.localAddress!.port
        let client = try await HTTP2Client.connect(host: "localhost", port: port, group: group, tls: Self.clientTLS(certificates))
        #expect(try await Self.get(client) == "h2 TLSv1.3 -")
        try await client.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test(arguments: [
        ("expired", "certificate verify failed: certificate has expired"),
        ("self-signed", "certificate verify failed: self-signed certificate"),
        ("wrong-host", "hostname mismatch: certificate is for a.example, not localhost"),
        ("untrusted", "certificate verify failed: unable to get local issuer certificate"),
        // A server that leaves its intermediate out cannot be verified from the root alone.
        ("chain-leaf", "certificate verify failed: unable to get local issuer certificate"),
    ])
    func ourClientRefusesABadCertificateInWords(name: String, message: String) async throws {
        let certificates = try await TestCertificates.shared()
        let group = EventLoopGroup(numberOfThreads: 1)
        let key = name == "chain-leaf" ? "server-chain" : name
        let tls = TLSConfiguration.server(certificateChain: .file(certificates.file("\(name).pem")),
                                          privateKey: .file(certificates.file("\(key).key")))
        let server = try await Self.bindReporting(group, tls: tls)
        let port = server.localAddress!.port
        let started = ContinuousClock.now
        await #expect(throws: TLSError.self) {
            do {
                _ = try await HTTP2Client.connect(host: "localhost", port: port, group: group, tls: Self.clientTLS(certificates))
            } catch let error as TLSError {
                #expect(error.message == message)
                throw error
            }
        }
        #expect(ContinuousClock.now - started < .seconds(2))  // Refused at once, not by a timeout.
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test func aServerRequiringClientCertificatesRefusesAClientWithoutOne() async throws {
        let certificates = try await TestCertificates.shared()
        let group = EventLoopGroup(numberOfThreads: 1)
        var tls = Self.serverTLS(certificates)
        tls.clientCertificates = .required
        tls.trustRoots = .pem(.file(certificates.file("client-ca.pem")))
        let server = try await Self.bindReporting(group, tls: tls)
        let port = server.localAddress!.port

        var withCertificate = Self.clientTLS(certificates)
        withCertificate.certificateChain = .file(certificates.file("client.pem"))
        withCertificate.privateKey = .file(certificates.file("client.key"))
        let client = try await HTTP2Client.connect(host: "localhost", port: port, group: group, tls: withCertificate)
        #expect(try await Self.get(client) == "h2 TLSv1.3 client.loop.test")
        try await client.close()

        // TLS 1.3: the client's handshake ends before the server refuses; the refusal is the
        // server's alert, which arrives where the server's SETTINGS would.
        await #expect(throws: TLSError(.alertReceived, "peer ended the connection: tlsv13 alert certificate required")) {
            _ = try await HTTP2Client.connect(host: "localhost", port: port, group: group, tls: Self.clientTLS(certificates))
        }
        try await server.close()
        try await group.shutdownGracefully()
    }

    /// Reads until end of file (the server closed) or the receive timeout; true on close.
    static func waitForClose(_ fd: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    /// 50 connections that stall in the middle of the handshake (half a ClientHello record, then
    /// nothing) and 50 that send garbage are all closed (the garbage at once, the stalled ones
    /// by the 1 s handshake timeout) while a good client's requests are all served.
    @Test func stalledAndGarbageHandshakesAreClosedWhileAGoodClientIsServed() async throws {
        let certificates = try await TestCertificates.shared()
        let group = EventLoopGroup(numberOfThreads: 1)
        var tls = Self.serverTLS(certificates)
        tls.handshakeTimeout = .seconds(1)
        let server = try await Self.bindReporting(group, tls: tls)
        let port = server.localAddress!.port
        let client = try await HTTP2Client.connect(host: "localhost", port: port, group: group, tls: Self.clientTLS(certificates))

        let started = ContinuousClock.now
        var stalled: [Int32] = []
        var garbage: [Int32] = []
        for index in 0..<100 {
            let fd = connectRawTCP(port, receiveTimeout: 5)
            try #require(fd >= 0)
            if index % 2 == 0 {
                // A TLS handshake record header announcing 512 bytes, and 3 of them.
                let bytes: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01]
                _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
                stalled.append(fd)
            } else {
                let bytes = Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
                _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
                garbage.append(fd)
            }
        }
        // The good client keeps being served meanwhile.
        var served = 0
        for _ in 0..<20 {
            #expect(try await Self.get(client) == "h2 TLSv1.3 -")
            served += 1
        }
        let closedGarbage = await Task.detached { garbage.filter { Self.waitForClose($0) }.count }.value
        let garbageTime = ContinuousClock.now - started
        let closedStalled = await Task.detached { stalled.filter { Self.waitForClose($0) }.count }.value
        let stalledTime = ContinuousClock.now - started
        for fd in stalled + garbage { close(fd) }
        #expect(served == 20)
        #expect(closedGarbage == 50)
        #expect(closedStalled == 50)
        #expect(stalledTime >= .milliseconds(900) && stalledTime < .seconds(4), "stalled handshakes closed after \(stalledTime)")
        print("[tls] 50 garbage connections closed within \(garbageTime), 50 stalled ones after \(stalledTime); 20 good requests served")
        #expect(try await Self.get(client) == "h2 TLSv1.3 -")
        try await client.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test func aTLSConfigurationThatCannotBeUsedFailsTheBindInWords() async throws {
        let certificates = try await TestCertificates.shared()
        let group = EventLoopGroup(numberOfThreads: 1)
        let missing = TLSConfiguration.server(certificateChain: .file("/nonexistent/cert.pem"), privateKey: .file(certificates.file("server.key")))
        await #expect(throws: TLSError(.invalidConfiguration, "cannot read certificate chain /nonexistent/cert.pem: No such file or directory")) {
            _ = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group, tls: missing) { _, _ in }
        }
        let mismatched = TLSConfiguration.server(certificateChain: .file(certificates.file("server.pem")),
                                                 privateKey: .file(certificates.file("b-example.key")))
        await #expect(throws: TLSError.self) {
            do {
                _ = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group, tls: mismatched) { _, _ in }
            } catch let error as TLSError {
                #expect(error.message.contains("does not match the certificate for localhost"))
                throw error
            }
        }
        try await group.shutdownGracefully()
    }
}
