// grpc-swift-2's peer of Loop's InteropServer for the gRPC load benchmarks (grpc_bench.py):
// grpc.testing.TestService's EmptyCall, UnaryCall and StreamingOutputCall on GRPCCore 2.4 with
// grpc-swift-nio-transport's plaintext HTTP/2 server transport (HTTP2ServerTransport.Posix) and
// GRPCProtobuf's serializers. The messages are the ones generated in the main repository
// (Generated/ holds symlinks to Sources/examples/InteropSupport/Generated); the service is
// registered by hand with RPCRouter, as grpc-swift's generated code would do it.
//
// Semantics match Loop's TestService for these three methods: a payload of response_size zero
// bytes; one message per response_parameters entry (after interval_us); response_status is
// answered with that status.
//
// Usage: GRPCSwift2Server [--host 127.0.0.1] [--port 10000] [--threads N]
// Prints "GRPCSwift2Server listening on HOST:PORT" once it accepts calls.
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCProtobuf
import NIOCore
import NIOPosix

func flag(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: name), index + 1 < arguments.count { return arguments[index + 1] }
    let prefix = name + "="
    return arguments.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
}

let host = flag("--host") ?? "127.0.0.1"
let port = Int(flag("--port") ?? "10000") ?? 10000
let threads = Int(flag("--threads") ?? "") ?? System.coreCount

struct TestService: RegistrableRPCService {
    static let service = ServiceDescriptor(fullyQualifiedService: "grpc.testing.TestService")
    static let emptyCall = MethodDescriptor(service: service, method: "EmptyCall")
    static let unaryCall = MethodDescriptor(service: service, method: "UnaryCall")
    static let streamingOutputCall = MethodDescriptor(service: service, method: "StreamingOutputCall")

    static func payload(size: Int32) throws -> Grpc_Testing_Payload {
        guard size >= 0 else { throw RPCError(code: .invalidArgument, message: "negative payload size \(size)") }
        var payload = Grpc_Testing_Payload()
        payload.type = .compressable
        payload.body = Data(count: Int(size))
        return payload
    }

    static func requestedStatus(_ hasStatus: Bool, _ status: Grpc_Testing_EchoStatus) throws {
        guard hasStatus, status.code != 0 else { return }
        let code = RPCError.Code(Status.Code(rawValue: Int(status.code)) ?? .unknown) ?? .unknown
        throw RPCError(code: code, message: status.message)
    }

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Self.emptyCall,
            deserializer: ProtobufDeserializer<Grpc_Testing_Empty>(),
            serializer: ProtobufSerializer<Grpc_Testing_Empty>()
        ) { request, _ in
            _ = try await ServerRequest(stream: request)
            return StreamingServerResponse(single: ServerResponse(message: Grpc_Testing_Empty()))
        }
        router.registerHandler(
            forMethod: Self.unaryCall,
            deserializer: ProtobufDeserializer<Grpc_Testing_SimpleRequest>(),
            serializer: ProtobufSerializer<Grpc_Testing_SimpleResponse>()
        ) { request, _ in
            let request = try await ServerRequest(stream: request).message
            try Self.requestedStatus(request.hasResponseStatus, request.responseStatus)
            var response = Grpc_Testing_SimpleResponse()
            if request.responseSize > 0 { response.payload = try Self.payload(size: request.responseSize) }
            return StreamingServerResponse(single: ServerResponse(message: response))
        }
        router.registerHandler(
            forMethod: Self.streamingOutputCall,
            deserializer: ProtobufDeserializer<Grpc_Testing_StreamingOutputCallRequest>(),
            serializer: ProtobufSerializer<Grpc_Testing_StreamingOutputCallResponse>()
        ) { request, _ in
            let request = try await ServerRequest(stream: request).message
            try Self.requestedStatus(request.hasResponseStatus, request.responseStatus)
            return StreamingServerResponse(of: Grpc_Testing_StreamingOutputCallResponse.self) { writer in
                for parameters in request.responseParameters {
                    if parameters.intervalUs > 0 { try await Task.sleep(for: .microseconds(Int64(parameters.intervalUs))) }
                    var message = Grpc_Testing_StreamingOutputCallResponse()
                    message.payload = try Self.payload(size: parameters.size)
                    try await writer.write(message)
                }
                return [:]
            }
        }
    }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let server = GRPCServer(
    transport: .http2NIOPosix(
        address: .ipv4(host: host, port: port),
        transportSecurity: .plaintext,
        config: .defaults { $0.rpc.maxRequestPayloadSize = 8 * 1024 * 1024 },
        eventLoopGroup: group
    ),
    services: [TestService()]
)

do {
    try await withThrowingDiscardingTaskGroup { tasks in
        tasks.addTask { try await server.serve() }
        guard let address = try await server.listeningAddress?.ipv4 else {
            throw RPCError(code: .unavailable, message: "no IPv4 listening address")
        }
        // Straight to the descriptor: the banner must not wait in a pipe's stdio buffer.
        FileHandle.standardOutput.write(
            Data("GRPCSwift2Server listening on \(address.host):\(address.port) with \(threads) event loop(s)\n".utf8))
    }
} catch {
    print("GRPCSwift2Server: \(error)")
    exit(1)
}
