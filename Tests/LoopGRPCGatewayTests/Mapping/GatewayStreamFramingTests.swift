import Foundation
import Testing
import Loop
import LoopGRPC
@testable import LoopGRPCGateway
import SwiftProtobuf

/// GatewayStreamFraming: grpc-gateway 1.6's newline-delimited JSON for server streams
/// (runtime/handler.go ForwardResponseStream, streamChunk, internal.StreamError).
@Suite struct GatewayStreamFramingTests {
    func text(_ buffer: ByteBuffer) -> String { String(decoding: buffer.readableBytesView, as: UTF8.self) }

    @Test func resultChunkWrapsTheMessage() {
        #expect(text(GatewayStreamFraming.resultChunk(json: Array(#"{"message":"Hello"}"#.utf8))) == "{\"result\":{\"message\":\"Hello\"}}\n")
    }

    /// The error chunk: StreamError's fields by proto name in field order, fields at their
    /// default left out (jsonpb with OrigName, without EmitDefaults), no newline after it.
    @Test func errorChunkAsStreamError() {
        #expect(text(GatewayStreamFraming.errorChunk(for: GRPCStatus(.notFound, "no such greeting"))) ==
            #"{"error":{"grpc_code":5,"http_code":404,"message":"no such greeting","http_status":"Not Found"}}"#)
        #expect(text(GatewayStreamFraming.errorChunk(for: GRPCStatus(.unavailable))) ==
            #"{"error":{"grpc_code":14,"http_code":503,"http_status":"Service Unavailable"}}"#)
        // 499 has no reason phrase in Go's http.StatusText, so no http_status.
        #expect(text(GatewayStreamFraming.errorChunk(for: GRPCStatus(.cancelled, "gone"))) ==
            #"{"error":{"grpc_code":1,"http_code":499,"message":"gone"}}"#)
        #expect(text(GatewayStreamFraming.errorChunk(for: GRPCStatus(.internal, "a \"quoted\"\nline"))) ==
            #"{"error":{"grpc_code":13,"http_code":500,"message":"a \"quoted\"\nline","http_status":"Internal Server Error"}}"#)
    }

    /// The status's details (grpc-status-details-bin) come along as StreamError.details.
    @Test func errorChunkCarriesDetails() throws {
        var rpcStatus = Google_Rpc_Status()
        rpcStatus.details = [try Google_Protobuf_Any(message: Google_Protobuf_Duration(seconds: 2))]
        var metadata = GRPCMetadata()
        metadata.add(binary: "grpc-status-details-bin", try rpcStatus.serializedBytes())
        let status = GRPCStatus(.resourceExhausted, "slow down", trailingMetadata: metadata)
        #expect(text(GatewayStreamFraming.errorChunk(for: status)) ==
            #"{"error":{"grpc_code":8,"http_code":429,"message":"slow down","http_status":"Too Many Requests","details":[{"@type":"type.googleapis.com/google.protobuf.Duration","value":"2s"}]}}"#)
    }
}
