import LoopHTTP2
import ServiceLifecycle

/// An ``HTTP2Server`` runs as a swift-service-lifecycle `Service`: `run()` serves until the
/// server has shut down. The group's graceful shutdown (a signal in
/// `gracefulShutdownSignals`, or `triggerGracefulShutdown()`) starts the server's graceful
/// shutdown: no new connections, GOAWAY on every connection, requests in flight finish. The
/// group's `maximumGracefulShutdownDuration` bounds the drain: past it, the group cancels
/// `run()`, which closes the connections still open.
///
/// ```swift
/// let server = try await HTTP2Server.bind(host: "0.0.0.0", port: 8080, group: group) { request, response in
///     try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: "Hello"))
/// }
/// var configuration = ServiceGroupConfiguration(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// configuration.maximumGracefulShutdownDuration = .seconds(30)
/// try await ServiceGroup(configuration: configuration).run()
/// ```
extension HTTP2Server: Service {
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await serve()
        } onGracefulShutdown: {
            self.beginGracefulShutdown()
        }
    }
}
