import LoopGRPC
import Synchronization

/// `grpc.health.v1.Health` (gRPC's health-checking protocol): `Check` answers a service's
/// serving status (NOT_FOUND for a service never registered), `Watch` streams it, first the
/// current value then every change (SERVICE_UNKNOWN while unknown). The empty service name
/// stands for the whole server and starts as SERVING.
///
/// ```swift
/// let health = GRPCHealthService()
/// health.setStatus(.serving, for: "helloworld.Greeter")
/// let server = try await GRPCServer.bind(host: "127.0.0.1", port: 50051, group: group, services: [Greeter(), health])
/// health.setStatus(.notServing, for: "")   // draining
/// ```
public final class GRPCHealthService: Grpc_Health_V1_HealthProvider {
    public typealias ServingStatus = Grpc_Health_V1_HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: ServingStatus] = ["": .serving]
        var watchers: [String: [Int: AsyncStream<ServingStatus>.Continuation]] = [:]
        var nextWatcher = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// Sets the status of `service` ("" for the whole server) and tells its watchers.
    public func setStatus(_ status: ServingStatus, for service: String) {
        let watchers = state.withLock { state -> [AsyncStream<ServingStatus>.Continuation] in
            guard state.statuses[service] != status else { return [] }
            state.statuses[service] = status
            return Array(state.watchers[service, default: [:]].values)
        }
        for watcher in watchers { watcher.yield(status) }
    }

    /// Forgets `service`: Check answers NOT_FOUND, watchers see SERVICE_UNKNOWN.
    public func clearStatus(for service: String) {
        let watchers = state.withLock { state -> [AsyncStream<ServingStatus>.Continuation] in
            guard state.statuses.removeValue(forKey: service) != nil else { return [] }
            return Array(state.watchers[service, default: [:]].values)
        }
        for watcher in watchers { watcher.yield(.serviceUnknown) }
    }

    public func check(request: Grpc_Health_V1_HealthCheckRequest, context: GRPCServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard let status = state.withLock({ $0.statuses[request.service] }) else {
            throw GRPCStatus(.notFound, "unknown service \"\(request.service)\"")
        }
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = status
        return response
    }

    public func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: GRPCResponseWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: GRPCServerContext
    ) async throws {
        let service = request.service
        let (updates, continuation) = AsyncStream.makeStream(of: ServingStatus.self, bufferingPolicy: .bufferingNewest(1))
        let (id, current) = state.withLock { state -> (Int, ServingStatus) in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[service, default: [:]][id] = continuation
            return (id, state.statuses[service] ?? .serviceUnknown)
        }
        defer {
            _ = state.withLock { $0.watchers[service]?.removeValue(forKey: id) }
            continuation.finish()
        }
        var last = current
        var message = Grpc_Health_V1_HealthCheckResponse()
        message.status = current
        try await response.send(message)
        try await withTaskCancellationHandler {
            for await status in updates where status != last {
                last = status
                message.status = status
                try await response.send(message)
            }
        } onCancel: {
            continuation.finish()
        }
    }
}
