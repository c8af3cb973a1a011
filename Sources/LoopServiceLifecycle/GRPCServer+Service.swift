import LoopGRPC
import ServiceLifecycle

/// A ``GRPCServer`` runs as a swift-service-lifecycle `Service`: `run()` serves until the
/// server has shut down. The group's graceful shutdown (SIGTERM, say) drains the server: no
/// new connections, GOAWAY on every connection (two-phase, so no call is lost), every call
/// in flight finishes with its real status. Past the group's
/// `maximumGracefulShutdownDuration`, the group cancels `run()`, which closes the
/// connections still open (their calls end UNAVAILABLE on the client).
///
/// ```swift
/// let server = try await GRPCServer.bind(host: "0.0.0.0", port: 50051, group: group, services: [Greeter()])
/// var configuration = ServiceGroupConfiguration(services: [server], gracefulShutdownSignals: [.sigterm], logger: logger)
/// configuration.maximumGracefulShutdownDuration = .seconds(30)
/// try await ServiceGroup(configuration: configuration).run()
/// ```
extension GRPCServer: Service {
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await serve()
        } onGracefulShutdown: {
            self.beginGracefulShutdown()
        }
    }
}
