import Foundation
import InteropTestSupport
import Testing
import Loop
@testable import LoopHTTP2

/// Our client against our async server, in process.
@Suite struct HTTP2ClientServerTests {
    @Test func requestsRoundTripConcurrentlyOnOneConnection() async throws {
        let group = EventLoopGroup(numberOfThreads: 2)
        let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 0, group: group) { request, response in
            switch request.head.path {
            case "/echo":
                let body = try await request.body.collect(upTo: 64 << 20)
                try await response.respond(HTTP2ResponseHead(status: 200), body: body)
            default:
                try await response.respond(HTTP2ResponseHead(status: 200, headers: [HPACKHeader("x-path", request.head.path)]),
                                           body: ByteBuffer(string: "hello \(request.head.path)"))
            }
        }
        let port = server.localAddress!.port
        let client = try await HTTP2Client.connect(host: "127.0.0.1", port: port, group: group)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for index in 0..<50 {
                tasks.addTask {
                    let response = try await client.send(HTTP2RequestHead(method: "GET", path: "/item/\(index)", authority: "localhost"))
                    #expect(response.head.status == 200)
                    #expect(response.head.header("x-path") == "/item/\(index)")
                    let body = try await response.body.collect(upTo: 1024)
                    #expect(String(decoding: body.readableBytesView, as: UTF8.self) == "hello /item/\(index)")
                }
            }
            try await tasks.waitForAll()
        }
        // A body larger than every window: credit must flow back as the server consumes.
        var big = ByteBuffer()
        for index in 0..<(5 << 20) / 4 { big.writeInteger(UInt32(truncatingIfNeeded: index &* 2_654_435_761)) }
        let echoed = try await client.send(HTTP2RequestHead(method: "POST", path: "/echo", authority: "localhost"), body: big)
        #expect(echoed.head.status == 200)
        let back = try await echoed.body.collect(upTo: 64 << 20)
        #expect(back == big)
        try await client.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test func requestOverAUnixDomainSocket() async throws {
        let scratch = try TemporaryDirectory("h2-unix")
        defer { scratch.remove() }
        let path = scratch.file("h2.sock")
        let group = EventLoopGroup(numberOfThreads: 2)
        let server = try await HTTP2Server.bind(.unixDomainSocket(path: path), group: group) { request, response in
            let body = try await request.body.collect(upTo: 1 << 20)
            try await response.respond(HTTP2ResponseHead(status: 200, headers: [HPACKHeader("x-authority", request.head.authority)]),
                                       body: ByteBuffer(string: "\(request.head.path) got \(body.readableBytes) bytes"))
        }
        #expect(server.localAddress?.unixDomainSocketPath == path)
        let client = try await HTTP2Client.connect(to: .unixDomainSocket(path: path), group: group)
        let response = try await client.send(HTTP2RequestHead(method: "POST", path: "/upload", authority: "localhost"),
                                             body: ByteBuffer(string: "hello"))
        #expect(response.head.status == 200)
        #expect(response.head.header("x-authority") == "localhost")
        let body = try await response.body.collect(upTo: 1024)
        #expect(String(decoding: body.readableBytesView, as: UTF8.self) == "/upload got 5 bytes")
        try await client.close()
        try await server.close()
        #expect(!FileManager.default.fileExists(atPath: path))
        try await group.shutdownGracefully()
    }
}
