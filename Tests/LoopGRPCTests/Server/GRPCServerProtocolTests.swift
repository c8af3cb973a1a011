import Testing
import Loop
import LoopHTTP2
@testable import LoopGRPC
import LoopGRPCProtobuf
import InteropSupport

/// The server's answers to requests a gRPC client library would never send, driven with
/// the raw HTTP/2 client (PROTOCOL-HTTP2.md; http-grpc-status-mapping.md).
@Suite struct GRPCServerProtocolTests {
    @Test func grpcProtocolHTTP2RequestsAreCallsByTheirContentTypePrefix() {
        // PROTOCOL-HTTP2.md: Content-Type "application/grpc" [("+proto" / "+json" / {custom})];
        // gRPC-Web's types begin the same way. Compared as bytes, case-sensitive as before.
        for type in ["application/grpc", "application/grpc+proto", "application/grpc-web-text", "application/grpc;charset=x"] {
            #expect(GRPCServerConnection.hasGRPCPrefix(type), "\(type)")
            #expect(GRPCServerConnection.mayBeGRPC([HPACKHeader(":method", "POST"), HPACKHeader("content-type", type)], preflights: false))
        }
        for type in ["", "application/grp", "application/json", "Application/grpc", "text/application/grpc"] {
            #expect(!GRPCServerConnection.hasGRPCPrefix(type), "\(type)")
        }
        #expect(!GRPCServerConnection.mayBeGRPC([HPACKHeader(":method", "GET")], preflights: false))
        #expect(GRPCServerConnection.mayBeGRPC([HPACKHeader(":method", "OPTIONS")], preflights: true))
    }

    struct Answer {
        var httpStatus: Int
        var headers: [HPACKHeader]
        var body: ByteBuffer
        var trailers: [HPACKHeader]
        /// From sending the request to the end of the response.
        var elapsed: Duration

        /// grpc-status and grpc-message from the trailers, or from the head of a trailers-only response.
        var grpcStatus: String? { (trailers + headers).first { $0.name == "grpc-status" }?.value }
        var grpcMessage: String? { (trailers + headers).first { $0.name == "grpc-message" }?.value.removingPercentEncoding }
    }

