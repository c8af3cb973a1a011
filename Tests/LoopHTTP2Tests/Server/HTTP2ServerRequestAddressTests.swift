import InteropTestSupport
import Loop
import Testing
@testable import LoopHTTP2

/// A request knows where it came from and where it arrived: `HTTP2ServerRequest.remoteAddress`
/// and `localAddress`, over TCP and over a Unix domain socket.
@Suite struct HTTP2ServerRequestAddressTests {
    @Test func aRequestCarriesBothEndsAddressesOverTCP() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group) { request, response in
            let text = "\(request.remoteAddress.map { "\($0)" } ?? "none") \(request.localAddress.map { "\($0)" } ?? "none")"
            try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: text))
        }
        let port = server.localAddress!.port
        let client = try await HTTP2Client.connect(host: "127.0.0.1", port: port, group: group)
        let response = try await client.send(HTTP2RequestHead(method: "GET", path: "/", authority: "127.0.0.1"))
        let body = String(decoding: try await response.body.collect(upTo: 1024).readableBytesView, as: UTF8.self)
        let clientPort = client.channel.localAddress!.port
        #expect(body == "127.0.0.1:\(clientPort) 127.0.0.1:\(port)")
        try await client.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test func overAUnixDomainSocketTheLocalAddressIsItsPath() async throws {
        let scratch = try TemporaryDirectory("h2-address")
        defer { scratch.remove() }
        let path = scratch.file("h2.sock")
        let group = EventLoopGroup(numberOfThreads: 1)
        let server = try await HTTP2Server.bind(.unixDomainSocket(path: path), group: group) { request, response in
            let text = request.localAddress?.unixDomainSocketPath ?? "none"
            try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: text))
        }
        let client = try await HTTP2Client.connect(to: .unixDomainSocket(path: path), group: group)
        let response = try await client.send(HTTP2RequestHead(method: "GET", path: "/", authority: "localhost"))
        let body = String(decoding: try await response.body.collect(upTo: 1024).readableBytesView, as: UTF8.self)
        #expect(body == path)
        try await client.close()
        try await server.close()
        try await group.shutdownGracefully()
    }
}
