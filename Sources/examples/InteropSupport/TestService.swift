import Foundation
import Loop
import LoopGRPC
import LoopGRPCProtobuf

/// grpc.testing.TestService as gRPC's interop-test-descriptions.md asks of a server:
/// payloads of the requested sizes, echoed metadata (`x-grpc-test-echo-initial`,
/// `x-grpc-test-echo-trailing-bin`), requested statuses, and a server id for
/// pick_first_unary.
public struct TestService: Grpc_Testing_TestServiceProvider {
    /// Sent in `server_id` when a request sets `fill_server_id`.
    public let serverID: String

    public init(serverID: String = "loop-interop-server") {
        self.serverID = serverID
    }

    static let echoInitialKey = "x-grpc-test-echo-initial"
    static let echoTrailingKey = "x-grpc-test-echo-trailing-bin"

    /// Echoes the interop metadata keys into the response's headers and trailers.
    private func echoMetadata(_ context: GRPCServerContext) {
        for value in context.requestMetadata.values(Self.echoInitialKey) {
            if case .string(let text) = value { context.addInitialMetadata(Self.echoInitialKey, text) }
        }
        var trailing = GRPCMetadata()
        for value in context.requestMetadata.values(Self.echoTrailingKey) {
            if case .binary(let bytes) = value { trailing.add(binary: Self.echoTrailingKey, bytes) }
        }
        if !trailing.isEmpty { context.addTrailingMetadata(trailing) }
    }

    static func payload(size: Int32) throws -> Grpc_Testing_Payload {
        guard size >= 0 else { throw GRPCStatus(.invalidArgument, "negative payload size \(size)") }
        var payload = Grpc_Testing_Payload()
        payload.type = .compressable
        payload.body = Data(count: Int(size))
        return payload
    }

    /// Throws the status a request asked for (`response_status`), if any.
    static func requestedStatus(_ hasStatus: Bool, _ status: Grpc_Testing_EchoStatus) throws {
        guard hasStatus, status.code != 0 else { return }
        let code = GRPCStatus.Code(rawValue: UInt8(clamping: status.code)) ?? .unknown
        throw GRPCStatus(code, status.message)
    }

    public func emptyCall(request: Grpc_Testing_Empty, context: GRPCServerContext) async throws -> Grpc_Testing_Empty {
        echoMetadata(context)
        return Grpc_Testing_Empty()
    }

    public func unaryCall(request: Grpc_Testing_SimpleRequest, context: GRPCServerContext) async throws -> Grpc_Testing_SimpleResponse {
        echoMetadata(context)
        try Self.requestedStatus(request.hasResponseStatus, request.responseStatus)
        var response = Grpc_Testing_SimpleResponse()
        if request.responseSize > 0 { response.payload = try Self.payload(size: request.responseSize) }
        if request.fillServerID { response.serverID = serverID }
        return response
    }

    public func streamingOutputCall(
        request: Grpc_Testing_StreamingOutputCallRequest, response: GRPCResponseWriter<Grpc_Testing_StreamingOutputCallResponse>,
        context: GRPCServerContext
    ) async throws {
        echoMetadata(context)
        try await Self.respond(to: request, with: response)
    }

    public func streamingInputCall(
        requests: GRPCRequestStream<Grpc_Testing_StreamingInputCallRequest>, context: GRPCServerContext
    ) async throws -> Grpc_Testing_StreamingInputCallResponse {
        echoMetadata(context)
        var total = 0
        for try await request in requests { total += request.payload.body.count }
        var response = Grpc_Testing_StreamingInputCallResponse()
        response.aggregatedPayloadSize = Int32(clamping: total)
        return response
    }

    public func fullDuplexCall(
        requests: GRPCRequestStream<Grpc_Testing_StreamingOutputCallRequest>,
        response: GRPCResponseWriter<Grpc_Testing_StreamingOutputCallResponse>, context: GRPCServerContext
    ) async throws {
        echoMetadata(context)
        for try await request in requests {
            try await Self.respond(to: request, with: response)
        }
    }

    public func halfDuplexCall(
        requests: GRPCRequestStream<Grpc_Testing_StreamingOutputCallRequest>,
        response: GRPCResponseWriter<Grpc_Testing_StreamingOutputCallResponse>, context: GRPCServerContext
    ) async throws {
        echoMetadata(context)
        var buffered: [Grpc_Testing_StreamingOutputCallRequest] = []
        for try await request in requests { buffered.append(request) }
        for request in buffered { try await Self.respond(to: request, with: response) }
    }

    /// Sends the responses one request asks for, then its requested status if any.
    static func respond(
        to request: Grpc_Testing_StreamingOutputCallRequest, with response: GRPCResponseWriter<Grpc_Testing_StreamingOutputCallResponse>
    ) async throws {
        try requestedStatus(request.hasResponseStatus, request.responseStatus)
        for parameters in request.responseParameters {
            if parameters.intervalUs > 0 { try await Task.sleep(for: .microseconds(Int64(parameters.intervalUs))) }
            var message = Grpc_Testing_StreamingOutputCallResponse()
            message.payload = try payload(size: parameters.size)
            try await response.send(message)
        }
    }
}

/// grpc.testing.UnimplementedService is deliberately not served: calls to it must fail
/// with UNIMPLEMENTED.
