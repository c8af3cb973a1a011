import Foundation
import InteropTestSupport
import Loop
import LoopHTTP2
import LoopTLS
import Testing

extension InteropTests {
    /// HTTP/2 over TLS (issue #12) with real peers: curl, nghttp, h2load and openssl s_client
    /// against the HTTP2Server example serving the server.pem of scripts/make-test-certs.sh
    /// (for localhost and 127.0.0.1, signed by ca.pem). Our HTTP2Client against nghttpd and h2o
    /// over TLS is in ClientAgainstPeerServersInteropTests.
    @Suite struct TLSPeerInteropTests {
        // MARK: Peer clients against HTTP2Server --tls-cert --tls-key

        /// curl --http2 --cacert ca.pem https://localhost:PORT/hello: verified by name,
        /// HTTP/2 through ALPN, "Hello, world!".
        @Test func curlOverTLSGetsHelloOverHTTP2() async throws {
            let curl = try Peer.curl.locate()
            let certificates = try await TestCertificates.shared()
            try await withTLSDemoServer(certificates) { server in
                let scratch = try TemporaryDirectory("curl-tls-hello")
                defer { scratch.remove() }
                let result = try await runProcess(curl, ["-sS", "--http2", "--cacert", certificates.file("ca.pem"), "--max-time", "20",
                                                         "-o", scratch.file("body"), "-w", "%{http_version} %{http_code}",
                                                         "https://localhost:\(server.port)/hello"], timeout: 30)
                #expect(result.status == 0, "curl exited \(result.status): \(result.stderr)")
                #expect(result.stdout == "2 200", "curl -w '%{http_version} %{http_code}' said \(result.stdout)")
                #expect(try String(contentsOfFile: scratch.file("body"), encoding: .utf8) == "Hello, world!")
            }
        }

        /// curl --http1.1 offers only http/1.1 through ALPN: the server refuses the handshake
        /// with the no_application_protocol alert (RFC 7301 §3.2), which curl reports as exit
        /// 35 (SSL connect error) naming it; the server stays up and serves --http2 next.
        @Test func curlHTTP11OverTLSIsRefusedWithNoApplicationProtocol() async throws {
            let curl = try Peer.curl.locate()
            let certificates = try await TestCertificates.shared()
            try await withTLSDemoServer(certificates) { server in
                let refused = try await runProcess(curl, ["-sS", "--http1.1", "--cacert", certificates.file("ca.pem"), "--max-time", "20",
                                                          "-o", "/dev/null", "https://localhost:\(server.port)/hello"], timeout: 30)
                print("[tls interop] curl --http1.1: exit \(refused.status): \(refused.stderr)")
                #expect(refused.status == 35, "curl --http1.1 exited \(refused.status) (35 expected): \(refused.stderr)")
                #expect(refused.stderr.contains("no application protocol"), "curl --http1.1 said: \(refused.stderr)")
                server.expectAlive("after refusing curl --http1.1")

                let next = try await runProcess(curl, ["-sS", "--http2", "--cacert", certificates.file("ca.pem"), "--max-time", "20",
                                                       "-w", " %{http_version}", "https://localhost:\(server.port)/hello"], timeout: 30)
                #expect(next.status == 0, "curl --http2 after the refusal exited \(next.status): \(next.stderr)")
                #expect(next.stdout == "Hello, world! 2", "curl --http2 after the refusal said \(next.stdout)")
            }
        }

