import Foundation
import InteropTestSupport

/// A reverse proxy the proxy tests put between a gRPC client and our server: started as a
/// child process on 127.0.0.1 (never as a daemon), listening on one port with HTTP/2
/// prior knowledge (h2c) and forwarding every call to one upstream over h2c.
///
/// Another proxy is one more case here: its peer (or built product) and how it is launched.
enum ReverseProxyKind: String, CaseIterable, Sendable, CustomStringConvertible {
    /// HAProxy 2.6 (Debian `haproxy`), `mode http` with `proto h2` on both sides.
    case haproxy
    /// nginx 1.22 (Debian `nginx`), `listen ... http2` and `grpc_pass`.
    case nginx
    /// Our own GRPCProxy example (Sources/examples/GRPCProxy, on LoopHTTP2's HTTP2Proxy).
    case grpcProxy = "GRPCProxy"

    var description: String { rawValue }

    /// How to start this proxy on 127.0.0.1:`port` in front of 127.0.0.1:`upstreamPort`, with
    /// its configuration and every file it writes in `directory`.
    func launch(port: Int, upstreamPort: Int, directory: TemporaryDirectory,
                options: ReverseProxyOptions) throws -> ReverseProxyLaunch {
        switch self {
        case .haproxy:
            let haproxy = try Peer.haproxy.locate()
            let configuration = HAProxyConfiguration(port: port, upstreamPort: upstreamPort, directory: directory.path,
                                                     healthCheck: options.healthCheck)
            let file = directory.file("haproxy.cfg")
            try configuration.text.write(toFile: file, atomically: true, encoding: .utf8)
            // -db: foreground, no daemon; the log goes to standard error.
            return ReverseProxyLaunch(executable: haproxy, arguments: ["-db", "-f", file])
        case .nginx:
            let nginx = try Peer.nginx.locate()
            let configuration = NginxConfiguration(port: port, upstreamPort: upstreamPort, directory: directory.path)
            let file = directory.file("nginx.conf")
            try configuration.text.write(toFile: file, atomically: true, encoding: .utf8)
            // -p: the prefix (temporary files), -e stderr: the error log before the
            // configuration is read (nginx would otherwise open /var/log/nginx/error.log).
            return ReverseProxyLaunch(executable: nginx, arguments: ["-p", directory.path + "/", "-c", file, "-e", "stderr"])
        case .grpcProxy:
            return ReverseProxyLaunch(executable: try locateBuiltProduct("GRPCProxy"),
                                      arguments: ["--listen", "127.0.0.1:\(port)", "--upstream", "127.0.0.1:\(upstreamPort)", "--threads", "1"])
        }
    }
}

/// What a test asks of the proxy beyond forwarding.
struct ReverseProxyOptions: Sendable {
    /// HAProxy: check the upstream's grpc.health.v1 service (HAProxyConfiguration.healthCheck).
    var healthCheck = false
}

/// A proxy's command line.
struct ReverseProxyLaunch: Sendable {
    let executable: String
    let arguments: [String]
}

extension Peer {
    /// HAProxy, in /usr/sbin: Peer.locate also looks in the sbin directories.
    static let haproxy = Peer(name: "haproxy", package: "haproxy")
    static let nginx = Peer(name: "nginx", package: "nginx")
}
