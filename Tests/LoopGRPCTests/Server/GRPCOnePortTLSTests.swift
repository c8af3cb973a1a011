import Foundation
import InteropTestSupport
import Loop
import LoopHTTP2
import LoopTLS
import Testing
@testable import LoopGRPC

/// One port over TLS: the detector hands a ClientHello to the TLS handler, and behind it ALPN
/// (or the plaintext's first bytes) picks HTTP/2 or HTTP/1.1. Cleartext on a TLS port is refused
/// unless `servesCleartextBesideTLS`.
@Suite(.serialized) struct GRPCOnePortTLSTests {
    let codec = ByteBufferCodec()

    private func withServer(cleartextToo: Bool = false, _ body: (Int, TestCertificates) async throws -> Void) async throws {
        let certificates = try await TestCertificates.shared()
        let group = EventLoopGroup(numberOfThreads: 1)
        var configuration = GRPCTLSTests.serverConfiguration(certificates)
        configuration.http2.http1?.servesCleartextBesideTLS = cleartextToo
        configuration.httpHandler = { request, response in
            let scheme = request.tls == nil ? "cleartext" : "tls \(request.tls?.negotiatedProtocol ?? "-")"
            try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: "\(request.head.path) over \(scheme)"))
        }
        let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [EchoService()], configuration: configuration)
        do {
            try await body(server.port, certificates)
        } catch {
            try? await server.close()
            try? await group.shutdownGracefully()
            throw error
        }
        try await server.close()
        try await group.shutdownGracefully()
    }

    private func curl(_ arguments: [String]) async throws -> ProcessResult {
        try await runProcess(try Peer(name: "curl", package: "curl").locate(), ["-sS"] + arguments, timeout: 30)
    }

    @Test func gRPCAndHTTP1AndHTTP2OverTLSOnOnePort() async throws {
        try await withServer { port, certificates in
            let channel = GRPCChannel(host: "localhost", port: port, group: EventLoopGroup(numberOfThreads: 1),
                                      configuration: GRPCTLSTests.channelConfiguration(certificates))
            let response = try await channel.unary(path: EchoService.unary, request: ByteBuffer(string: "grpc over tls"),
                                                   serializer: codec, deserializer: codec, options: GRPCCallOptions())
            #expect(String(decoding: response.message.readableBytesView, as: UTF8.self) == "grpc over tls")
            await channel.close()
            let url = "https://localhost:\(port)/healthz"
            let tlsOptions = ["--cacert", certificates.file("ca.pem"), "--resolve", "localhost:\(port):127.0.0.1", "-w", " %{http_version}"]
            let http1 = try await curl(tlsOptions + ["--http1.1", url])
            #expect(http1.stdout == "/healthz over tls http/1.1 1.1", "\(http1.stdout)\(http1.stderr)")
            let http2 = try await curl(tlsOptions + ["--http2", url])
            #expect(http2.stdout == "/healthz over tls h2 2", "\(http2.stdout)\(http2.stderr)")
            // Cleartext on the TLS port: closed without an answer.
            let cleartext = try await curl(["http://127.0.0.1:\(port)/healthz"])
            #expect(cleartext.status != 0 && cleartext.stdout.isEmpty, "\(cleartext.stdout)")
        }
    }

    @Test func cleartextBesideTLSWhenAsked() async throws {
        try await withServer(cleartextToo: true) { port, certificates in
            let cleartext = try await curl(["http://127.0.0.1:\(port)/healthz"])
            #expect(cleartext.stdout == "/healthz over cleartext", "\(cleartext.stdout)\(cleartext.stderr)")
            let prior = try await curl(["--http2-prior-knowledge", "http://127.0.0.1:\(port)/healthz"])
            #expect(prior.stdout == "/healthz over cleartext", "\(prior.stdout)\(prior.stderr)")
            let tls = try await curl(["--cacert", certificates.file("ca.pem"), "--resolve", "localhost:\(port):127.0.0.1",
                                      "https://localhost:\(port)/healthz"])
            #expect(tls.stdout == "/healthz over tls h2", "\(tls.stdout)\(tls.stderr)")
        }
    }
}
