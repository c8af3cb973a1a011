import Loop
import LoopGRPC
import SwiftProtobuf

/// A gRPC status as an HTTP response: the HTTP status by the standard mapping and the JSON
/// body `{"code":N,"message":"...","details":[...]}` (google.rpc.Status in proto3 JSON).
///
/// The mapping is google.rpc.Code's (google/rpc/code.proto, "HTTP Mapping"), which
/// grpc-gateway 2 uses: OK 200, CANCELLED 499, UNKNOWN 500, INVALID_ARGUMENT 400,
/// DEADLINE_EXCEEDED 504, NOT_FOUND 404, ALREADY_EXISTS 409, PERMISSION_DENIED 403,
/// RESOURCE_EXHAUSTED 429, FAILED_PRECONDITION 400, ABORTED 409, OUT_OF_RANGE 400,
/// UNIMPLEMENTED 501, INTERNAL 500, UNAVAILABLE 503, DATA_LOSS 500, UNAUTHENTICATED 401.
/// (grpc-gateway 1.6 differs in two: CANCELLED 408 and FAILED_PRECONDITION 412.)
///
/// `details` are the `google.protobuf.Any` messages of the status's
/// `grpc-status-details-bin` trailer (a google.rpc.Status) in proto3 JSON; `[]` without one.
/// An Any whose type is not registered with SwiftProtobuf (`Google_Protobuf_Any.register`)
/// cannot be written as JSON; it is written as `{"@type":"<type URL>","value":"<base64>"}`
/// rather than dropped or failing the whole answer.
///
/// ```swift
/// let status = GRPCStatus(.permissionDenied, "not yours")
/// GatewayStatusMapping.httpStatus(for: status.code)  // 403
/// GatewayStatusMapping.errorBody(for: status)        // {"code":7,"message":"not yours","details":[]}
/// ```
public enum GatewayStatusMapping {
    /// The HTTP status for a gRPC status code.
    public static func httpStatus(for code: GRPCStatus.Code) -> Int {
        switch code {
        case .ok: return 200
        case .cancelled: return 499
        case .unknown: return 500
        case .invalidArgument: return 400
        case .deadlineExceeded: return 504
        case .notFound: return 404
        case .alreadyExists: return 409
        case .permissionDenied: return 403
        case .resourceExhausted: return 429
        case .failedPrecondition: return 400
        case .aborted: return 409
        case .outOfRange: return 400
        case .unimplemented: return 501
        case .internal: return 500
        case .unavailable: return 503
        case .dataLoss: return 500
        case .unauthenticated: return 401
        }
    }

    /// The status of any error a call ended with: a `GRPCStatus` as it is, anything else
    /// UNKNOWN with its description (as grpc-gateway does for non-status errors).
    public static func status(for error: any Error) -> GRPCStatus {
        (error as? GRPCStatus) ?? GRPCStatus(.unknown, String(describing: error))
    }

    /// The JSON body for `status`: `{"code":N,"message":"...","details":[...]}`.
    public static func errorBody(for status: GRPCStatus) -> ByteBuffer {
        var json: [UInt8] = []
        GatewayJSONWriter.append("{\"code\":", to: &json)
        json.append(contentsOf: String(status.code.rawValue).utf8)
        GatewayJSONWriter.append(",\"message\":", to: &json)
        GatewayJSONWriter.appendString(status.message, to: &json)
        GatewayJSONWriter.append(",\"details\":", to: &json)
        appendArray(detailsJSON(of: status), to: &json)
        json.append(UInt8(ascii: "}"))
        return ByteBuffer(bytes: json)
    }

    /// The reason phrase Go's `http.StatusText` gives the statuses above (nil for 499,
    /// which Go does not name), for grpc-gateway's `http_status` in a stream's error.
    static func reasonPhrase(_ status: Int) -> String? {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 409: return "Conflict"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return nil
        }
    }

    /// Each detail of the status's `grpc-status-details-bin` as JSON; empty without one (or
    /// when it is not a google.rpc.Status).
    static func detailsJSON(of status: GRPCStatus) -> [[UInt8]] {
        guard let bytes = status.trailingMetadata.binary("grpc-status-details-bin"),
              let rpcStatus = try? Google_Rpc_Status(serializedBytes: bytes) else { return [] }
        return rpcStatus.details.map { detail in
            if let json: [UInt8] = try? detail.jsonUTF8Bytes() { return json }
            var fallback: [UInt8] = []
            GatewayJSONWriter.append("{\"@type\":", to: &fallback)
            GatewayJSONWriter.appendString(detail.typeURL, to: &fallback)
            GatewayJSONWriter.append(",\"value\":", to: &fallback)
            GatewayJSONWriter.appendString(GatewayScalarParsing.base64Encode(detail.value), to: &fallback)
            fallback.append(UInt8(ascii: "}"))
            return fallback
        }
    }

    static func appendArray(_ elements: [[UInt8]], to json: inout [UInt8]) {
        json.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { json.append(UInt8(ascii: ",")) }
            json.append(contentsOf: element)
        }
        json.append(UInt8(ascii: "]"))
    }
}
