import Foundation
import InteropSupport
import InteropTestSupport
import Loop
import LoopGRPC
import LoopGRPCProtobuf
import Testing

extension GRPCInteropTests {
    /// HAProxy checking our grpc.health.v1 service (GRPCHealthService) to decide whether the
    /// server takes calls. The check is grpc.health.v1.Health/Check over h2c every 100 ms,
    /// expecting the SERVING response (HAProxyConfiguration explains why it is a tcp-check
    /// with the HTTP/2 frames written out rather than `option httpchk`). The server runs in
    /// this process, so the test sets the status the check sees; HAProxy's runtime API
    /// (`show stat` on its stats socket) tells what HAProxy concluded.
    @Suite struct HAProxyHealthCheckTests {
        @Test func serverGoesDownWhenNotServingAndUpAgainWhenServing() async throws {
            let group = EventLoopGroup(numberOfThreads: 1)
            let health = GRPCHealthService()
            let server = try await GRPCServer.bind(host: "127.0.0.1", port: 0, group: group, services: [TestService(), health])
            do {
                try await withReverseProxy(.haproxy, upstreamPort: server.port, options: ReverseProxyOptions(healthCheck: true)) { proxy in
                    let api = proxy.haproxyRuntimeAPI
                    let started = Date()
                    // A server with checks counts as UP from the start: wait for a passed check.
                    let up = try await api.waitForServer(status: "UP", checkPassed: true, timeout: 10)
                    let firstCall = try await Self.emptyCallStatus(port: proxy.port)
                    #expect(firstCall == .ok, "EmptyCall through HAProxy while the server is UP (\(up.state))")

                    health.setStatus(.notServing, for: "")
                    let down = try await api.waitForServer(status: "DOWN", timeout: 10)
                    let refused = try await Self.emptyCallStatus(port: proxy.port)
                    // HAProxy answers 503 with no server left; a gRPC client reads UNAVAILABLE.
                    #expect(refused == .unavailable, "EmptyCall through HAProxy while the server is DOWN (\(down.state))")

                    health.setStatus(.serving, for: "")
                    let upAgain = try await api.waitForServer(status: "UP", checkPassed: true, timeout: 10)
                    let lastCall = try await Self.emptyCallStatus(port: proxy.port)
                    #expect(lastCall == .ok, "EmptyCall through HAProxy once the server is UP again (\(upAgain.state))")
                    reportTiming("HAProxy health check: UP after \(String(format: "%.2f", up.seconds)) s, DOWN "
                                 + "\(String(format: "%.2f", down.seconds)) s after NOT_SERVING (\(down.state.checkStatus)), UP "
                                 + "\(String(format: "%.2f", upAgain.seconds)) s after SERVING", seconds: Date().timeIntervalSince(started))
                }
            } catch {
                try? await server.close()
                try? await group.shutdownGracefully()
                throw error
            }
            try await server.close()
            try await group.shutdownGracefully()
        }

        /// The status of one EmptyCall to 127.0.0.1:`port` (a new channel each time).
        static func emptyCallStatus(port: Int) async throws -> GRPCStatus.Code {
            try await withTestServiceClient(port: port, seconds: 15, "EmptyCall through HAProxy") { client in
                var options = GRPCCallOptions()
                options.timeout = .seconds(5)
                do {
                    _ = try await client.emptyCall(Grpc_Testing_Empty(), options: options)
                    return .ok
                } catch let status as GRPCStatus {
                    return status.code
                }
            }
        }
    }
}
