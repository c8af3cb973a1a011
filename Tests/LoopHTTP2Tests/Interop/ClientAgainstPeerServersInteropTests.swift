import Foundation
import InteropTestSupport
import Loop
import LoopHTTP2
import LoopTLS
import Testing

extension InteropTests {
    /// Our HTTP2Client against real HTTP/2 servers: nghttpd (nghttp2-server, 1.52) and h2o
    /// (Debian), cleartext with prior knowledge and over TLS (serving server.pem of
    /// scripts/make-test-certs.sh; the client trusts ca.pem and verifies localhost), serving
    /// files from a temporary directory.
    @Suite struct ClientAgainstPeerServersInteropTests {
        @Test(arguments: [false, true]) func http2ClientAgainstNghttpd(tls: Bool) async throws {
            let nghttpd = try Peer.nghttpd.locate()
            let certificates = tls ? try await TestCertificates.shared() : nil
            let files = try ServedFiles()
            defer { files.directory.remove() }
            let port = try freeLocalPort()
            let arguments = ["--address=127.0.0.1", "-d", files.directory.path, String(port)]
                + (certificates.map { [$0.file("server.key"), $0.file("server.pem")] } ?? [])
            let server = try BackgroundProcess(nghttpd, (tls ? [] : ["--no-tls"]) + arguments, name: tls ? "nghttpd (TLS)" : "nghttpd")
            try await withBackgroundProcess(server) { server in
                try await waitUntilAccepting(server, port: port, timeout: 20)
                try await exerciseClient(port: port, files: files, peer: server, certificates: certificates)
            }
        }

        @Test(arguments: [false, true]) func http2ClientAgainstH2O(tls: Bool) async throws {
            let h2o = try Peer.h2o.locate()
            let certificates = tls ? try await TestCertificates.shared() : nil
            let files = try ServedFiles()
            defer { files.directory.remove() }
            let port = try freeLocalPort()
            let config = try TemporaryDirectory("h2o-config")
            defer { config.remove() }
            // h2o speaks HTTP/2 with prior knowledge on a cleartext listener, and through ALPN
            // on an `ssl:` one. Started as root (reading the certificate and key then), it
            // serves as `nobody`: the directories are world-readable.
            let ssl = certificates.map {
                "\n  ssl:\n    certificate-file: \($0.file("server.pem"))\n    key-file: \($0.file("server.key"))\n    ocsp-update-interval: 0"
            } ?? ""
            try """
                listen:
                  host: 127.0.0.1
                  port: \(port)\(ssl)
                error-log: \(config.file("error.log"))
                access-log: /dev/null
                hosts:
                  default:
                    paths:
                      /:
                        file.dir: \(files.directory.path)
                """.write(toFile: config.file("h2o.conf"), atomically: true, encoding: .utf8)
            let server = try BackgroundProcess(h2o, ["-c", config.file("h2o.conf")], name: tls ? "h2o (TLS)" : "h2o")
            try await withBackgroundProcess(server) { server in
                try await waitUntilAccepting(server, port: port, timeout: 20)
                do {
                    try await exerciseClient(port: port, files: files, peer: server, certificates: certificates)
                } catch {
                    let errorLog = (try? String(contentsOfFile: config.file("error.log"), encoding: .utf8)) ?? ""
                    throw InteropError("\(error)\nh2o error log:\n\(errorLog.suffix(3000))")
                }
            }
        }

