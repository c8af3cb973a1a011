import Foundation
import InteropSupport
import InteropTestSupport
import LoopGRPC
import Testing

extension GRPCInteropTests {
    /// grpcio (PyPI, through Scripts/grpcio_peer.py) without compression, both ways.
    @Suite struct GrpcioInteropTests {
        /// grpcio_peer.py's client runs its 14 cases against our InteropServer, large_unary
        /// with 4 MiB payloads (messages a few bytes over 4 MiB: the server allows 8 MiB).
        @Test func grpcioClientAgainstInteropServer() async throws {
            let python = try await locatePythonWithGRPC()
            try requirePeerProtos()
            try await withInteropServer { server in
                let result = try await runProcess(python, [grpcioPeerScript, "client", "--port", String(server.port)], timeout: 90)
                reportTiming("grpcio_peer.py client, 14 cases against InteropServer (debug)", seconds: result.seconds)
                #expect(grpcioClientLines(result.stdout) == grpcioClientCases.map { "PASS \($0)" } + ["14 passed, 0 failed"],
                        "grpcio_peer.py client said:\n\(result.stdout)\(result.stderr.suffix(3000))")
                #expect(result.status == 0, "grpcio_peer.py client exited \(result.status)")
            }
        }

        /// Our in-process client against grpcio_peer.py's server: the four call kinds, a
        /// 4 MiB request and response, an error status with its message (plain and with
        /// whitespace and Unicode), and metadata echoed in the headers and the trailers.
        @Test func clientAgainstGrpcioServer() async throws {
            let python = try await locatePythonWithGRPC()
            try requirePeerProtos()
            let server = try await startServerReportingPort(python, [grpcioPeerScript, "server", "--port", "0"], name: "grpcio_peer.py server")
            try await withServer(server) { server in
                let fourMiB = 4 << 20
                let special = "\t\ntest with whitespace\r\nand Unicode BMP \u{263A} and non-BMP \u{1F608}\t\n"
                let echoTrailing: [UInt8] = [0x0A, 0x0B, 0x0A, 0x0B, 0x0A, 0x0B]
                let results = try await withTestServiceClient(port: server.port, "calls to grpcio") { client in
                    let options = callOptions()
                    let kinds = [
                        try await FourCallKinds.unary(client, options: options),
                        try await FourCallKinds.clientStreaming(client, options: options),
                        try await FourCallKinds.serverStreaming(client, options: options),
                        try await FourCallKinds.bidirectional(client, options: options),
                    ]
                    let large = try await FourCallKinds.unary(client, options: options, requestSize: fourMiB, responseSize: fourMiB)

                    var statuses: [GRPCStatus] = []
                    for (code, message) in [(2, "test status message"), (5, "no such thing"), (2, special)] {
                        var request = simpleRequest(requestSize: 0, responseSize: 0)
                        request.responseStatus = Grpc_Testing_EchoStatus.with {
                            $0.code = Int32(code)
                            $0.message = message
                        }
                        do {
                            _ = try await client.unaryCall(request, options: options)
                            statuses.append(.ok)
                        } catch let status as GRPCStatus {
                            statuses.append(status)
                        }
                    }

                    var withMetadata = options
                    withMetadata.metadata.add("x-grpc-test-echo-initial", "test_initial_metadata_value")
                    withMetadata.metadata.add(binary: "x-grpc-test-echo-trailing-bin", echoTrailing)
                    let unary = try await client.unaryCall(simpleRequest(requestSize: 271_828, responseSize: 314_159), options: withMetadata) { $0 }
                    let bidirectional = try await client.fullDuplexCall(options: withMetadata) { requests, responses in
                        try await requests.send(streamingRequest(requestSize: 271_828, responseSizes: [314_159]))
                        try await requests.finish()
                        var received: [String] = []
                        for try await response in responses { received.append(describePayload(response.payload)) }
                        return (received, try await responses.initialMetadata, await responses.trailingMetadata)
                    }
                    let echoed = [
                        ([describePayload(unary.message.payload)], unary.initialMetadata, unary.trailingMetadata),
                        bidirectional,
                    ]
                    return (kinds, large, statuses, echoed)
                }
                let (kinds, large, statuses, echoed) = results
                #expect(kinds.map(\.responses) == [expectedUnaryResponses, expectedClientStreamingResponses,
                                                   expectedServerStreamingResponses, expectedBidirectionalResponses])
                #expect(large.responses == ["\(fourMiB) zero bytes"])
                #expect(statuses.map(\.code) == [.unknown, .notFound, .unknown])
                #expect(statuses.map(\.message) == ["test status message", "no such thing", special])
                for ((responses, initial, trailing), call) in zip(echoed, ["UnaryCall", "FullDuplexCall"]) {
                    #expect(responses == ["314159 zero bytes"], "\(call)")
                    #expect(initial.values("x-grpc-test-echo-initial") == [.string("test_initial_metadata_value")],
                            "\(call): initial metadata \(initial)")
                    #expect(trailing.values("x-grpc-test-echo-trailing-bin") == [.binary(echoTrailing)],
                            "\(call): trailing metadata \(trailing)")
                }
            }
        }
    }
}
