import Foundation
import InteropSupport
import InteropTestSupport
import Loop
import LoopGRPC
import LoopTLS
import Testing

// gRPC support for the interop tests: the real peers of `make peers` (grpc-go 1.33's
// interop_client and interop_server, compression_peer, grpcio through Scripts/grpcio_peer.py)
// against the InteropServer, InteropClient and Greeter examples and the in-process LoopGRPC
// client. The generic helpers (processes under hard timeouts, ports, deadlines) come from
// InteropTestSupport. A missing peer fails the test with what installs it; every process
// runs under a hard timeout and every server is killed at the end of its test, also when
// the test fails. Only 127.0.0.1.

/// The parent of the gRPC interop suites. `.serialized` applies to the suites nested in it,
/// so one set of peer processes at a time runs on the 2-core machine. `swift test --filter
/// GRPCInteropTests` selects them all.
@Suite(.serialized) enum GRPCInteropTests {}

// MARK: Cases

/// The client cases of gRPC's interop-test-descriptions that grpc-go's interop_client runs
/// against our InteropServer, in the order they run.
let goClientCases = [
    "empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong", "empty_stream",
    "timeout_on_sleeping_server", "cancel_after_begin", "cancel_after_first_response", "status_code_and_message",
    "special_status_message", "custom_metadata", "unimplemented_method", "unimplemented_service", "pick_first_unary",
]

/// The cases our InteropClient runs against grpc-go's interop_server (pick_first_unary
/// needs a server that fills server_id, which grpc-go 1.33's interop_server does not).
let interopClientCases = goClientCases.filter { $0 != "pick_first_unary" }

/// The cases of grpcio_peer.py's client, in the order it runs them.
let grpcioClientCases = [
    "empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong", "empty_stream",
    "status_code_and_message", "special_status_message", "custom_metadata", "unimplemented_method",
    "unimplemented_service", "timeout_on_sleeping_server", "cancel_after_begin", "cancel_after_first_response",
]

/// The lines of a program's output, without the empty last one.
func outputLines(_ text: String) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
}

