/// nginx.conf for the proxy tests: one server on 127.0.0.1:`port` speaking HTTP/2 with prior
/// knowledge (`listen ... http2` without TLS) that passes every request to
/// 127.0.0.1:`upstreamPort` with `grpc_pass`. One process in the foreground (`daemon off`,
/// `master_process off`); its pid file, temporary directories and error log (standard error)
/// stay out of /var and /run, so it runs as any user.
///
/// - `client_max_body_size 0`: no limit (the default, 1m, answers a 4 MiB request with 413).
/// - The upstream keeps up to 16 idle connections (`keepalive`), as gRPC deployments configure
///   it: without it nginx opens a connection to the server for every call.
/// - Timeouts: connecting fails within 2 s; a call idle for 30 s (longer than any call of the
///   tests) is given up.
/// - `http2_max_requests` stays at its default, 1000: a client connection that has made
///   1,000 calls is sent GOAWAY and the client continues on a new one, as in production.
struct NginxConfiguration: Sendable {
    let port: Int
    let upstreamPort: Int
    let directory: String

    var text: String {
        """
        daemon off;
        master_process off;
        worker_processes 1;
        pid \(directory)/nginx.pid;
        error_log stderr notice;

        events {
            worker_connections 1024;
        }

        http {
            access_log off;
            client_body_temp_path \(directory)/client_body;
            proxy_temp_path \(directory)/proxy;
            fastcgi_temp_path \(directory)/fastcgi;
            uwsgi_temp_path \(directory)/uwsgi;
            scgi_temp_path \(directory)/scgi;

            upstream loop {
                server 127.0.0.1:\(upstreamPort);
                keepalive 16;
            }

            server {
                listen 127.0.0.1:\(port) http2;
                client_max_body_size 0;
                client_body_timeout 30s;
                send_timeout 30s;

                location / {
                    grpc_pass grpc://loop;
                    grpc_connect_timeout 2s;
                    grpc_read_timeout 30s;
                    grpc_send_timeout 30s;
                }
            }
        }

        """
    }
}
