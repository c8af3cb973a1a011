import Foundation
import Loop
import LoopGRPC
import LoopGRPCProtobuf

/// A failed interop check, with what was expected and what came.
public struct InteropTestFailure: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The client side of gRPC's interop test cases (interop-test-descriptions.md) that need
/// no TLS or credentials.
public enum InteropTestCase: String, CaseIterable, Sendable {
    case emptyUnary = "empty_unary"
    case largeUnary = "large_unary"
    case clientStreaming = "client_streaming"
    case serverStreaming = "server_streaming"
    case pingPong = "ping_pong"
    case emptyStream = "empty_stream"
    case timeoutOnSleepingServer = "timeout_on_sleeping_server"
    case cancelAfterBegin = "cancel_after_begin"
    case cancelAfterFirstResponse = "cancel_after_first_response"
    case statusCodeAndMessage = "status_code_and_message"
    case specialStatusMessage = "special_status_message"
    case customMetadata = "custom_metadata"
    case unimplementedMethod = "unimplemented_method"
    case unimplementedService = "unimplemented_service"
    case pickFirstUnary = "pick_first_unary"

    typealias Client = Grpc_Testing_TestServiceClient

    /// Runs the case against the server behind `channel`.
    /// - Throws: `InteropTestFailure` or the call's unexpected `GRPCStatus`.
    public func run(on channel: GRPCChannel) async throws {
        let client = Grpc_Testing_TestServiceClient(channel: channel)
        switch self {
        case .emptyUnary:
            let response = try await client.emptyCall(Grpc_Testing_Empty())
            try expect(response == Grpc_Testing_Empty(), "an empty response")
        case .largeUnary:
            let response = try await client.unaryCall(Self.simpleRequest(requestSize: 271_828, responseSize: 314_159))
            try expect(response.payload.body == Data(count: 314_159), "a 314159-byte zero payload")
        case .clientStreaming:
            let response = try await client.streamingInputCall { requests in
                for size in [27_182, 8, 1_828, 45_904] {
                    var request = Grpc_Testing_StreamingInputCallRequest()
                    request.payload.body = Data(count: size)
                    try await requests.send(request)
                }
            }
            try expect(response.aggregatedPayloadSize == 74_922, "aggregated size 74922, got \(response.aggregatedPayloadSize)")
        case .serverStreaming:
            let sizes: [Int32] = [31_415, 9, 2_653, 58_979]
            var request = Grpc_Testing_StreamingOutputCallRequest()
            request.responseParameters = sizes.map { size in Grpc_Testing_ResponseParameters.with { $0.size = size } }
            let received = try await client.streamingOutputCall(request) { responses in
                var received: [Int] = []
                for try await response in responses { received.append(response.payload.body.count) }
                return received
            }
            try expect(received == sizes.map(Int.init), "response sizes \(sizes), got \(received)")
        case .pingPong:
            let pairs: [(request: Int, response: Int32)] = [(27_182, 31_415), (8, 9), (1_828, 2_653), (45_904, 58_979)]
            try await client.fullDuplexCall { requests, responses in
                var iterator = responses.makeAsyncIterator()
                for pair in pairs {
                    try await requests.send(Self.streamingRequest(requestSize: pair.request, responseSizes: [pair.response]))
                    guard let response = try await iterator.next() else { throw InteropTestFailure("the stream ended before a response") }
                    try expect(response.payload.body.count == Int(pair.response), "a \(pair.response)-byte response, got \(response.payload.body.count)")
                }
                try await requests.finish()
                try expect(try await iterator.next() == nil, "the end of the response stream")
            }
        case .emptyStream:
            try await client.fullDuplexCall { requests, responses in
                try await requests.finish()
                var count = 0
                for try await _ in responses { count += 1 }
                try expect(count == 0, "no responses, got \(count)")
            }
        case .timeoutOnSleepingServer:
            var options = GRPCCallOptions()
            options.timeout = .milliseconds(1)
            try await expectStatus(.deadlineExceeded) {
                try await client.fullDuplexCall(options: options) { requests, responses in
                    try? await requests.send(Self.streamingRequest(requestSize: 27_182, responseSizes: []))
                    for try await _ in responses {}
                }
            }
        case .cancelAfterBegin:
            let task = Task {
                try await client.streamingInputCall { _ in
                    try await Task.sleep(for: .seconds(10))
                }
            }
            try await Task.sleep(for: .milliseconds(50))
            task.cancel()
            try await expectStatus(.cancelled) { _ = try await task.value }
        case .cancelAfterFirstResponse:
            let firstReceived = AsyncStream<Void>.makeStream()
            let task = Task {
                try await client.fullDuplexCall { requests, responses in
                    try await requests.send(Self.streamingRequest(requestSize: 27_182, responseSizes: [31_415]))
                    var iterator = responses.makeAsyncIterator()
                    _ = try await iterator.next()
                    firstReceived.continuation.yield()
                    _ = try await iterator.next()  // Blocks until cancelled.
                }
            }
            for await _ in firstReceived.stream { break }
            task.cancel()
            try await expectStatus(.cancelled) { try await task.value }
        case .statusCodeAndMessage, .specialStatusMessage:
            let message = self == .statusCodeAndMessage
                ? "test status message" : "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"
            var status = Grpc_Testing_EchoStatus()
            status.code = 2
            status.message = message
            var unary = Grpc_Testing_SimpleRequest()
            unary.responseStatus = status
            try await expectStatus(.unknown, message: message) { _ = try await client.unaryCall(unary) }
            if self == .statusCodeAndMessage {
                let streaming = Grpc_Testing_StreamingOutputCallRequest.with { $0.responseStatus = status }
                try await expectStatus(.unknown, message: message) {
                    try await client.fullDuplexCall { requests, responses in
                        try await requests.send(streaming)
                        try await requests.finish()
                        for try await _ in responses {}
                    }
                }
            }
        case .customMetadata:
            let initialValue = "test_initial_metadata_value"
            let trailingValue: [UInt8] = [0xab, 0xab, 0xab]
            var options = GRPCCallOptions()
            options.metadata.add("x-grpc-test-echo-initial", initialValue)
            options.metadata.add(binary: "x-grpc-test-echo-trailing-bin", trailingValue)
            let response = try await client.unaryCall(
                Self.simpleRequest(requestSize: 271_828, responseSize: 314_159), options: options
            ) { $0 }
            try expect(response.initialMetadata["x-grpc-test-echo-initial"] == initialValue, "the initial metadata echoed")
            try expect(response.trailingMetadata.binary("x-grpc-test-echo-trailing-bin") == trailingValue, "the trailing metadata echoed")
            try await client.fullDuplexCall(options: options) { requests, responses in
                try await requests.send(Self.streamingRequest(requestSize: 271_828, responseSizes: [314_159]))
                try await requests.finish()
                for try await _ in responses {}
                try expect(try await responses.initialMetadata["x-grpc-test-echo-initial"] == initialValue, "the initial metadata echoed on a stream")
                try expect(await responses.trailingMetadata.binary("x-grpc-test-echo-trailing-bin") == trailingValue, "the trailing metadata echoed on a stream")
            }
        case .unimplementedMethod:
            try await expectStatus(.unimplemented) {
                _ = try await channel.unary(path: "/grpc.testing.TestService/UnimplementedCall", request: Grpc_Testing_Empty(),
                                            serializer: ProtobufSerializer<Grpc_Testing_Empty>(),
                                            deserializer: ProtobufDeserializer<Grpc_Testing_Empty>(), options: GRPCCallOptions())
            }
        case .unimplementedService:
            let unimplemented = Grpc_Testing_UnimplementedServiceClient(channel: channel)
            try await expectStatus(.unimplemented) { _ = try await unimplemented.unimplementedCall(Grpc_Testing_Empty()) }
        case .pickFirstUnary:
            var request = Self.simpleRequest(requestSize: 1, responseSize: 1)
            request.fillServerID = true
            var first: String?
            for _ in 0..<100 {
                let id = try await client.unaryCall(request).serverID
                try expect(!id.isEmpty, "a server_id in the response")
                if let first { try expect(id == first, "every call served by \(first), got \(id)") } else { first = id }
            }
        }
    }

    static func simpleRequest(requestSize: Int, responseSize: Int32) -> Grpc_Testing_SimpleRequest {
        var request = Grpc_Testing_SimpleRequest()
        request.responseSize = responseSize
        request.payload.body = Data(count: requestSize)
        return request
    }

    static func streamingRequest(requestSize: Int, responseSizes: [Int32]) -> Grpc_Testing_StreamingOutputCallRequest {
        var request = Grpc_Testing_StreamingOutputCallRequest()
        request.responseParameters = responseSizes.map { size in Grpc_Testing_ResponseParameters.with { $0.size = size } }
        request.payload.body = Data(count: requestSize)
        return request
    }
}

private func expect(_ condition: Bool, _ what: @autoclosure () -> String) throws {
    guard condition else { throw InteropTestFailure("expected \(what())") }
}

private func expectStatus(_ code: GRPCStatus.Code, message: String? = nil, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let status as GRPCStatus {
        guard status.code == code else { throw InteropTestFailure("expected status \(code), got \(status)") }
        if let message, status.message != message {
            throw InteropTestFailure("expected the message \(message.debugDescription), got \(status.message.debugDescription)")
        }
        return
    }
    throw InteropTestFailure("expected status \(code), but the call succeeded")
}