        /// nghttp -nv https://127.0.0.1:PORT/hello (nghttp does not verify the certificate):
        /// ALPN h2, the server's SETTINGS, :status 200 and the 13-byte body; plain nghttp
        /// prints the body.
        @Test func nghttpOverTLSGetsHello() async throws {
            let nghttp = try Peer.nghttp.locate()
            let certificates = try await TestCertificates.shared()
            try await withTLSDemoServer(certificates) { server in
                let url = "https://127.0.0.1:\(server.port)/hello"
                let verbose = try await runProcess(nghttp, ["-nv", "--timeout=20", url], timeout: 30)
                let log = verbose.stdout
                #expect(verbose.status == 0, "nghttp -nv exited \(verbose.status)\n\(log)\(verbose.stderr)")
                #expect(log.contains("The negotiated protocol: h2"), "no ALPN h2 in nghttp's log:\n\(log)")
                #expect(log.range(of: #"recv SETTINGS frame <length=[0-9]+, flags=0x00, stream_id=0>"#, options: .regularExpression) != nil,
                        "no SETTINGS from the server in nghttp's log:\n\(log)")
                #expect(log.range(of: #"recv \(stream_id=[0-9]+\) :status: 200"#, options: .regularExpression) != nil,
                        "no :status 200 in nghttp's log:\n\(log)")
                #expect(log.range(of: #"recv DATA frame <length=13, flags=0x01, stream_id=[0-9]+>"#, options: .regularExpression) != nil,
                        "no 13-byte DATA with END_STREAM in nghttp's log:\n\(log)")
                #expect(!log.contains("RST_STREAM") && !log.contains("error_code=PROTOCOL_ERROR"), "unexpected error frames:\n\(log)")

                let plain = try await runProcess(nghttp, ["--timeout=20", url], timeout: 30)
                #expect(plain.status == 0, "nghttp exited \(plain.status): \(plain.stderr)")
                #expect(plain.stdout == "Hello, world!")
            }
        }

        /// h2load -n 100000 -c 10 -m 10 over TLS: every request succeeds, on TLS 1.3 with ALPN
        /// h2. Against the release server (`make test` builds it) with one thread: 0.5-0.8 s
        /// (a debug build took 2-3.5 s of both cores, long enough to starve other suites'
        /// timing); the hard timeout is 120 s.
        @Test func h2loadOverTLSHundredThousandRequestsAllSucceed() async throws {
            let h2load = try Peer.h2load.locate()
            let certificates = try await TestCertificates.shared()
            try await withTLSDemoServer(certificates, release: true) { server in
                let result = try await runProcess(h2load, ["-n", "100000", "-c", "10", "-m", "10", "https://127.0.0.1:\(server.port)/hello"],
                                                  timeout: 120)
                reportTiming("h2load -n 100000 -c 10 -m 10 over TLS (release server)", seconds: result.seconds)
                let lines = result.stdout.split(separator: "\n").map(String.init)
                print("[tls interop] h2load over TLS:\n\(lines.filter { !$0.hasPrefix("progress:") && !$0.hasPrefix("spawning") }.joined(separator: "\n"))")
                #expect(result.status == 0, "h2load exited \(result.status)\n\(result.stdout.suffix(2000))\(result.stderr)")
                let requests = lines.first { $0.hasPrefix("requests: ") }
                #expect(requests == "requests: 100000 total, 100000 started, 100000 done, 100000 succeeded, 0 failed, 0 errored, 0 timeout",
                        "h2load said: \(requests ?? "no requests: line")\n\(result.stdout.suffix(2000))")
                let statuses = lines.first { $0.hasPrefix("status codes: ") }
                #expect(statuses == "status codes: 100000 2xx, 0 3xx, 0 4xx, 0 5xx", "h2load said: \(statuses ?? "no status codes: line")")
                #expect(lines.contains("Application protocol: h2"), "h2load did not report ALPN h2:\n\(result.stdout.suffix(2000))")
                #expect(lines.contains { $0.hasPrefix("TLS Protocol: TLSv1.3") }, "h2load did not report TLS 1.3:\n\(result.stdout.suffix(2000))")
            }
        }

        /// openssl s_client -alpn h2 -CAfile ca.pem -verify_hostname localhost
        /// -verify_return_error (standard input /dev/null: it closes after the handshake): the
        /// handshake verifies (return code 0) and selects h2, on TLS 1.3.
        ///
        /// s_client prints what the server sends raw to standard output: the server's SETTINGS
        /// frame when it arrives before s_client sees the end of its input (the server preface
        /// goes out right after the handshake), which is not UTF-8. runProcess would read such
        /// output as empty, so it goes to a file through the shell and is decoded leniently.
        @Test func opensslSClientVerifiesAndSelectsH2() async throws {
            let openssl = try Peer.openssl.locate()
            let certificates = try await TestCertificates.shared()
            try await withTLSDemoServer(certificates) { server in
                let scratch = try TemporaryDirectory("s_client")
                defer { scratch.remove() }
                let result = try await runProcess("/bin/sh", ["-c", #"out=$1; shift; exec "$@" > "$out""#, "sh", scratch.file("stdout"),
                                                              openssl, "s_client", "-connect", "127.0.0.1:\(server.port)", "-alpn", "h2",
                                                              "-CAfile", certificates.file("ca.pem"), "-verify_hostname", "localhost",
                                                              "-verify_return_error"], timeout: 30)
                let bytes = try Data(contentsOf: URL(fileURLWithPath: scratch.file("stdout")))
                let stdout = String(decoding: bytes, as: UTF8.self)
                let output = stdout + result.stderr
                #expect(result.status == 0, "openssl s_client exited \(result.status):\n\(output.suffix(4000))")
                #expect(stdout.contains("\nALPN protocol: h2\n"), "openssl s_client said:\n\(output.suffix(4000))")
                #expect(stdout.contains("\nVerify return code: 0 (ok)\n"), "openssl s_client said:\n\(output.suffix(4000))")
                #expect(stdout.contains("New, TLSv1.3, Cipher is "), "openssl s_client said:\n\(output.suffix(4000))")
            }
        }
    }
}

