import Logging
import Loop
import LoopHTTP2

extension GRPCServerCall {
    /// A handler threw `error`, which ends the call with `status`. An error that is not a
    /// status (nor convertible to one, nor a cancellation) is a fault of the handler's that
    /// would otherwise be lost (the client sees UNKNOWN): logged at error level with the
    /// method and the status, on the connection's logger. Statuses a handler throws are its
    /// answer, counted in the metrics, not logged.
    func logHandlerError(_ error: any Error, becoming status: GRPCStatus) async {
        guard !(error is GRPCStatus), !(error is any GRPCStatusConvertible), !(error is CancellationError),
              !context.isCancelled else { return }
        let method = context.path
        await onLoop(loop) { [stream] in
            stream.connection.logger.error("gRPC handler failed", metadata: [
                "grpc.method": "\(method)", "grpc.status": "\(status.code)", "error": "\(error)",
            ])
        }
    }
}

extension GRPCServerConnection {
    /// A call answered before any handler ran (an unknown method, a bad request head):
    /// counted as started and finished, under its method when the path is registered, else
    /// under `method="unknown"`; logged at debug.
    func observeRejection(_ stream: HTTP2StreamHandle, _ headers: [HPACKHeader], _ status: GRPCStatus) {
        let path = headers.first { $0.name == ":path" }?.value
        let metrics = path.flatMap { router.method(for: $0)?.metrics } ?? router.unknownMethodMetrics
        var observer = GRPCCallObserver(metrics: metrics)
        observer.ended(status.code)
        stream.connection.logger.debug("gRPC call rejected", metadata: [
            "grpc.method": "\(path ?? "")", "grpc.status": "\(status.code)", "grpc.message": "\(status.message)",
        ])
    }
}
