/// haproxy.cfg for the proxy tests: one frontend on 127.0.0.1:`port` speaking HTTP/2 with
/// prior knowledge, one backend server on 127.0.0.1:`upstreamPort` over h2c, and the runtime
/// API on a Unix socket in `directory` (`stats socket`, read by HAProxyRuntimeAPI).
///
/// Timeouts: connecting fails within 2 s; an idle call or connection is given up after 30 s
/// (longer than any call of the tests); a half-closed connection lingers at most 1 s.
///
/// With `healthCheck`, HAProxy checks the server every 100 ms with grpc.health.v1.Health/Check
/// (two results in a row change its state). The check is a `tcp-check` with the HTTP/2
/// frames written out (RawHealthCheckRequest), not `option httpchk`: a gRPC request body
/// always holds NUL bytes (the 5-byte message prefix), and HAProxy 2.6 builds
/// `http-check send ... body`/`body-lf` as C strings, so the body stops at the first NUL
/// (measured: `body-lf "%[bin(410042)]"` sent the one byte "A"; the empty request, all
/// NULs, went out as `content-length: 0`, which no gRPC server answers with a status).
/// `tcp-check expect binary` then looks for the SERVING response message in what comes
/// back; a NOT_SERVING answer never matches, and the check fails at `timeout check` (500 ms).
struct HAProxyConfiguration: Sendable {
    let port: Int
    let upstreamPort: Int
    let directory: String
    let healthCheck: Bool

    /// The backend and its one server, as the runtime API names them.
    static let backend = "loop"
    static let server = "s1"

    /// The runtime API's socket, in `directory`.
    static let socketFile = "haproxy.sock"
    var socketPath: String { directory + "/" + Self.socketFile }

    var text: String {
        var lines = [
            "global",
            "    stats socket \(socketPath) mode 600 level admin",
            "",
            "defaults",
            "    mode http",
            "    timeout connect 2s",
            "    timeout client 30s",
            "    timeout server 30s",
            "    timeout client-fin 1s",
            "    timeout server-fin 1s",
            "    timeout check 500ms",
            "",
            "frontend grpc",
            "    bind 127.0.0.1:\(port) proto h2",
            "    default_backend \(Self.backend)",
            "",
            "backend \(Self.backend)",
        ]
        var server = "    server \(Self.server) 127.0.0.1:\(upstreamPort) proto h2"
        if healthCheck {
            lines += [
                "    option tcp-check",
                "    tcp-check connect",
                "    tcp-check send-binary \(RawHealthCheckRequest.hex)",
                "    tcp-check expect binary \(RawHealthCheckRequest.servingResponseMessageHex)",
            ]
            server += " check inter 100ms fall 2 rise 2"
        }
        lines.append(server)
        return lines.joined(separator: "\n") + "\n"
    }
}
