import Foundation
import InteropTestSupport
import Testing

extension InteropTests {
    /// Real peers on ONE port of the release `HTTP2Server --http1`: curl over HTTP/1.1
    /// (keep-alive, 100-continue), curl and nghttp upgrading to h2c (RFC 7540 §3.2) and with
    /// prior knowledge (RFC 9113 §3.3), h2load over HTTP/1.1 and h2c. A fresh server per test.
    @Suite struct OnePortInteropTests {
        /// The release HTTP2Server with `--http1` on 127.0.0.1 and a port the kernel picked;
        /// `body` gets its base URL. The server must survive.
        static func withOnePortServer(_ body: (String) async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let binary = try locateReleaseProduct("HTTP2Server")
            let process = try BackgroundProcess(binary, ["--host", "127.0.0.1", "--port", "0", "--http1"], name: "HTTP2Server (release, --http1)")
            try await withBackgroundProcess(process) { process in
                let port = try await process.waitForOutput(timeout: 20) { text -> Int? in
                    guard let range = text.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else { return nil }
                    return Int(text[range].split(separator: ":").last!)
                }
                try await body("http://127.0.0.1:\(port)")
                if !process.isRunning {
                    Issue.record("HTTP2Server died (\(process.exitDescription)):\n\(process.log.suffix(4000))", sourceLocation: sourceLocation)
                }
            }
        }

        static func curl(_ arguments: [String], timeout: Double = 30) async throws -> ProcessResult {
            let result = try await runProcess(try Peer.curl.locate(), ["-sS", "--max-time", String(Int(timeout) - 5)] + arguments, timeout: timeout)
            #expect(result.status == 0, "curl \(arguments) exited \(result.status): \(result.stderr)")
            return result
        }

        // MARK: curl

        @Test func curlHTTP1_1GetsHello() async throws {
            try await Self.withOnePortServer { url in
                let result = try await Self.curl(["--http1.1", "-w", "|%{http_version} %{http_code} %{num_connects}", "\(url)/hello"])
                #expect(result.stdout == "Hello, world!|1.1 200 1")
            }
        }

        /// 2 MiB POSTed over HTTP/1.1 (curl sends `Expect: 100-continue` for a body this size)
        /// come back byte for byte.
        @Test func curlHTTP1_1PostIsEchoedByteExactAfter100Continue() async throws {
            try await Self.withOnePortServer { url in
                let scratch = try TemporaryDirectory("one-port-post")
                defer { scratch.remove() }
                let sent = try randomBytes(2 << 20)
                try sent.write(to: URL(fileURLWithPath: scratch.file("in")))
                let result = try await Self.curl(["--http1.1", "-v", "--data-binary", "@\(scratch.file("in"))", "-H", "content-type: application/octet-stream",
                                                  "-o", scratch.file("out"), "-w", "%{http_version} %{http_code} %{size_upload} %{size_download}",
                                                  "\(url)/echo"], timeout: 60)
                #expect(result.stdout == "1.1 200 2097152 2097152")
                #expect(result.stderr.contains("< HTTP/1.1 100 Continue"), "\(result.stderr.suffix(2000))")
                #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.file("out"))) == sent, "the echo differs from the upload")
            }
        }

        /// Five URLs in one curl: one connection (num_connects 1, then 0 for each reuse).
        @Test func rfc9112Section9_3CurlHTTP1_1ReusesOneKeepAliveConnection() async throws {
            try await Self.withOnePortServer { url in
                let scratch = try TemporaryDirectory("one-port-keepalive")
                defer { scratch.remove() }
                let paths = ["/hello", "/echo-size/5", "/hello", "/echo-size/100000", "/hello"]
                let result = try await Self.curl(["--http1.1", "-w", "%{http_code} %{num_connects} %{size_download}\n"]
                                                 + paths.enumerated().flatMap { ["-o", scratch.file("\($0.offset)"), url + $0.element] })
                #expect(result.stdout == "200 1 13\n200 0 5\n200 0 13\n200 0 100000\n200 0 13\n")
                #expect(try String(contentsOfFile: scratch.file("4"), encoding: .utf8) == "Hello, world!")
            }
        }

        /// `curl --http2` on an http:// URL asks for h2c with Upgrade: 101, then HTTP/2.
        @Test func rfc7540Section3_2CurlHTTP2UpgradesToH2c() async throws {
            try await Self.withOnePortServer { url in
                let result = try await Self.curl(["--http2", "-v", "-w", "|%{http_version} %{http_code}", "\(url)/hello"])
                #expect(result.stdout == "Hello, world!|2 200")
                #expect(result.stderr.contains("< HTTP/1.1 101 Switching Protocols"), "\(result.stderr.suffix(2000))")
                // A request with a body is not upgraded (the server's choice): it is served over HTTP/1.1.
                let post = try await Self.curl(["--http2", "--data-binary", "hi there", "-w", "|%{http_version} %{http_code}", "\(url)/echo"])
                #expect(post.stdout == "hi there|1.1 200")
            }
        }

