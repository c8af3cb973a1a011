import Testing
import Loop
@testable import LoopGRPC
import LoopGRPCProtobuf

/// grpc.health.v1.Health as GRPCHealthService implements it (gRPC's health-checking
/// protocol, doc/health-checking.md).
@Suite struct GRPCHealthServiceTests {
    typealias Request = Grpc_Health_V1_HealthCheckRequest

    let context = GRPCServerContext(path: Grpc_Health_V1_HealthMethods.check, requestMetadata: GRPCMetadata(), deadline: nil, userAgent: nil)

    func check(_ health: GRPCHealthService, _ service: String) async throws -> GRPCHealthService.ServingStatus {
        try await health.check(request: .with { $0.service = service }, context: context).status
    }

    /// The empty service name stands for the whole server, SERVING from the start.
    @Test func serverIsServingFromTheStart() async throws {
        #expect(try await check(GRPCHealthService(), "") == .serving)
    }

    /// "If the requested service is unknown, the call will fail with status NOT_FOUND."
    @Test func unknownServiceIsNotFound() async {
        await #expect(throws: GRPCStatus(.notFound, "unknown service \"helloworld.Greeter\"")) {
            _ = try await check(GRPCHealthService(), "helloworld.Greeter")
        }
    }

    @Test func setAndClearStatus() async throws {
        let health = GRPCHealthService()
        health.setStatus(.serving, for: "svc")
        #expect(try await check(health, "svc") == .serving)
        health.setStatus(.notServing, for: "svc")
        #expect(try await check(health, "svc") == .notServing)
        health.setStatus(.notServing, for: "")  // draining
        #expect(try await check(health, "") == .notServing)
        health.clearStatus(for: "svc")
        await #expect(throws: GRPCStatus(.notFound, "unknown service \"svc\"")) {
            _ = try await check(health, "svc")
        }
    }

    @Test func registersCheckAndWatch() {
        var router = GRPCRouter()
        router.register(GRPCHealthService())
        #expect(router.paths == ["/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"])
    }

    /// Over a connection: Watch of a service not known yet answers SERVICE_UNKNOWN without
    /// ending the call, then the status once set; a Check request that is not a valid
    /// HealthCheckRequest ends with INTERNAL and SwiftProtobuf's reason.
    @Test func watchAndMalformedCheckOverAConnection() async throws {
        let group = EventLoopGroup(numberOfThreads: 1)
        let health = GRPCHealthService()
        let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [health])
        let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: group)
        let client = Grpc_Health_V1_HealthClient(channel: channel)

        let seen = try await client.watch(.with { $0.service = "later" }) { responses in
            var seen: [GRPCHealthService.ServingStatus] = []
            for try await response in responses {
                seen.append(response.status)
                if seen.count == 1 { health.setStatus(.serving, for: "later") }
                if seen.count == 2 { break }
            }
            return seen
        }
        #expect(seen == [.serviceUnknown, .serving])

        let codec = ByteBufferCodec()
        await #expect(throws: GRPCStatus(.internal, "could not parse the request message: truncated")) {
            _ = try await channel.unary(path: Grpc_Health_V1_HealthMethods.check, request: ByteBuffer(bytes: [0x0a, 0x05, 0x61]),
                                        serializer: codec, deserializer: codec, options: GRPCCallOptions())
        }

        await channel.close()
        try await server.close()
        try await group.shutdownGracefully()
    }
}
