import Logging
import ServiceLifecycle

/// Runs `services` in a swift-service-lifecycle `ServiceGroup` until SIGTERM or SIGINT, then
/// drains them: servers stop accepting, finish what is in flight, and are cut after `drain`.
///
/// ```swift
/// try await runUntilSignalled([server], name: "Greeter")
/// ```
public func runUntilSignalled(_ services: [any Service], name: String, drain: Duration = .seconds(30)) async throws {
    let logger = Logger(label: name)
    var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    configuration.maximumGracefulShutdownDuration = drain
    try await ServiceGroup(configuration: configuration).run()
    print("\(name): shut down gracefully")
}
