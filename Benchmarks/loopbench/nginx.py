"""nginx as a benchmark peer: the configuration every part shares (one process in the
foreground, files under the run's temporary prefix, no access log, no GOAWAY after nginx's
default 1,000 requests per connection) around the part's own `http` directives."""

from __future__ import annotations

from pathlib import Path


def nginx_config(prefix: Path, purpose: str, http_directives: str) -> str:
    """A whole nginx.conf: `purpose` as its first comment, `http_directives` (indented four
    spaces, as inside `http { }`) after the shared ones."""
    return f"""# loopbench {purpose}
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log error;
worker_rlimit_nofile 8192;

events {{
    worker_connections 4096;
}}

http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    # no GOAWAY after 1,000 requests on a connection (nginx's default)
    keepalive_requests 100000000;
{http_directives}}}
"""