    func send(method: String = "POST", path: String, headers extra: [HPACKHeader] = [],
              contentType: String? = "application/grpc", body: ByteBuffer?) async throws -> Answer {
        let group = EventLoopGroup(numberOfThreads: 1)
        let health = GRPCHealthService()
        let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [EchoService(), TestService(), health])
        let client = try await HTTP2Client.connect(host: "127.0.0.1", port: server.port, group: group)
        var headers = [HPACKHeader("te", "trailers")] + extra
        if let contentType { headers.append(HPACKHeader("content-type", contentType)) }
        // The interval is measured where the test's awaits resume on a loop of their own, not
        // on the run's shared pool (see resumingOnItsOwnLoop).
        let (response, received, trailers, elapsed) = try await resumingOnItsOwnLoop {
            let start = ContinuousClock.now
            let response = try await client.send(HTTP2RequestHead(method: method, path: path, authority: "127.0.0.1", headers: headers), body: body)
            let received = try await response.body.collect(upTo: 1 << 20)
            let trailers = await response.body.trailers ?? []
            return (response, received, trailers, ContinuousClock.now - start)
        }
        try await client.close()
        try await server.close()
        try await group.shutdownGracefully()
        return Answer(httpStatus: response.head.status, headers: response.head.headers, body: received, trailers: trailers, elapsed: elapsed)
    }

    func framed(_ bytes: [UInt8], compressed: Bool = false) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(compressed ? 1 : 0))
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeBytes(bytes)
        return buffer
    }

    /// "If Content-Type does not begin with application/grpc, gRPC servers SHOULD respond with HTTP status of 415."
    @Test func wrongContentTypeIs415() async throws {
        let answer = try await send(path: EchoService.unary, contentType: "application/json", body: ByteBuffer(string: "{}"))
        #expect(answer.httpStatus == 415)
        #expect(answer.grpcStatus == "13")
        #expect(answer.grpcMessage == "invalid gRPC content-type \"application/json\"")
    }

    @Test func getIs405() async throws {
        let answer = try await send(method: "GET", path: EchoService.unary, body: nil)
        #expect(answer.httpStatus == 405)
        #expect(answer.grpcStatus == "13")
    }

    @Test func unknownMethodIsUnimplemented() async throws {
        let answer = try await send(path: "/grpc.testing.TestService/UnimplementedCall", body: framed([]))
        #expect(answer.httpStatus == 200)
        #expect(answer.grpcStatus == "12")
        #expect(answer.grpcMessage == "unknown method UnimplementedCall for service grpc.testing.TestService")
        let malformed = try await send(path: "nonsense", body: framed([]))
        #expect(malformed.grpcStatus == "12")
        #expect(malformed.grpcMessage == "malformed method name \"nonsense\"")
    }

    @Test func unsupportedEncodingIsUnimplemented() async throws {
        let answer = try await send(path: EchoService.unary, headers: [HPACKHeader("grpc-encoding", "snappy")], body: framed([1], compressed: true))
        #expect(answer.grpcStatus == "12")
        #expect(answer.grpcMessage == "grpc-encoding \"snappy\" is not supported (supported: identity,deflate,gzip)")
        #expect(answer.headers.contains(HPACKHeader("grpc-accept-encoding", "identity,deflate,gzip")))
    }

    @Test func malformedTimeoutIsInternal() async throws {
        let answer = try await send(path: EchoService.unary, headers: [HPACKHeader("grpc-timeout", "soon")], body: framed([]))
        #expect(answer.grpcStatus == "13")
        #expect(answer.grpcMessage == "malformed grpc-timeout \"soon\"")
    }

    /// The server enforces the deadline itself: DEADLINE_EXCEEDED without any client timer.
    @Test func serverSideDeadline() async throws {
        let answer = try await send(path: EchoService.sleep, headers: [HPACKHeader("grpc-timeout", "100m")], body: framed([]))
        #expect(answer.grpcStatus == "4")
        // Long before the handler's 10 s sleep ends.
        #expect(answer.elapsed < .seconds(5))
    }

    @Test func unparsableProtobufIsInternal() async throws {
        // Field 2 (response_size) declared as a varint that never ends.
        let answer = try await send(path: "/grpc.testing.TestService/UnaryCall", body: framed([0x10, 0xff, 0xff]))
        #expect(answer.grpcStatus == "13")
        #expect(answer.grpcMessage?.hasPrefix("could not parse the request message") == true)
    }

    @Test func unaryWithoutOrWithTwoMessagesIsInternal() async throws {
        let none = try await send(path: EchoService.unary, body: nil)
        #expect(none.grpcStatus == "13")
        #expect(none.grpcMessage == "the request ended without a message; this method takes exactly one")
        var two = framed([1])
        var second = framed([2])
        two.writeBuffer(&second)
        let answer = try await send(path: EchoService.unary, body: two)
        #expect(answer.grpcStatus == "13")
        #expect(answer.grpcMessage == "the request has more than one message; this method takes exactly one")
    }

    @Test func compressedFlagWithoutEncodingIsInternal() async throws {
        let answer = try await send(path: EchoService.unary, body: framed([1, 2, 3], compressed: true))
        #expect(answer.grpcStatus == "13")
        #expect(answer.grpcMessage == "received a compressed message but the stream declared no grpc-encoding")
    }

    @Test func truncatedMessageIsInternal() async throws {
        var body = framed([1, 2, 3, 4])
        body.moveWriterIndex(to: body.writerIndex - 2)
        let answer = try await send(path: EchoService.unary, body: body)
        #expect(answer.grpcStatus == "13")
        #expect(answer.grpcMessage == "the request stream ended inside a message")
    }

    @Test func successfulCallHasHeadersMessageTrailers() async throws {
        let answer = try await send(path: EchoService.unary, body: framed(Array("hi".utf8)))
        #expect(answer.httpStatus == 200)
        #expect(answer.headers.contains(HPACKHeader("content-type", "application/grpc")))
        #expect(answer.body == framed(Array("hi".utf8)))
        #expect(answer.trailers == [HPACKHeader("grpc-status", "0")])
    }
}

extension String {
    /// Percent-decoding for the tests' grpc-message checks.
    var removingPercentEncoding: String { GRPCStatusMessage.decode(self) }
}
