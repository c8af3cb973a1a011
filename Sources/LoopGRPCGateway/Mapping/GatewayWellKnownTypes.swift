#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LoopGRPC
import SwiftProtobuf

/// The well-known message types a path capture or query parameter sets from one text
/// value, as grpc-gateway does: the wrappers by their scalar's rules, Timestamp and
/// Duration in their proto3 JSON form (`2024-05-01T12:00:00Z`, `1.5s`), FieldMask as
/// comma-separated paths.
enum GatewayWellKnownTypes {
    /// Whether `type` is one of those types: a field of it is a leaf of a field path.
    static func isLeaf(_ type: any SwiftProtobuf.Message.Type) -> Bool {
        leafNames.contains(type.protoMessageName)
    }

    private static let leafNames: Set<String> = [
        "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
        "google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
        "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue",
        "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask",
    ]

    /// `text` as a value of `M`; nil when `M` is not one of those types. A malformed value
    /// is INVALID_ARGUMENT naming `field`.
    static func parse<M: SwiftProtobuf.Message>(_ type: M.Type, from text: String, field: String) throws(GRPCStatus) -> M? {
        func invalid() -> GRPCStatus {
            GRPCStatus(.invalidArgument, "invalid value \"\(text)\" for field \(field) (\(M.protoMessageName))")
        }
        func scalar<T: GatewayScalarValue>(_: T.Type) throws(GRPCStatus) -> T {
            guard let value = T.parse(text) else { throw invalid() }
            return value
        }
        let parsed: (any SwiftProtobuf.Message)?
        switch M.protoMessageName {
        case "google.protobuf.DoubleValue": parsed = Google_Protobuf_DoubleValue(try scalar(Double.self))
        case "google.protobuf.FloatValue": parsed = Google_Protobuf_FloatValue(try scalar(Float.self))
        case "google.protobuf.Int64Value": parsed = Google_Protobuf_Int64Value(try scalar(Int64.self))
        case "google.protobuf.UInt64Value": parsed = Google_Protobuf_UInt64Value(try scalar(UInt64.self))
        case "google.protobuf.Int32Value": parsed = Google_Protobuf_Int32Value(try scalar(Int32.self))
        case "google.protobuf.UInt32Value": parsed = Google_Protobuf_UInt32Value(try scalar(UInt32.self))
        case "google.protobuf.BoolValue": parsed = Google_Protobuf_BoolValue(try scalar(Bool.self))
        case "google.protobuf.StringValue": parsed = Google_Protobuf_StringValue(text)
        case "google.protobuf.BytesValue": parsed = Google_Protobuf_BytesValue(try scalar(Data.self))
        case "google.protobuf.Timestamp", "google.protobuf.Duration":
            // Their proto3 JSON form is a JSON string; SwiftProtobuf's parser checks it.
            guard let value = try? M(jsonUTF8Bytes: GatewayJSONWriter.string(text)) else { throw invalid() }
            parsed = value
        case "google.protobuf.FieldMask":
            parsed = Google_Protobuf_FieldMask(protoPaths: text.split(separator: ",").map(String.init))
        default:
            return nil
        }
        // A type of the same name that is not SwiftProtobuf's own (another generated copy)
        // is not set from text.
        return parsed as? M
    }
}
