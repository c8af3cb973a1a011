import CoreMetrics
import InMemoryLogging
import Logging
import Loop
import LoopHTTP2
import MetricsTestKit
import Testing
@testable import LoopGRPC

/// What a gRPC server logs and counts (Observability/): calls started and finished by method
/// and status code, their duration, the HTTP/2 connections under them, and handler errors
/// logged at error level with the method and the status they became.
@Suite struct GRPCObservabilityTests {
    let codec = ByteBufferCodec()

    private func configuration(_ metrics: TestMetrics, _ logs: InMemoryLogHandler) -> GRPCServerConfiguration {
        var configuration = GRPCServerConfiguration()
        configuration.metricsFactory = metrics
        configuration.logger = Logger(label: "test", factory: { _ in logs })
        return configuration
    }

    private func call(_ channel: GRPCChannel, _ path: String, _ text: String) async -> GRPCStatus.Code {
        do {
            _ = try await channel.unary(path: path, request: ByteBuffer(string: text), serializer: codec, deserializer: codec,
                                        options: GRPCCallOptions())
            return .ok
        } catch let status as GRPCStatus {
            return status.code
        } catch {
            return .unknown
        }
    }

    private func finished(_ metrics: TestMetrics, _ method: String, _ code: String) -> Int64 {
        (try? metrics.expectCounter("loop_grpc_server_calls_finished_total", [("method", method), ("code", code)]).totalValue) ?? 0
    }

    @Test func callsAreCountedStartedAndFinishedByMethodAndCodeWithTheirDuration() async throws {
        let metrics = TestMetrics()
        try await withEchoServer(configuration: configuration(metrics, InMemoryLogHandler())) { channel, _ in
            #expect(await call(channel, EchoService.unary, "a") == .ok)
            #expect(await call(channel, EchoService.unary, "b") == .ok)
            #expect(await call(channel, EchoService.fail, "x") == .notFound)
            #expect(await call(channel, EchoService.fail, "plain") == .unknown)
            #expect(await call(channel, "/test.Echo/Missing", "") == .unimplemented)
            #expect(await call(channel, "/nope.Nope/Nope", "") == .unimplemented)
        }
        let started = try metrics.expectCounter("loop_grpc_server_calls_started_total", [("method", EchoService.unary)])
        #expect(started.totalValue == 2)
        #expect(finished(metrics, EchoService.unary, "OK") == 2)
        #expect(try metrics.expectCounter("loop_grpc_server_calls_started_total", [("method", EchoService.fail)]).totalValue == 2)
        #expect(finished(metrics, EchoService.fail, "NOT_FOUND") == 1)
        #expect(finished(metrics, EchoService.fail, "UNKNOWN") == 1)
        #expect(finished(metrics, EchoService.fail, "OK") == 0)
        // Unregistered paths share one series: a client cannot make up labels.
        #expect(finished(metrics, "unknown", "UNIMPLEMENTED") == 2)
        #expect(metrics.counters(label: "loop_grpc_server_calls_started_total").allSatisfy { $0.dimensions[0].1 != "/nope.Nope/Nope" })
        // Every registered method's codes exist from the bind: 17 series each.
        #expect(metrics.counters(label: "loop_grpc_server_calls_finished_total").filter { $0.dimensions[0].1 == EchoService.unary }.count == 17)

        let duration = try metrics.expectTimer("loop_grpc_server_call_duration_seconds", [("method", EchoService.unary)])
        #expect(duration.values.count == 2)
        #expect(duration.values.allSatisfy { $0 > 0 && $0 < 10_000_000_000 })

        // The HTTP/2 connection under the calls, through the same factory.
        #expect(try metrics.expectCounter("loop_http2_connections_accepted_total").totalValue == 1)
        #expect(try metrics.expectCounter("loop_http2_streams_opened_total").totalValue == 6)
    }

    @Test func aChannelCountsItsCallsByMethodAndCodeToo() async throws {
        let metrics = TestMetrics()
        var channelConfiguration = GRPCChannelConfiguration()
        channelConfiguration.metricsFactory = metrics
        try await withEchoServer(channelConfiguration: channelConfiguration) { channel, _ in
            #expect(await call(channel, EchoService.unary, "a") == .ok)
            #expect(await call(channel, EchoService.fail, "x") == .notFound)
            #expect(await call(channel, "/nope.Nope/Nope", "") == .unimplemented)
        }
        func clientFinished(_ method: String, _ code: String) -> Int64 {
            (try? metrics.expectCounter("loop_grpc_client_calls_finished_total", [("method", method), ("code", code)]).totalValue) ?? 0
        }
        #expect(clientFinished(EchoService.unary, "OK") == 1)
        #expect(clientFinished(EchoService.fail, "NOT_FOUND") == 1)
        // A client names its own methods: the path it called is the label.
        #expect(clientFinished("/nope.Nope/Nope", "UNIMPLEMENTED") == 1)
        #expect(try metrics.expectCounter("loop_grpc_client_calls_started_total", [("method", EchoService.unary)]).totalValue == 1)
        #expect(try metrics.expectTimer("loop_grpc_client_call_duration_seconds", [("method", EchoService.fail)]).values.count == 1)
        // Its HTTP/2 connection, as a client's.
        #expect(try metrics.expectCounter("loop_http2_client_connections_opened_total").totalValue == 1)
        #expect(try metrics.expectCounter("loop_http2_client_streams_opened_total").totalValue == 3)
        // The server counted nothing here: it has its own (no-op) factory.
        #expect(metrics.counters(label: "loop_grpc_server_calls_started_total").isEmpty)
    }

    @Test func aHandlerErrorIsLoggedWithMethodAndStatus() async throws {
        let logs = InMemoryLogHandler()
        try await withEchoServer(configuration: configuration(TestMetrics(), logs)) { channel, _ in
            #expect(await call(channel, EchoService.fail, "plain") == .unknown)
            #expect(await call(channel, EchoService.fail, "x") == .notFound)
            #expect(await call(channel, EchoService.unary, "fine") == .ok)
        }
        let errors = logs.entries.filter { $0.level >= .error }
        #expect(errors.count == 1)  // a status the handler throws is its answer, not an error
        let entry = try #require(errors.first)
        #expect(entry.message == "gRPC handler failed")
        #expect(entry.metadata["grpc.method"] == "\(EchoService.fail)")
        #expect(entry.metadata["grpc.status"] == "UNKNOWN")
        #expect(entry.metadata["error"] == "a plain error")
        #expect(entry.metadata["loop.connection_id"] != nil)
        #expect(entry.metadata["loop.remote_address"]?.description.hasPrefix("127.0.0.1:") == true)
    }

    @Test func withTheNoOpFactoryNothingIsMade() async throws {
        // Not bootstrapped: MetricsSystem.factory is the no-op one, and no handle is made.
        var router = GRPCRouter()
        EchoService().register(with: &router)
        #expect(GRPCMethodMetrics.resolve(nil) == nil)
        #expect(router.method(for: EchoService.unary)?.metrics == nil)
        let metrics = TestMetrics()
        #expect(GRPCMethodMetrics.resolve(metrics) != nil)
        router.makeMetrics(factory: metrics)
        #expect(router.method(for: EchoService.unary)?.metrics != nil)
        #expect(router.unknownMethodMetrics != nil)
    }
}
