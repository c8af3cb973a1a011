import Logging
import Loop
import LoopGRPC
import LoopGRPCProtobuf
import LoopGRPCTracing
import LoopHTTP2
import LoopServiceLifecycle
import Metrics
import Prometheus
import ServiceLifecycle

LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
let registry = PrometheusCollectorRegistry()
MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
let logger = Logger(label: "echo-server")

struct Echo: GRPCService {
    func register(with router: inout GRPCRouter) {
        router.registerUnary("/echo.Echo/Get", deserializer: ByteBufferCodec(), serializer: ByteBufferCodec()) { request, _ in request }
    }
}

let group = EventLoopGroup()
var configuration = GRPCServerConfiguration()
configuration.logger = logger                                  // connections, violations, handler errors
configuration.interceptors = [GRPCServerTracingInterceptor()]  // a span per call (bootstrap a tracer)
configuration.http2.maxConnectionAge = .seconds(30 * 60)       // clients rebalance every half hour
configuration.http2.maxConnectionAgeGrace = .seconds(60)
let grpc = try await GRPCServer.bind(host: "127.0.0.1", port: 50051, group: group,
                                     services: [Echo(), GRPCHealthService()], configuration: configuration)
let metrics = try await HTTP2Server.bind(host: "127.0.0.1", port: 9090, group: group) { _, response in
    try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(bytes: registry.emitToBuffer()))
}
logger.info("serving gRPC on :\(grpc.port), metrics on :\(metrics.port)/metrics")
var services = ServiceGroupConfiguration(services: [grpc, metrics], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
services.maximumGracefulShutdownDuration = .seconds(30)        // SIGTERM: drain for up to 30 s
try await ServiceGroup(configuration: services).run()
try await group.shutdownGracefully()
