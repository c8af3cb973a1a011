import Loop
import LoopGRPCProtobuf
import LoopGRPC
import SwiftProtobuf

/// Writes a route's response messages as JSON: the whole message, or one top-level field
/// (google.api.http's `response_body`), by proto3 JSON's mapping (SwiftProtobuf's encoder:
/// lowerCamelCase names, int64 as strings, enums by name, well-known types in their own
/// forms, fields at their default value left out; see ``GatewayMappingOptions``). A message of
/// strings, bools, integers and enums is written by ``GatewayJSONMessageWriter`` instead, to
/// the same bytes at a fraction of the cost.
///
/// A server-streaming response is newline-delimited JSON, each message framed as
/// grpc-gateway does: `{"result":<message>}` and a newline (``streamChunk(_:)``; an error
/// ends the stream with ``GatewayStreamFraming/errorChunk(for:)``).
///
/// ```swift
/// let mapping = try GatewayResponseMapping<Loop_Demo_V1_HelloReply>(body: .message)
/// try mapping.json(.with { $0.message = "Hello"; $0.sequence = 2 })
/// // {"message":"Hello","sequence":"2"}
/// ```
public struct GatewayResponseMapping<Response: SwiftProtobuf.Message>: Sendable {
    /// The content type of what this writes, unary or streamed.
    public static var contentType: String { "application/json" }

    public let body: GatewayResponseBody
    private let encoding: JSONEncodingOptions
    /// The field's key in SwiftProtobuf's JSON of the response, for `response_body: "field"`.
    private let fieldKey: String?
    /// What the field is when SwiftProtobuf leaves it out (at its default value).
    private let fieldDefault: [UInt8]
    /// Writes the whole message without SwiftProtobuf's encoder when its fields allow
    /// (``GatewayJSONMessageWriter``: the same bytes).
    private let writer: GatewayJSONMessageWriter?

    /// Checks that a `response_body` field is a top-level field of `Response`; throws
    /// ``GatewayRouteError`` otherwise.
    public init(body: GatewayResponseBody = .message, options: GatewayMappingOptions = GatewayMappingOptions()) throws(GatewayRouteError) {
        self.body = body
        self.encoding = options.jsonEncoding
        guard case .field(let name) = body else {
            fieldKey = nil
            fieldDefault = []
            writer = GatewayJSONMessageWriter(Response.self, options: options.jsonEncoding)
            return
        }
        writer = nil
        let schema = try GatewayMessageSchema.learn(Response.self)
        guard !name.contains("."), let field = schema.field(named: name) else {
            throw GatewayRouteError("response_body \"\(name)\": no top-level field \"\(name)\" in \(Response.protoMessageName)")
        }
        fieldKey = options.jsonEncoding.preserveProtoFieldNames ? field.protoName : field.jsonName
        fieldDefault = Self.defaultJSON(of: field, encoding: options.jsonEncoding)
    }

    /// The response's JSON body.
    public func json(_ response: Response) throws(GRPCStatus) -> ByteBuffer {
        guard fieldKey != nil else {
            if let writer, let json = writer.write(response) { return json }
            return try encode(response, as: ProtobufBytes.self).buffer
        }
        let value = try fieldValue(response)
        var buffer = ByteBuffer(capacity: value.count)
        buffer.writeBytes(value)
        return buffer
    }

    /// One message of a server stream: `{"result":<JSON>}` and a newline.
    public func streamChunk(_ response: Response) throws(GRPCStatus) -> ByteBuffer {
        if let writer, let json = writer.write(response) { return GatewayStreamFraming.resultChunk(json: json.readableBytesView) }
        let value = fieldKey == nil ? try encode(response, as: [UInt8].self)[...] : try fieldValue(response)
        return GatewayStreamFraming.resultChunk(json: value)
    }

    private func encode<Bytes: SwiftProtobufContiguousBytes>(_ response: Response, as: Bytes.Type) throws(GRPCStatus) -> Bytes {
        do {
            return try response.jsonUTF8Bytes(options: encoding)
        } catch {
            throw GRPCStatus(.internal, "cannot write the response (\(Response.protoMessageName)) as JSON: \(error)")
        }
    }

    /// The JSON of the response field: cut out of the message's JSON, or its default.
    private func fieldValue(_ response: Response) throws(GRPCStatus) -> ArraySlice<UInt8> {
        let json = try encode(response, as: [UInt8].self)
        guard let fieldKey, let range = GatewayJSONScanner.valueRange(ofKey: fieldKey, in: json) else { return fieldDefault[...] }
        return json[range]
    }

    /// proto3 JSON of a field at its default value: `""`, `0`, `"0"` for 64-bit integers,
    /// `false`, the zero enum value's name, `[]`, `{}`, and an unset message as the JSON of
    /// an empty one (`{}`, or a well-known type's own form).
    static func defaultJSON(of field: GatewayFieldInfo, encoding: JSONEncodingOptions) -> [UInt8] {
        func text(_ string: String) -> [UInt8] { Array(string.utf8) }
        switch field.cardinality {
        case .map: return text("{}")
        case .repeated: return text("[]")
        case .singular: break
        }
        switch field.kind {
        case .scalar(let type):
            switch type {
            case .string, .bytes: return text("\"\"")
            case .bool: return text("false")
            default: return type.isSixtyFourBit && !encoding.alwaysPrintInt64sAsNumbers ? text("\"0\"") : text("0")
            }
        case .enumeration(let zeroName):
            guard let zeroName, !encoding.alwaysPrintEnumsAsInts else { return text("0") }
            return GatewayJSONWriter.string(zeroName)
        case .message(let type):
            let empty: [UInt8]? = try? type.init().jsonUTF8Bytes(options: encoding)
            return empty ?? text("null")
        case .map, .group:
            return text("null")
        }
    }
}
