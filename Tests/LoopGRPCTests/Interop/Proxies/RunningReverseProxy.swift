import Foundation
import InteropTestSupport
import Testing

/// A reverse proxy running in front of 127.0.0.1:`upstreamPort`, accepting on
/// 127.0.0.1:`port`; its configuration and files live in `directory` until it stops.
struct RunningReverseProxy: Sendable {
    let kind: ReverseProxyKind
    let process: BackgroundProcess
    let port: Int
    let upstreamPort: Int
    let directory: TemporaryDirectory

    /// HAProxy's runtime API (its `stats socket`).
    var haproxyRuntimeAPI: HAProxyRuntimeAPI { HAProxyRuntimeAPI(socketPath: directory.file(HAProxyConfiguration.socketFile)) }

    /// Starts `kind` on a free port and waits until it accepts connections. A proxy that
    /// exits before accepting (the port was taken meanwhile) is started again on another
    /// port, at most three times.
    static func start(_ kind: ReverseProxyKind, upstreamPort: Int, options: ReverseProxyOptions = ReverseProxyOptions()) async throws -> RunningReverseProxy {
        var attempt = 1
        while true {
            let port = try freeLocalPort()
            let directory = try TemporaryDirectory("proxy-\(kind)")
            let process: BackgroundProcess
            do {
                let launch = try kind.launch(port: port, upstreamPort: upstreamPort, directory: directory, options: options)
                process = try BackgroundProcess(launch.executable, launch.arguments, name: "\(kind)", currentDirectory: directory.path)
            } catch {
                directory.remove()
                throw error
            }
            do {
                try await waitUntilAccepting(process, port: port, timeout: 15)
                return RunningReverseProxy(kind: kind, process: process, port: port, upstreamPort: upstreamPort, directory: directory)
            } catch {
                let exitedEarly = !process.isRunning
                await process.stop()
                directory.remove()
                guard exitedEarly, attempt < 3 else { throw error }
                attempt += 1
            }
        }
    }

    /// Stops the proxy (SIGTERM, then SIGKILL) and removes its directory.
    func stop() async {
        await process.stop()
        directory.remove()
    }
}

/// Runs `body` with `kind` in front of 127.0.0.1:`upstreamPort`; afterwards fails the test
/// (without throwing) if the proxy died during it, and stops the proxy, also when `body`
/// throws (the error then carries the proxy's output).
func withReverseProxy<T>(_ kind: ReverseProxyKind, upstreamPort: Int, options: ReverseProxyOptions = ReverseProxyOptions(),
                         sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: (RunningReverseProxy) async throws -> T) async throws -> T {
    let proxy = try await RunningReverseProxy.start(kind, upstreamPort: upstreamPort, options: options)
    func checkAlive() {
        if !proxy.process.isRunning {
            Issue.record("\(kind) died during the test (\(proxy.process.exitDescription)); its output:\n\(proxy.process.log.suffix(6000))",
                         sourceLocation: sourceLocation)
        }
    }
    do {
        let result = try await body(proxy)
        checkAlive()
        await proxy.stop()
        return result
    } catch {
        checkAlive()
        let log = proxy.process.log
        await proxy.stop()
        throw InteropError("\(error)\n\(kind) output:\n\(log.suffix(3000))")
    }
}

/// Our InteropServer example with `kind` in front of it: `body` gets the proxy (whose `port`
/// the clients call) and the server; both are stopped at the end.
func withInteropServerBehind<T>(_ kind: ReverseProxyKind, sourceLocation: SourceLocation = #_sourceLocation,
                                _ body: (RunningReverseProxy, RunningServer) async throws -> T) async throws -> T {
    try await withInteropServer({ server in
        try await withReverseProxy(kind, upstreamPort: server.port, sourceLocation: sourceLocation) { proxy in
            try await body(proxy, server)
        }
    }, sourceLocation: sourceLocation)
}
