import Loop
import LoopGRPC

/// The framing of a server-streaming response as newline-delimited JSON, byte for byte as
/// grpc-gateway 1.6 writes it (runtime/handler.go, `ForwardResponseStream`):
///
/// - each message is `{"result":<message JSON>}` followed by `\n`;
/// - an error (the call's status is not OK) is one last chunk
///   `{"error":{"grpc_code":5,"http_code":404,"message":"...","http_status":"Not Found","details":[...]}}`
///   with no newline after it, its fields named and left out as grpc-gateway's
///   `StreamError` is (proto names; a field at its default, such as an empty message or no
///   details, is left out);
/// - the HTTP status is 200 once a message was sent; a stream that fails before its first
///   message is answered with the error's HTTP status (``GatewayStatusMapping/httpStatus(for:)``)
///   and the error chunk as the body.
///
/// ```swift
/// var body = GatewayStreamFraming.resultChunk(json: Array(#"{"message":"Hello"}"#.utf8))
/// // {"result":{"message":"Hello"}}\n
/// let end = GatewayStreamFraming.errorChunk(for: GRPCStatus(.notFound, "no such greeting"))
/// // {"error":{"grpc_code":5,"http_code":404,"message":"no such greeting","http_status":"Not Found"}}
/// ```
public enum GatewayStreamFraming {
    /// `{"result":` + `json` + `}` + newline.
    public static func resultChunk(json: some Collection<UInt8>) -> ByteBuffer {
        var buffer = ByteBuffer(capacity: json.count + 12)
        buffer.writeString("{\"result\":")
        buffer.writeBytes(json)
        buffer.writeString("}\n")
        return buffer
    }

    /// The chunk that ends a stream with `status`.
    public static func errorChunk(for status: GRPCStatus) -> ByteBuffer {
        let httpStatus = GatewayStatusMapping.httpStatus(for: status.code)
        var json: [UInt8] = []
        GatewayJSONWriter.append("{\"error\":{", to: &json)
        var first = true
        func key(_ name: StaticString) {
            if !first { json.append(UInt8(ascii: ",")) }
            first = false
            GatewayJSONWriter.append(name, to: &json)
        }
        if status.code != .ok {
            key("\"grpc_code\":")
            json.append(contentsOf: String(status.code.rawValue).utf8)
        }
        key("\"http_code\":")
        json.append(contentsOf: String(httpStatus).utf8)
        if !status.message.isEmpty {
            key("\"message\":")
            GatewayJSONWriter.appendString(status.message, to: &json)
        }
        if let reason = GatewayStatusMapping.reasonPhrase(httpStatus) {
            key("\"http_status\":")
            GatewayJSONWriter.appendString(reason, to: &json)
        }
        let details = GatewayStatusMapping.detailsJSON(of: status)
        if !details.isEmpty {
            key("\"details\":")
            GatewayStatusMapping.appendArray(details, to: &json)
        }
        GatewayJSONWriter.append("}}", to: &json)
        return ByteBuffer(bytes: json)
    }
}
