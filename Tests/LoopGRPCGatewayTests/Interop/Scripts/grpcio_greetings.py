#!/usr/bin/env python3
"""A grpcio (PyPI grpcio, the C core) client of loop.demo.v1.Greetings for the one-port tests.

    grpcio_greetings.py --port P [--host 127.0.0.1] [--calls 20] [--count 3]

Makes --calls SayHello calls (name "grpcio-<i>", each checked) and --calls StreamHellos calls
(--count replies each, checked) on one channel, then one SayHello("forbidden") that must fail
with PERMISSION_DENIED. The messages are encoded by hand (grpcweb_client.py's encoders), so no
generated code is needed. Prints one JSON object: {"ok": n, "failed": [..], "forbidden": "CODE: message"}.
"""
import argparse
import json
import os
import sys

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grpcweb_client import hello_reply, hello_request, stream_hellos_request  # noqa: E402

SAY_HELLO = "/loop.demo.v1.Greetings/SayHello"
STREAM_HELLOS = "/loop.demo.v1.Greetings/StreamHellos"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--count", type=int, default=3)
    args = parser.parse_args()

    ok = 0
    failed = []
    with grpc.insecure_channel(f"{args.host}:{args.port}") as channel:
        say_hello = channel.unary_unary(SAY_HELLO)
        stream_hellos = channel.unary_stream(STREAM_HELLOS)
        for index in range(args.calls):
            name = f"grpcio-{index}"
            try:
                reply = hello_reply(say_hello(hello_request(name), timeout=10))
                if reply["message"] == f"Hello, {name}!":
                    ok += 1
                else:
                    failed.append(f"SayHello({name}): {reply}")
            except grpc.RpcError as error:
                failed.append(f"SayHello({name}): {error.code().name}: {error.details()}")
            try:
                replies = [hello_reply(raw) for raw in stream_hellos(stream_hellos_request(name, args.count, 0), timeout=10)]
                expected = [f"Hello, {name}! #{i}" for i in range(1, args.count + 1)]
                if [r["message"] for r in replies] == expected:
                    ok += 1
                else:
                    failed.append(f"StreamHellos({name}): {replies}")
            except grpc.RpcError as error:
                failed.append(f"StreamHellos({name}): {error.code().name}: {error.details()}")
        try:
            say_hello(hello_request("forbidden"), timeout=10)
            forbidden = "OK"
        except grpc.RpcError as error:
            forbidden = f"{error.code().name}: {error.details()}"
    print(json.dumps({"ok": ok, "failed": failed, "forbidden": forbidden}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