extension Peer {
    static let openssl = Peer(name: "openssl", package: "openssl")
}

/// The HTTP2Server example serving TLS with
/// server.pem/server.key on 127.0.0.1 and a port the kernel picked (read from its "listening
/// on" line, as DemoServer does); checks that it survived `body`, and kills it — also when
/// `body` throws.
private func withTLSDemoServer<T>(_ certificates: TestCertificates, release: Bool = false,
                                  _ body: (TLSDemoServer) async throws -> T,
                                  sourceLocation: SourceLocation = #_sourceLocation) async throws -> T {
    let binary = release ? try locateReleaseProduct("HTTP2Server") : try locateHTTP2ServerBinary()
    let process = try BackgroundProcess(binary, ["--host", "127.0.0.1", "--port", "0", "--threads", "1",
                                                 "--tls-cert", certificates.file("server.pem"), "--tls-key", certificates.file("server.key")],
                                        name: "HTTP2Server (TLS)")
    let server: TLSDemoServer
    do {
        let port = try await process.waitForOutput(timeout: 20) { text -> Int? in
            guard let range = text.range(of: #"listening on 127\.0\.0\.1:[0-9]+ \(TLS"#, options: .regularExpression) else { return nil }
            return Int(text[range].dropFirst("listening on 127.0.0.1:".count).dropLast(" (TLS".count))
        }
        server = TLSDemoServer(process: process, port: port)
    } catch {
        await process.stop()
        throw error
    }
    do {
        let result = try await body(server)
        server.expectAlive("during the test", sourceLocation: sourceLocation)
        await process.stop()
        return result
    } catch {
        server.expectAlive("during the test", sourceLocation: sourceLocation)
        await process.stop()
        throw InteropError("\(error)\nHTTP2Server output:\n\(process.log.suffix(3000))")
    }
}

private struct TLSDemoServer: Sendable {
    let process: BackgroundProcess
    let port: Int

    func expectAlive(_ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if !process.isRunning {
            Issue.record("HTTP2Server (TLS) died \(context) (\(process.exitDescription)); its output:\n\(process.log.suffix(6000))",
                         sourceLocation: sourceLocation)
        }
    }
}
