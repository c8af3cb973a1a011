import LoopGRPCProtobuf
import ServiceLifecycle

/// Turns grpc.health.v1 to NOT_SERVING when the service group begins its graceful shutdown.
/// Listed after the server, it is shut down first (a group shuts its services down in reverse
/// order): health checkers see NOT_SERVING while the server still finishes its calls.
public struct HealthOnShutdown: Service {
    let health: GRPCHealthService
    let services: [String]

    public init(health: GRPCHealthService, services: [String]) {
        self.health = health
        self.services = services
    }

    public func run() async throws {
        try await gracefulShutdown()
        for service in services { health.setStatus(.notServing, for: service) }
    }
}
