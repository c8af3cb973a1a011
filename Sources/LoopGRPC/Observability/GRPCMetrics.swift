import CoreMetrics
import Glibc
import LoopHTTP2
import Synchronization

/// One method's call metrics: calls started, calls finished by status code (all 17 codes
/// made up front, a fixed array, so finishing a call looks nothing up), and call duration.
/// Made once per method: by `GRPCServer.bind` for every registered method (and one for
/// unknown methods, `method="unknown"`), and by a `GRPCChannel` the first time it calls a
/// method (`GRPCClientMetrics`).
///
/// | metric | type | labels |
/// |---|---|---|
/// | `loop_grpc_server_calls_started_total` | counter | `method` (`/package.Service/Method`) |
/// | `loop_grpc_server_calls_finished_total` | counter | `method`, `code` (`OK`, `NOT_FOUND`, ...) |
/// | `loop_grpc_server_call_duration_seconds` | timer (a histogram in Prometheus) | `method` |
///
/// Clients count the same under `loop_grpc_client_`.
final class GRPCMethodMetrics: Sendable {
    let started: Counter
    let finished: [Counter]
    let duration: CoreMetrics.Timer

    init(factory: any MetricsFactory, prefix: String, method: String) {
        started = Counter(label: prefix + "calls_started_total", dimensions: [("method", method)], factory: factory)
        finished = GRPCStatus.Code.allCases.map { code in
            Counter(label: prefix + "calls_finished_total", dimensions: [("method", method), ("code", code.description)], factory: factory)
        }
        duration = CoreMetrics.Timer(label: prefix + "call_duration_seconds", dimensions: [("method", method)], factory: factory)
    }

    /// The factory to count through (nil: `MetricsSystem.factory`), or nil for the no-op one.
    static func resolve(_ factory: (any MetricsFactory)?) -> (any MetricsFactory)? {
        let factory = factory ?? MetricsSystem.factory
        return factory is NOOPMetricsHandler ? nil : factory
    }
}

/// A channel's method metrics, made the first time it calls each path (a lock and a lookup
/// per call, no allocation after the first call of a method).
final class GRPCClientMetrics: Sendable {
    private let factory: any MetricsFactory
    private let methods = Mutex<[String: GRPCMethodMetrics]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func method(_ path: String) -> GRPCMethodMetrics {
        methods.withLock { methods in
            if let metrics = methods[path] { return metrics }
            let metrics = GRPCMethodMetrics(factory: factory, prefix: "loop_grpc_client_", method: path)
            methods[path] = metrics
            return metrics
        }
    }
}

/// One call's share of its method's metrics: counted as started when made, as finished
/// (once) with its status code and duration.
struct GRPCCallObserver {
    let metrics: GRPCMethodMetrics?
    private let startedAt: UInt64
    private var ended = false

    /// No metrics.
    static let none = GRPCCallObserver(metrics: nil)

    init(metrics: GRPCMethodMetrics?) {
        self.metrics = metrics
        if let metrics {
            metrics.started.increment()
            startedAt = Self.now()
        } else {
            startedAt = 0
        }
    }

    /// The call ended with `code` (the first end counts; later ones are ignored).
    mutating func ended(_ code: GRPCStatus.Code) {
        guard !ended else { return }
        ended = true
        guard let metrics else { return }
        metrics.finished[Int(code.rawValue)].increment()
        let now = Self.now()
        metrics.duration.recordNanoseconds(Int64(now >= startedAt ? now - startedAt : 0))
    }

    /// Monotonic nanoseconds.
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
