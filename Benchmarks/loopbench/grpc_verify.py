"""One call of a gRPC workload with a real client (grpcio), checked: status OK and the exact
response messages. Run as a subprocess, so grpcio's threads leave with it:

    python3 -m loopbench.grpc_verify PORT WORKLOAD [CA_FILE]      (from Benchmarks/)

over TLS when CA_FILE (PEM) is given: the server's certificate must chain to it and name 127.0.0.1.
Prints one line of JSON: {"ok": true|false, "detail": "..."}."""
from __future__ import annotations

import json
import sys

from .grpc_messages import UNARY_PATH, WORKLOADS

try:
    import grpc
except ImportError:
    grpc = None


def verify_main(port: int, workload: str, ca_file: str | None = None) -> int:
    if grpc is None:
        print(json.dumps({"ok": False, "detail": "grpcio is not installed (make peers)"}))
        return 0
    w = WORKLOADS[workload]
    if ca_file:
        with open(ca_file, "rb") as f:
            credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
        channel = grpc.secure_channel(f"127.0.0.1:{port}", credentials)
    else:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=10)
        if w["path"] == UNARY_PATH:
            response, call = channel.unary_unary(w["path"]).with_call(w["request"], timeout=10)
            got = [response]
            code = call.code()
        else:
            call = channel.unary_stream(w["path"])(w["request"], timeout=10)
            got = list(call)
            code = call.code()
        ok = code == grpc.StatusCode.OK and got == w["responses"]
        detail = f"grpcio client: {code.name}, {len(got)} message(s) of {sorted({len(g) for g in got})} bytes" + \
            ("" if got == w["responses"] else f" (expected {len(w['responses'])} x {len(w['responses'][0])} bytes)")
    except grpc.RpcError as error:
        ok, detail = False, f"grpcio client: {error.code().name} {error.details()}"
    except Exception as error:  # noqa: BLE001
        ok, detail = False, f"grpcio client: {type(error).__name__}: {error}"
    finally:
        channel.close()
    print(json.dumps({"ok": ok, "detail": detail}))
    return 0


if __name__ == "__main__":
    sys.exit(verify_main(int(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
