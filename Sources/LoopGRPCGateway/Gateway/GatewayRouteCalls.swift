import Loop
import LoopGRPC
import LoopGRPCProtobuf
import SwiftProtobuf

/// A route's calls, made for its message types when the route is built: the HTTP request
/// mapped to the typed request message, the call through the backend (in process: the
/// message as it is; remote: protobuf over a `GRPCChannel`), and the typed responses mapped
/// to JSON. Any failure is the `GRPCStatus` the HTTP answer is made from.
struct GatewayRouteCalls: Sendable {
    typealias Unary = @Sendable (GatewayBackend, GatewayPathCaptures, Substring?, ByteBuffer?, GatewayCallOptions) async throws(GRPCStatus) -> GatewayReply
    typealias Stream = @Sendable (GatewayBackend, GatewayPathCaptures, Substring?, ByteBuffer?, GatewayCallOptions,
                                  _ onChunk: @escaping @Sendable (ByteBuffer) async throws -> Void) async throws(GRPCStatus) -> Void

    let unary: Unary
    let stream: Stream

    init<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        method: String, request: GatewayRequestMapping<Request>, response: GatewayResponseMapping<Response>
    ) {
        unary = { backend, captures, query, body, options throws(GRPCStatus) in
            let message = try request.request(captures: captures, query: query, body: body)
            do {
                switch backend {
                case .local(let caller):
                    let reply = try await caller.unary(method, message, options: options.local, as: Response.self)
                    return GatewayReply(body: try response.json(reply.message), initialMetadata: reply.initialMetadata,
                                        trailingMetadata: reply.trailingMetadata)
                case .remote(let channel):
                    let reply = try await channel.unary(path: method, request: message, serializer: ProtobufSerializer<Request>(),
                                                        deserializer: ProtobufDeserializer<Response>(), options: options.remote)
                    return GatewayReply(body: try response.json(reply.message), initialMetadata: reply.initialMetadata,
                                        trailingMetadata: reply.trailingMetadata)
                }
            } catch {
                throw GatewayStatusMapping.status(for: error)
            }
        }
        stream = { backend, captures, query, body, options, onChunk throws(GRPCStatus) in
            let message = try request.request(captures: captures, query: query, body: body)
            do {
                switch backend {
                case .local(let caller):
                    try await caller.serverStreaming(method, message, options: options.local, as: Response.self) { reply in
                        try await onChunk(try response.streamChunk(reply))
                    }
                case .remote(let channel):
                    try await channel.serverStreaming(path: method, request: message, serializer: ProtobufSerializer<Request>(),
                                                      deserializer: ProtobufDeserializer<Response>(), options: options.remote) { replies in
                        for try await reply in replies { try await onChunk(try response.streamChunk(reply)) }
                    }
                }
            } catch {
                throw GatewayStatusMapping.status(for: error)
            }
        }
    }
}
