import Foundation
import Testing
import Loop
import LoopGRPC
@testable import LoopGRPCGateway
import SwiftProtobuf

/// GatewayStatusMapping: gRPC status → HTTP status (google/rpc/code.proto's HTTP mapping)
/// and the JSON error body `{"code":N,"message":"...","details":[...]}`.
@Suite struct GatewayStatusMappingTests {
    func text(_ buffer: ByteBuffer) -> String { String(decoding: buffer.readableBytesView, as: UTF8.self) }

    func status(_ code: GRPCStatus.Code, _ message: String, details: [Google_Protobuf_Any]) throws -> GRPCStatus {
        var rpcStatus = Google_Rpc_Status()
        rpcStatus.code = Int32(code.rawValue)
        rpcStatus.message = message
        rpcStatus.details = details
        var metadata = GRPCMetadata()
        metadata.add(binary: "grpc-status-details-bin", try rpcStatus.serializedBytes())
        return GRPCStatus(code, message, trailingMetadata: metadata)
    }

    /// google.rpc.Code's "HTTP Mapping" for every code (the issue's table).
    @Test func googleRpcCodeHTTPMapping() {
        let expected: [GRPCStatus.Code: Int] = [
            .ok: 200, .cancelled: 499, .unknown: 500, .invalidArgument: 400, .deadlineExceeded: 504, .notFound: 404,
            .alreadyExists: 409, .permissionDenied: 403, .resourceExhausted: 429, .failedPrecondition: 400, .aborted: 409,
            .outOfRange: 400, .unimplemented: 501, .internal: 500, .unavailable: 503, .dataLoss: 500, .unauthenticated: 401,
        ]
        #expect(expected.count == GRPCStatus.Code.allCases.count)
        for code in GRPCStatus.Code.allCases {
            #expect(GatewayStatusMapping.httpStatus(for: code) == expected[code], "\(code)")
        }
    }

    /// The body is google.rpc.Status in proto3 JSON: code, message, details ([] without any).
    @Test func errorBodyIsGoogleRpcStatus() {
        #expect(text(GatewayStatusMapping.errorBody(for: GRPCStatus(.unavailable, "backend down"))) ==
            #"{"code":14,"message":"backend down","details":[]}"#)
        #expect(text(GatewayStatusMapping.errorBody(for: GRPCStatus(.permissionDenied))) == #"{"code":7,"message":"","details":[]}"#)
    }

    /// Messages are JSON-escaped (RFC 8259 §7): quotes, backslashes, control characters;
    /// other Unicode as UTF-8.
    @Test func messagesAreJSONEscaped() {
        let message = "say \"hi\" \\ now\n\t\r\u{08}\u{0C}\u{01}\u{1F} é 🙂"
        #expect(text(GatewayStatusMapping.errorBody(for: GRPCStatus(.invalidArgument, message))) ==
            #"{"code":3,"message":"say \"hi\" \\ now\n\t\r\b\f\u0001\u001f é 🙂","details":[]}"#)
    }

    /// Details from grpc-status-details-bin, each Any in proto3 JSON (`@type` and the
    /// message's fields, or `value` for a well-known type).
    @Test func detailsFromStatusDetailsBin() throws {
        let details = [try Google_Protobuf_Any(message: Google_Protobuf_Duration(seconds: 3)),
                       try Google_Protobuf_Any(message: Loop_Demo_V1_HelloReply.with { $0.message = "m"; $0.sequence = 1 })]
        Google_Protobuf_Any.register(messageType: Loop_Demo_V1_HelloReply.self)
        let status = try status(.failedPrecondition, "not yet", details: details)
        #expect(text(GatewayStatusMapping.errorBody(for: status)) ==
            #"{"code":9,"message":"not yet","details":[{"@type":"type.googleapis.com/google.protobuf.Duration","value":"3s"},{"@type":"type.googleapis.com/loop.demo.v1.HelloReply","message":"m","sequence":"1"}]}"#)
    }

    /// An Any of a type SwiftProtobuf does not know keeps its type URL and bytes (base64)
    /// rather than failing the whole answer.
    @Test func unregisteredDetailKeepsItsBytes() throws {
        var any = Google_Protobuf_Any()
        any.typeURL = "type.googleapis.com/google.rpc.ErrorInfo"
        any.value = Data([0x0A, 0x01, 0x78])
        let status = try status(.aborted, "retry", details: [any])
        #expect(text(GatewayStatusMapping.errorBody(for: status)) ==
            #"{"code":10,"message":"retry","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","value":"CgF4"}]}"#)
    }

    /// A grpc-status-details-bin that is not a google.rpc.Status gives no details.
    @Test func malformedDetailsAreDropped() {
        var metadata = GRPCMetadata()
        metadata.add(binary: "grpc-status-details-bin", [0xFF, 0xFF])
        #expect(text(GatewayStatusMapping.errorBody(for: GRPCStatus(.internal, "x", trailingMetadata: metadata))) ==
            #"{"code":13,"message":"x","details":[]}"#)
    }

    /// Errors that are not a GRPCStatus are UNKNOWN with their description.
    @Test func otherErrorsAreUnknown() {
        struct Oops: Error, CustomStringConvertible { var description: String { "oops" } }
        #expect(GatewayStatusMapping.status(for: Oops()) == GRPCStatus(.unknown, "oops"))
        #expect(GatewayStatusMapping.status(for: GRPCStatus(.notFound, "x")) == GRPCStatus(.notFound, "x"))
    }
}