/// grpcio_peer.py's client output with the timings removed: "PASS name (12 ms)" becomes
/// "PASS name"; FAIL lines and the summary stay as they are.
func grpcioClientLines(_ text: String) -> [String] {
    outputLines(text).map { line in
        guard line.hasPrefix("PASS "), let range = line.range(of: #" \([0-9]+ ms\)$"#, options: .regularExpression) else { return line }
        return String(line[..<range.lowerBound])
    }
}

// MARK: Peers

/// grpcio_peer.py, run with python3 from the source tree.
let grpcioPeerScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/grpcio_peer.py").path

/// python3 with grpcio and grpcio-tools (grpcio_peer.py generates its stubs at start-up),
/// or an error saying how to install them.
func locatePythonWithGRPC() async throws -> String {
    try await locatePython(with: [PythonModule("grpc", package: "grpcio"), PythonModule("grpc_tools", package: "grpcio-tools")],
                           installHint: "make peers")
}

/// The .proto files grpcio_peer.py compiles, checked up front so that their absence reads
/// as a missing peer rather than as a failed case.
func requirePeerProtos() throws {
    let file = peersDirectory + "/protos/grpc/testing/test.proto"
    guard FileManager.default.fileExists(atPath: file) else {
        throw InteropError("\(file) missing: run `make peers` (or `make test`, which runs it)")
    }
}

// MARK: Servers

/// A server process on 127.0.0.1:`port`, stopped when its test ends.
struct RunningServer {
    let process: BackgroundProcess
    let port: Int
}

/// Starts a server that cannot report the port it bound: picks a free port, starts the
/// server on it and waits until it accepts. A server that exits before accepting (the port
/// was taken meanwhile) is started again on another port, at most three times. `environment`:
/// the server's, by default this process's.
func startServer(_ executable: String, name: String, environment: [String: String]? = nil,
                 arguments: (Int) -> [String]) async throws -> RunningServer {
    var attempt = 1
    while true {
        let port = try freeLocalPort()
        let process = try BackgroundProcess(executable, arguments(port), name: name, environment: environment)
        do {
            try await waitUntilAccepting(process, port: port, timeout: 30)
            return RunningServer(process: process, port: port)
        } catch {
            let exitedEarly = !process.isRunning
            await process.stop()
            guard exitedEarly, attempt < 3 else { throw error }
            attempt += 1
        }
    }
}

/// Starts a server that prints "listening on PORT" once it accepts (`--port 0` or
/// `-port=0` picks the port: no race).
func startServerReportingPort(_ executable: String, _ arguments: [String], name: String) async throws -> RunningServer {
    let process = try BackgroundProcess(executable, arguments, name: name)
    do {
        let port = try await process.waitForOutput(timeout: 30) { text -> Int? in
            guard let range = text.range(of: #"listening on [0-9]+\n"#, options: .regularExpression) else { return nil }
            return Int(text[range].dropFirst("listening on ".count).dropLast())
        }
        return RunningServer(process: process, port: port)
    } catch {
        await process.stop()
        throw error
    }
}

/// Runs `body` with `server`, then fails the test (without throwing) if the server died
/// during it, and kills the server — also when `body` throws.
func withServer<T>(_ server: RunningServer, _ body: (RunningServer) async throws -> T,
                   sourceLocation: SourceLocation = #_sourceLocation) async throws -> T {
    func checkAlive() {
        if !server.process.isRunning {
            Issue.record("\(server.process.name) died during the test (\(server.process.exitDescription)); its output:\n\(server.process.log.suffix(6000))",
                         sourceLocation: sourceLocation)
        }
    }
    do {
        let result = try await body(server)
        checkAlive()
        await server.process.stop()
        return result
    } catch {
        checkAlive()
        await server.process.stop()
        throw InteropError("\(error)\n\(server.process.name) output:\n\(server.process.log.suffix(3000))")
    }
}

/// Our InteropServer example on a free port. It prints its port, but its standard output is
/// block-buffered when it is not a terminal, so the port is chosen here.
func withInteropServer<T>(_ body: (RunningServer) async throws -> T,
                          sourceLocation: SourceLocation = #_sourceLocation) async throws -> T {
    let binary = try locateBuiltProduct("InteropServer")
    let server = try await startServer(binary, name: "InteropServer") { ["--host", "127.0.0.1", "--port", String($0)] }
    return try await withServer(server, body, sourceLocation: sourceLocation)
}

// MARK: The in-process LoopGRPC client

/// A LoopGRPC channel to 127.0.0.1:`port` (over TLS with `tls`) with a TestService client,
/// closed (with its event loop) at the end; the whole of `body` runs under a hard deadline of
/// `seconds`.
func withTestServiceClient<T: Sendable>(port: Int, tls: TLSConfiguration? = nil, seconds: Double = 60, _ what: String,
                                        _ body: @escaping @Sendable (Grpc_Testing_TestServiceClient) async throws -> T) async throws -> T {
    let group = EventLoopGroup(numberOfThreads: 1)
    var configuration = GRPCChannelConfiguration()
    configuration.tls = tls
    let channel = GRPCChannel(host: "127.0.0.1", port: port, group: group, configuration: configuration)
    let client = Grpc_Testing_TestServiceClient(channel: channel)
    do {
        let result = try await withDeadline(seconds, what) { try await body(client) }
        await channel.close()
        try await group.shutdownGracefully()
        return result
    } catch {
        await channel.close()
        try? await group.shutdownGracefully()
        throw error
    }
}

/// Call options with a 30 s deadline, room for the 4 MiB cases, and `compression`.
func callOptions(compression: GRPCCompression? = nil) -> GRPCCallOptions {
    var options = GRPCCallOptions()
    options.timeout = .seconds(30)
    options.maxReceiveMessageSize = 8 << 20
    options.compression = compression
    return options
}

func zeros(_ count: Int) -> Grpc_Testing_Payload {
    Grpc_Testing_Payload.with {
        $0.type = .compressable
        $0.body = Data(count: count)
    }
}

func simpleRequest(requestSize: Int, responseSize: Int) -> Grpc_Testing_SimpleRequest {
    Grpc_Testing_SimpleRequest.with {
        $0.responseType = .compressable
        $0.responseSize = Int32(responseSize)
        $0.payload = zeros(requestSize)
    }
}

func streamingRequest(requestSize: Int = 0, responseSizes: [Int]) -> Grpc_Testing_StreamingOutputCallRequest {
    Grpc_Testing_StreamingOutputCallRequest.with {
        $0.responseType = .compressable
        $0.responseParameters = responseSizes.map { size in Grpc_Testing_ResponseParameters.with { $0.size = Int32(size) } }
        if requestSize > 0 { $0.payload = zeros(requestSize) }
    }
}

/// "N zero bytes" or what the payload is instead, for exact comparisons in messages.
func describePayload(_ payload: Grpc_Testing_Payload) -> String {
    payload.body.allSatisfy { $0 == 0 } ? "\(payload.body.count) zero bytes" : "\(payload.body.count) bytes, not all zero"
}

/// What one kind of call saw, for exact comparisons.
struct CallOutcome: Sendable, Equatable, CustomStringConvertible {
    var responses: [String]
    var trailers: [String: String]

    var description: String { "responses \(responses), trailers \(trailers.sorted { $0.key < $1.key })" }
}

/// The string values of `keys` in `metadata` (missing keys left out).
func pick(_ keys: [String], from metadata: GRPCMetadata) -> [String: String] {
    var picked: [String: String] = [:]
    for key in keys { if let value = metadata[key] { picked[key] = value } }
    return picked
}

/// The sizes of the client_streaming and server_streaming cases, and the ping_pong rounds
/// (response size, request size), from gRPC's interop-test-descriptions.
let clientStreamingSizes = [27_182, 8, 1_828, 45_904]
let serverStreamingSizes = [31_415, 9, 2_653, 58_979]
let pingPongRounds = [(31_415, 27_182), (9, 8), (2_653, 1_828), (58_979, 45_904)]

/// The four call kinds of TestService with the interop sizes, each returning its responses
/// as descriptions and the trailers named by `trailerKeys`.
enum FourCallKinds {
    static func unary(_ client: Grpc_Testing_TestServiceClient, options: GRPCCallOptions, trailerKeys: [String] = [],
                      requestSize: Int = 271_828, responseSize: Int = 314_159) async throws -> CallOutcome {
        let response = try await client.unaryCall(simpleRequest(requestSize: requestSize, responseSize: responseSize), options: options) { $0 }
        return CallOutcome(responses: [describePayload(response.message.payload)], trailers: pick(trailerKeys, from: response.trailingMetadata))
    }

    static func clientStreaming(_ client: Grpc_Testing_TestServiceClient, options: GRPCCallOptions,
                                trailerKeys: [String] = []) async throws -> CallOutcome {
        let response = try await client.streamingInputCall(options: options) { requests in
            for size in clientStreamingSizes {
                try await requests.send(Grpc_Testing_StreamingInputCallRequest.with { $0.payload = zeros(size) })
            }
        } onResponse: { $0 }
        return CallOutcome(responses: ["aggregated \(response.message.aggregatedPayloadSize)"],
                           trailers: pick(trailerKeys, from: response.trailingMetadata))
    }

    static func serverStreaming(_ client: Grpc_Testing_TestServiceClient, options: GRPCCallOptions,
                                trailerKeys: [String] = []) async throws -> CallOutcome {
        try await client.streamingOutputCall(streamingRequest(responseSizes: serverStreamingSizes), options: options) { responses in
            var received: [String] = []
            for try await response in responses { received.append(describePayload(response.payload)) }
            return CallOutcome(responses: received, trailers: pick(trailerKeys, from: await responses.trailingMetadata))
        }
    }

    /// ping_pong: one request, then its one response, four times; then the half-close.
    static func bidirectional(_ client: Grpc_Testing_TestServiceClient, options: GRPCCallOptions,
                              trailerKeys: [String] = []) async throws -> CallOutcome {
        try await client.fullDuplexCall(options: options) { requests, responses in
            var iterator = responses.makeAsyncIterator()
            var received: [String] = []
            for (responseSize, requestSize) in pingPongRounds {
                try await requests.send(streamingRequest(requestSize: requestSize, responseSizes: [responseSize]))
                guard let response = try await iterator.next() else {
                    received.append("end of stream")
                    break
                }
                received.append(describePayload(response.payload))
            }
            try await requests.finish()
            while let extra = try await iterator.next() { received.append("extra: \(describePayload(extra.payload))") }
            return CallOutcome(responses: received, trailers: pick(trailerKeys, from: await responses.trailingMetadata))
        }
    }
}

let expectedUnaryResponses = ["314159 zero bytes"]
let expectedClientStreamingResponses = ["aggregated 74922"]
let expectedServerStreamingResponses = serverStreamingSizes.map { "\($0) zero bytes" }
let expectedBidirectionalResponses = pingPongRounds.map { "\($0.0) zero bytes" }
