import InteropSupport
import InteropTestSupport
import LoopGRPC

/// Our in-process client (GRPCChannel and the generated TestService client) making `count`
/// aborted calls of `kind` to 127.0.0.1:`port`, at most `concurrency` at a time on one
/// channel, each with a 10 s deadline; the whole run has 120 s.
func loopClientAbortedCalls(_ kind: AbortedCallKind, port: Int, count: Int = 1000, concurrency: Int = 20,
                            message: String = AbortedCallKind.message) async throws -> StatusCounts {
    try await withTestServiceClient(port: port, seconds: 120, "\(count) aborted \(kind) calls") { client in
        let options = {
            var options = GRPCCallOptions()
            options.timeout = .seconds(10)
            return options
        }()
        let request = Grpc_Testing_StreamingOutputCallRequest.with {
            $0.responseType = .compressable
            $0.responseStatus = Grpc_Testing_EchoStatus.with {
                $0.code = Int32(GRPCStatus.Code.permissionDenied.rawValue)
                $0.message = message
            }
        }
        @Sendable func oneCall() async -> String {
            do {
                switch kind {
                case .bidi:
                    try await client.fullDuplexCall(options: options) { requests, responses in
                        try await requests.send(request)
                        // No requests.finish(): the request side stays open until the status
                        // arrives (the status ends the iteration by throwing).
                        for try await _ in responses {}
                    }
                case .serverStreaming:
                    try await client.streamingOutputCall(request, options: options) { responses in
                        for try await _ in responses {}
                    }
                }
                return "OK"
            } catch let status as GRPCStatus {
                if status.code == .permissionDenied, status.message != message { return "PERMISSION_DENIED_WRONG_MESSAGE" }
                return status.code.description
            } catch {
                return "ERROR \(type(of: error))"
            }
        }
        return await withTaskGroup(of: String.self) { group in
            var counts = StatusCounts()
            var started = 0
            while started < min(concurrency, count) {
                group.addTask { await oneCall() }
                started += 1
            }
            for await name in group {
                counts.add(name)
                if started < count {
                    group.addTask { await oneCall() }
                    started += 1
                }
            }
            return counts
        }
    }
}