        @Test func rfc9113Section3_3CurlWithPriorKnowledgeGetsHello() async throws {
            try await Self.withOnePortServer { url in
                let result = try await Self.curl(["--http2-prior-knowledge", "-w", "|%{http_version} %{http_code}", "\(url)/hello"])
                #expect(result.stdout == "Hello, world!|2 200")
            }
        }

        // MARK: nghttp

        @Test func rfc7540Section3_2NghttpUpgradesToH2c() async throws {
            let nghttp = try Peer.nghttp.locate()
            try await Self.withOnePortServer { url in
                let verbose = try await runProcess(nghttp, ["-u", "-v", "--timeout=20", "\(url)/hello"], timeout: 30)
                #expect(verbose.status == 0, "nghttp -u exited \(verbose.status): \(verbose.stdout)\(verbose.stderr)")
                for line in ["HTTP/1.1 101 Switching Protocols", "HTTP Upgrade success", "recv (stream_id=1) :status: 200"] {
                    #expect(verbose.stdout.contains(line), "no \(line.debugDescription) in nghttp's log:\n\(verbose.stdout)")
                }
                // Nothing from the server but the answer (nghttp itself ends with GOAWAY(NO_ERROR)).
                #expect(!verbose.stdout.contains("recv RST_STREAM") && !verbose.stdout.contains("recv GOAWAY"), "\(verbose.stdout)")
                let plain = try await runProcess(nghttp, ["-u", "--timeout=20", "\(url)/hello"], timeout: 30)
                #expect(plain.status == 0 && plain.stdout == "Hello, world!", "\(plain.stdout)\(plain.stderr)")
            }
        }

        @Test func rfc9113Section3_4NghttpWithPriorKnowledgeSeesTheServersSettingsFirst() async throws {
            let nghttp = try Peer.nghttp.locate()
            try await Self.withOnePortServer { url in
                let verbose = try await runProcess(nghttp, ["-nv", "--timeout=20", "\(url)/hello"], timeout: 30)
                #expect(verbose.status == 0, "nghttp exited \(verbose.status): \(verbose.stdout)\(verbose.stderr)")
                let settings = verbose.stdout.range(of: #"recv SETTINGS frame <length=[0-9]+, flags=0x00, stream_id=0>"#, options: .regularExpression)
                let status = verbose.stdout.range(of: #"recv \(stream_id=[0-9]+\) :status: 200"#, options: .regularExpression)
                #expect(settings != nil && status != nil, "\(verbose.stdout)")
                if let settings, let status { #expect(settings.lowerBound < status.lowerBound, "the response came before SETTINGS:\n\(verbose.stdout)") }
                let plain = try await runProcess(nghttp, ["--timeout=20", "\(url)/hello"], timeout: 30)
                #expect(plain.status == 0 && plain.stdout == "Hello, world!", "\(plain.stdout)\(plain.stderr)")
            }
        }

        // MARK: h2load

        static func h2load(_ arguments: [String], protocol expected: String) async throws {
            let result = try await runProcess(try Peer.h2load.locate(), arguments, timeout: 120)
            reportTiming("h2load \(arguments.dropLast().joined(separator: " ")) (release server, one port)", seconds: result.seconds)
            #expect(result.status == 0, "h2load exited \(result.status)\n\(result.stdout.suffix(2000))\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.contains("Application protocol: \(expected)"), "\(result.stdout.suffix(2000))")
            #expect(lines.contains("requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout"),
                    "\(result.stdout.suffix(2000))")
            #expect(lines.contains("status codes: 2000 2xx, 0 3xx, 0 4xx, 0 5xx"), "\(result.stdout.suffix(2000))")
        }

        @Test func h2loadOverHTTP1_1AllSucceed() async throws {
            try await Self.withOnePortServer { url in
                try await Self.h2load(["--h1", "-n", "2000", "-c", "4", "\(url)/hello"], protocol: "http/1.1")
            }
        }

        @Test func h2loadOverH2cAllSucceed() async throws {
            try await Self.withOnePortServer { url in
                try await Self.h2load(["-n", "2000", "-c", "4", "-m", "10", "\(url)/hello"], protocol: "h2c")
            }
        }

        /// Both at the same time on the same port, beside an h2c upgrade.
        @Test func h2loadOverHTTP1_1AndH2cAtOnceOnOnePort() async throws {
            try await Self.withOnePortServer { url in
                async let http1: Void = Self.h2load(["--h1", "-n", "2000", "-c", "4", "\(url)/echo-size/1000"], protocol: "http/1.1")
                async let http2: Void = Self.h2load(["-n", "2000", "-c", "4", "-m", "10", "\(url)/echo-size/1000"], protocol: "h2c")
                let upgraded = try await Self.curl(["--http2", "-w", "|%{http_version} %{http_code}", "\(url)/hello"])
                #expect(upgraded.stdout == "Hello, world!|2 200")
                _ = try await (http1, http2)
            }
        }
    }
}
