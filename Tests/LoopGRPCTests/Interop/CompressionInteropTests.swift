import Foundation
import InteropSupport
import InteropTestSupport
import LoopGRPC
import Testing

extension GRPCInteropTests {
    /// gzip message compression both ways with grpc-go (compression_peer, which reports what
    /// it saw on the wire) and grpcio (grpcio_peer.py --compression gzip).
    @Suite struct CompressionInteropTests {
        /// compression_peer's client sends gzip-compressed unary and server-streaming calls
        /// to our InteropServer and checks, from grpc-go's wire stats, that the responses
        /// came back with grpc-encoding gzip and compressed messages.
        @Test func goCompressionPeerClientAgainstInteropServer() async throws {
            let peer = try locateCachedPeer("compression_peer")
            try await withInteropServer { server in
                let result = try await runProcess(peer, ["-mode=client", "-addr=127.0.0.1:\(server.port)"], timeout: 60)
                #expect(outputLines(result.stdout) == ["PASS unary_gzip", "PASS server_streaming_gzip"],
                        "compression_peer said:\n\(result.stdout)\(result.stderr.suffix(3000))")
                #expect(result.status == 0, "compression_peer exited \(result.status)")
            }
        }

        /// Our client with `compression = .gzip` against compression_peer's server run with
        /// -require_gzip (a request not sent in gzip fails with INVALID_ARGUMENT). Its
        /// trailers say what it saw: `x-loop-request-encoding: gzip` and every request
        /// message compressed (`x-loop-compressed-messages: N/N`); the responses (gzip, as
        /// grpc-go answers in the request's encoding) come back whole. A call without
        /// compression is the control: rejected, with `identity` and `0/1` in its trailers.
        @Test func gzipClientAgainstGoCompressionPeerServer() async throws {
            let peer = try locateCachedPeer("compression_peer")
            let server = try await startServerReportingPort(peer, ["-mode=server", "-port=0", "-host=127.0.0.1", "-require_gzip"], name: "compression_peer")
            try await withServer(server) { server in
                let keys = ["x-loop-request-encoding", "x-loop-compressed-messages"]
                let outcomes = try await withTestServiceClient(port: server.port, "gzip calls to compression_peer") { client in
                    let gzip = callOptions(compression: .gzip)
                    let unary = try await FourCallKinds.unary(client, options: gzip, trailerKeys: keys)
                    let clientStreaming = try await FourCallKinds.clientStreaming(client, options: gzip, trailerKeys: keys)
                    let serverStreaming = try await FourCallKinds.serverStreaming(client, options: gzip, trailerKeys: keys)
                    let bidirectional = try await FourCallKinds.bidirectional(client, options: gzip, trailerKeys: keys)
                    let control: GRPCStatus
                    do {
                        _ = try await client.unaryCall(simpleRequest(requestSize: 1000, responseSize: 1000), options: callOptions())
                        control = .ok
                    } catch let status as GRPCStatus {
                        control = status
                    }
                    return (unary, clientStreaming, serverStreaming, bidirectional, control)
                }
                #expect(outcomes.0 == CallOutcome(responses: expectedUnaryResponses,
                                                  trailers: ["x-loop-request-encoding": "gzip", "x-loop-compressed-messages": "1/1"]))
                #expect(outcomes.1 == CallOutcome(responses: expectedClientStreamingResponses,
                                                  trailers: ["x-loop-request-encoding": "gzip", "x-loop-compressed-messages": "4/4"]))
                #expect(outcomes.2 == CallOutcome(responses: expectedServerStreamingResponses,
                                                  trailers: ["x-loop-request-encoding": "gzip", "x-loop-compressed-messages": "1/1"]))
                #expect(outcomes.3 == CallOutcome(responses: expectedBidirectionalResponses,
                                                  trailers: ["x-loop-request-encoding": "gzip", "x-loop-compressed-messages": "4/4"]))
                let control = outcomes.4
                #expect(control.code == .invalidArgument && control.message == #"expected a gzip-compressed request, got grpc-encoding """#,
                        "the uncompressed control call ended with \(control)")
                #expect(pick(keys, from: control.trailingMetadata) == ["x-loop-request-encoding": "identity", "x-loop-compressed-messages": "0/1"],
                        "the uncompressed control call's trailers: \(control.trailingMetadata)")
            }
        }

        /// grpcio_peer.py's client with a gzip channel (every request compressed) runs its
        /// 14 cases, the 4 MiB large_unary among them, against our InteropServer.
        @Test func grpcioGzipClientAgainstInteropServer() async throws {
            let python = try await locatePythonWithGRPC()
            try requirePeerProtos()
            try await withInteropServer { server in
                let result = try await runProcess(python, [grpcioPeerScript, "client", "--port", String(server.port), "--compression", "gzip"], timeout: 90)
                #expect(grpcioClientLines(result.stdout) == grpcioClientCases.map { "PASS \($0)" } + ["14 passed, 0 failed"],
                        "grpcio_peer.py client --compression gzip said:\n\(result.stdout)\(result.stderr.suffix(3000))")
                #expect(result.status == 0, "grpcio_peer.py client exited \(result.status)")
            }
        }

        /// Our client with gzip against grpcio_peer.py's server with gzip (so both directions
        /// are compressed): the four call kinds get their exact responses.
        @Test func gzipClientAgainstGrpcioGzipServer() async throws {
            let python = try await locatePythonWithGRPC()
            try requirePeerProtos()
            let server = try await startServerReportingPort(python, [grpcioPeerScript, "server", "--port", "0", "--compression", "gzip"], name: "grpcio_peer.py server")
            try await withServer(server) { server in
                let outcomes = try await withTestServiceClient(port: server.port, "gzip calls to grpcio") { client in
                    let gzip = callOptions(compression: .gzip)
                    return [
                        try await FourCallKinds.unary(client, options: gzip),
                        try await FourCallKinds.clientStreaming(client, options: gzip),
                        try await FourCallKinds.serverStreaming(client, options: gzip),
                        try await FourCallKinds.bidirectional(client, options: gzip),
                    ]
                }
                #expect(outcomes.map(\.responses) == [expectedUnaryResponses, expectedClientStreamingResponses,
                                                      expectedServerStreamingResponses, expectedBidirectionalResponses])
            }
        }
    }
}
