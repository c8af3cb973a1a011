import Foundation
import InteropTestSupport
import Testing

extension InteropTests {
    /// Real HTTP/2 clients (nghttp, curl, h2load from nghttp2 and curl's Debian packages)
    /// against the HTTP2Server example, started as a separate process for each test.
    @Suite struct PeerClientsInteropTests {
        @Test func nghttpGetsHelloAndSeesTheServersSettings() async throws {
            let nghttp = try Peer.nghttp.locate()
            try await withDemoServer(["--frame-log"]) { server in
                let url = "\(server.url)/hello"
                let verbose = try await runProcess(nghttp, ["-nv", "--timeout=20", url], timeout: 30)
                #expect(verbose.status == 0, "nghttp -nv exited \(verbose.status)\n\(verbose.stdout)\(verbose.stderr)")
                let log = verbose.stdout
                // The server's SETTINGS (not an ACK) arrive, before the response (the
                // handshake rule: a server that accepts HTTP/2 sends SETTINGS at once).
                let settings = log.range(of: #"recv SETTINGS frame <length=[0-9]+, flags=0x00, stream_id=0>"#, options: .regularExpression)
                let status = log.range(of: #"recv \(stream_id=[0-9]+\) :status: 200"#, options: .regularExpression)
                let data = log.range(of: #"recv DATA frame <length=13, flags=0x01, stream_id=[0-9]+>"#, options: .regularExpression)
                #expect(settings != nil, "no SETTINGS from the server in nghttp's log:\n\(log)")
                #expect(status != nil, "no :status 200 in nghttp's log:\n\(log)")
                #expect(data != nil, "no 13-byte DATA with END_STREAM in nghttp's log:\n\(log)")
                if let settings, let status { #expect(settings.lowerBound < status.lowerBound, "the response came before the server's SETTINGS:\n\(log)") }
                #expect(!log.contains("RST_STREAM") && !log.contains("error_code=PROTOCOL_ERROR"), "unexpected error frames:\n\(log)")

                // The body itself (-n discards it): plain nghttp prints it to stdout.
                let plain = try await runProcess(nghttp, ["--timeout=20", url], timeout: 30)
                #expect(plain.status == 0, "nghttp exited \(plain.status): \(plain.stderr)")
                #expect(plain.stdout == "Hello, world!")

                // The server's own frame log: its SETTINGS went out first on the connection.
                let serverLog = server.process.log
                let frameLines = serverLog.split(separator: "\n").map(String.init).filter {
                    $0.range(of: #"^(\[[^\]]*\] )?(send|recv) "#, options: .regularExpression) != nil
                }
                #expect(frameLines.first?.range(of: #"^(\[[^\]]*\] )?send SETTINGS \["#, options: .regularExpression) != nil,
                        "the server's first frame was not its SETTINGS:\n\(serverLog.prefix(3000))")
            }
        }

        @Test func curlWithPriorKnowledgeGetsHelloOverHTTP2() async throws {
            let curl = try Peer.curl.locate()
            try await withDemoServer { server in
                let scratch = try TemporaryDirectory("curl-hello")
                defer { scratch.remove() }
                let body = scratch.file("body")
                let result = try await runProcess(curl, ["-sS", "--http2-prior-knowledge", "--max-time", "20", "-o", body,
                                                         "-w", "%{http_version} %{http_code}", "\(server.url)/hello"], timeout: 30)
                #expect(result.status == 0, "curl exited \(result.status): \(result.stderr)")
                #expect(result.stdout == "2 200", "curl -w '%{http_version} %{http_code}' said \(result.stdout)")
                #expect(try String(contentsOfFile: body, encoding: .utf8) == "Hello, world!")
            }
        }

        /// h2load -n 100000 -c 10 -m 100: every request succeeds. About 5 s on a debug build
        /// on the 2-core machine; the hard timeout is 120 s.
        @Test func h2loadHundredThousandRequestsAllSucceed() async throws {
            let h2load = try Peer.h2load.locate()
            try await withDemoServer { server in
                let result = try await runProcess(h2load, ["-n", "100000", "-c", "10", "-m", "100", "\(server.url)/hello"], timeout: 120)
                reportTiming("h2load -n 100000 -c 10 -m 100 (debug server)", seconds: result.seconds)
                #expect(result.status == 0, "h2load exited \(result.status)\n\(result.stdout.suffix(2000))\(result.stderr)")
                let requests = result.stdout.split(separator: "\n").first { $0.hasPrefix("requests: ") }.map(String.init)
                #expect(requests == "requests: 100000 total, 100000 started, 100000 done, 100000 succeeded, 0 failed, 0 errored, 0 timeout",
                        "h2load said: \(requests ?? "no requests: line")\n\(result.stdout.suffix(2000))")
                let statuses = result.stdout.split(separator: "\n").first { $0.hasPrefix("status codes: ") }.map(String.init)
                #expect(statuses == "status codes: 100000 2xx, 0 3xx, 0 4xx, 0 5xx", "h2load said: \(statuses ?? "no status codes: line")")
            }
        }

        /// 100 MB of random bytes POSTed to /echo come back byte for byte. About 1 s on a debug
        /// build; the hard timeout is 120 s.
        @Test func curlEchoesHundredMegabytesByteExact() async throws {
            let curl = try Peer.curl.locate()
            try await withDemoServer { server in
                let scratch = try TemporaryDirectory("echo-100mb")
                defer { scratch.remove() }
                let input = scratch.file("in.bin")
                let output = scratch.file("out.bin")
                let sent = try randomBytes(100 << 20)
                try sent.write(to: URL(fileURLWithPath: input))
                let result = try await runProcess(curl, ["-sS", "--http2-prior-knowledge", "--max-time", "110",
                                                         "--data-binary", "@\(input)", "-H", "content-type: application/octet-stream",
                                                         "-o", output, "-w", "%{http_version} %{http_code} %{size_upload} %{size_download}",
                                                         "\(server.url)/echo"], timeout: 120)
                reportTiming("curl POST /echo 100 MB round trip (debug server)", seconds: result.seconds)
                #expect(result.status == 0, "curl exited \(result.status): \(result.stderr)")
                #expect(result.stdout == "2 200 104857600 104857600", "curl -w said \(result.stdout)")
                let received = try Data(contentsOf: URL(fileURLWithPath: output))
                #expect(received.count == sent.count, "echoed \(received.count) bytes of \(sent.count)")
                if received != sent {
                    let firstDifference = zip(received, sent).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    Issue.record("the echoed body differs from the upload (first difference at byte \(firstDifference.map(String.init) ?? "past the shorter one"))")
                }
            }
        }
    }
}