        /// A small file, a 5 MB file, concurrent requests on one connection, and a 404; over
        /// TLS (with `certificates`) first what the handshake agreed: ALPN h2 and the server's
        /// certificate, as the connection handler keeps them.
        private func exerciseClient(port: Int, files: ServedFiles, peer: BackgroundProcess, certificates: TestCertificates? = nil,
                                    sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let group = EventLoopGroup(numberOfThreads: 1)
            let started = Date()
            let tls = certificates.map { TLSConfiguration.client(trustRoots: .pem(.file($0.file("ca.pem")))) }
            do {
                try await withDeadline(60, "HTTP2Client against \(peer.name)") {
                    let host = tls == nil ? "127.0.0.1" : "localhost"
                    let client = try await HTTP2Client.connect(host: host, port: port, group: group, tls: tls)
                    let authority = "\(host):\(port)"
                    if tls != nil {
                        let info = try await client.channel.eventLoop.submit { () throws -> TLSConnectionInfo? in
                            (try client.channel.pipeline.context(name: "http2").handler as? HTTP2ConnectionHandler)?.tls
                        }.get()
                        print("[tls interop] HTTP2Client against \(peer.name): \(info.map { "\($0.negotiatedProtocol ?? "no ALPN") \($0.version) \($0.cipher), server name \($0.serverName ?? "none"), certificate \($0.peerCertificate?.subject ?? "none")" } ?? "no TLS info")")
                        #expect(info?.negotiatedProtocol == "h2", "ALPN with \(peer.name): \(String(describing: info))", sourceLocation: sourceLocation)
                        #expect(info?.peerCertificate?.subject == "CN=localhost", "the server's certificate: \(String(describing: info?.peerCertificate))",
                                sourceLocation: sourceLocation)
                        #expect(info?.peerCertificate?.names.contains("localhost") == true, sourceLocation: sourceLocation)
                    }

                    func get(_ path: String) async throws -> (status: Int, body: Data) {
                        let response = try await client.send(HTTP2RequestHead(method: "GET", path: path, authority: authority))
                        let body = try await response.body.collect(upTo: 16 << 20)
                        return (response.head.status, body.withUnsafeReadableBytes { Data($0) })
                    }

                    let small = try await get("/small.txt")
                    #expect(small.status == 200, "GET /small.txt from \(peer.name)", sourceLocation: sourceLocation)
                    #expect(small.body == files.small, "GET /small.txt from \(peer.name): \(small.body.count) bytes", sourceLocation: sourceLocation)

                    let big = try await get("/big.bin")
                    #expect(big.status == 200, "GET /big.bin from \(peer.name)", sourceLocation: sourceLocation)
                    #expect(big.body.count == files.big.count, "GET /big.bin from \(peer.name): \(big.body.count) bytes of \(files.big.count)",
                            sourceLocation: sourceLocation)
                    #expect(big.body == files.big, "GET /big.bin from \(peer.name): the body differs", sourceLocation: sourceLocation)

                    // Concurrent streams on the one connection: 16 distinct files and 2 big ones.
                    let streams = try await withThrowingTaskGroup(of: (String, Int, Data, UInt32).self) { tasks in
                        for index in 0..<16 {
                            tasks.addTask {
                                let response = try await client.send(HTTP2RequestHead(method: "GET", path: "/item-\(index).txt", authority: authority))
                                let body = try await response.body.collect(upTo: 1 << 20)
                                return ("/item-\(index).txt", response.head.status, body.withUnsafeReadableBytes { Data($0) }, response.streamID)
                            }
                        }
                        for _ in 0..<2 {
                            tasks.addTask {
                                let response = try await client.send(HTTP2RequestHead(method: "GET", path: "/big.bin", authority: authority))
                                let body = try await response.body.collect(upTo: 16 << 20)
                                return ("/big.bin", response.head.status, body.withUnsafeReadableBytes { Data($0) }, response.streamID)
                            }
                        }
                        var results: [(String, Int, Data, UInt32)] = []
                        for try await result in tasks { results.append(result) }
                        return results
                    }
                    #expect(streams.count == 18)
                    #expect(Set(streams.map(\.3)).count == 18, "18 requests should use 18 streams", sourceLocation: sourceLocation)
                    for (path, status, body, _) in streams {
                        let expected = path == "/big.bin" ? files.big : files.item(Int(path.dropFirst("/item-".count).dropLast(".txt".count))!)
                        #expect(status == 200, "GET \(path) from \(peer.name)", sourceLocation: sourceLocation)
                        #expect(body == expected, "GET \(path) from \(peer.name): \(body.count) bytes, expected \(expected.count)",
                                sourceLocation: sourceLocation)
                    }

                    let missing = try await get("/no-such-file.txt")
                    #expect(missing.status == 404, "GET /no-such-file.txt from \(peer.name)", sourceLocation: sourceLocation)

                    try await client.close()
                }
            } catch {
                try? await withDeadline(10, "EventLoopGroup.shutdownGracefully()") { try await group.shutdownGracefully() }
                throw InteropError("\(error)\n\(peer.name) output:\n\(peer.log.suffix(3000))")
            }
            try await withDeadline(10, "EventLoopGroup.shutdownGracefully()") { try await group.shutdownGracefully() }
            reportTiming("HTTP2Client against \(peer.name): small, 5 MB, 18 concurrent, 404", seconds: Date().timeIntervalSince(started))
            #expect(peer.isRunning, "\(peer.name) exited during the test (\(peer.exitDescription)):\n\(peer.log.suffix(3000))",
                    sourceLocation: sourceLocation)
        }
    }
}

/// The files the peer servers serve: small.txt, big.bin (5 MB random), item-N.txt.
struct ServedFiles: Sendable {
    let directory: TemporaryDirectory
    let small: Data
    let big: Data

    init() throws {
        directory = try TemporaryDirectory("www")
        small = Data("Hello from a real peer server.\n".utf8)
        big = try randomBytes(5 << 20)
        try small.write(to: URL(fileURLWithPath: directory.file("small.txt")))
        try big.write(to: URL(fileURLWithPath: directory.file("big.bin")))
        for index in 0..<16 {
            try item(index).write(to: URL(fileURLWithPath: directory.file("item-\(index).txt")))
        }
    }

    /// Distinct contents of different lengths for item-N.txt.
    func item(_ index: Int) -> Data {
        Data(String(repeating: "item \(index) ", count: 1 + index * 50).utf8)
    }
}
