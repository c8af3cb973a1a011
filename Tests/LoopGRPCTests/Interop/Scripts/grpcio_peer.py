#!/usr/bin/env python3
"""grpcio (PyPI) peer for Loop's gRPC interop tests: a grpc.testing.TestService client or server.

The Python stubs are generated at start-up with grpc_tools.protoc from the .proto files that
scripts/install-grpc-peers.sh puts in $LOOP_PEERS_DIR/protos (default ~/.cache/loop-peers/protos;
--protos overrides), into a temporary directory removed at exit.

  grpcio_peer.py client --port N [--host 127.0.0.1] [--compression gzip] [--cases a,b,...]
                 [TLS client options]
      Runs the cases below against a TestService server (semantics of gRPC's
      interop-test-descriptions), printing "PASS name" or "FAIL name: reason" for each, and
      exits 1 if any failed (2 if it could not connect within --connect-timeout, default 10 s,
      with the reason grpcio gives, e.g. a failed TLS handshake). --large-size sets large_unary's
      request and response payload size (default 4 MiB: the messages are a few bytes over
      4 MiB, so the server must accept messages larger than gRPC's usual 4 MiB default).
  grpcio_peer.py server --port N [--host 127.0.0.1] [--compression gzip] [TLS server options]
      Serves TestService (EmptyCall, UnaryCall, StreamingInputCall, StreamingOutputCall,
      FullDuplexCall, HalfDuplexCall) with response_size / response_parameters,
      response_status, interval_us and the echo of x-grpc-test-echo-initial (initial metadata)
      and x-grpc-test-echo-trailing-bin (trailing metadata). Prints "listening on PORT"
      once it accepts calls (--port 0 picks a free port), and stops on SIGTERM or SIGINT.
  grpcio_peer.py abort --port N [--host 127.0.0.1] --kind bidi|server-streaming [--count 1000]
                 [--concurrency 20] [--message TEXT] [TLS client options]
      Makes --count calls that the server aborts, at most --concurrency at a time, on one
      channel (grpc.aio): bidi is FullDuplexCall whose one request carries response_status
      {code: 7 PERMISSION_DENIED, message: --message} and whose request side is never
      half-closed (the call waits for the status); server-streaming is StreamingOutputCall
      with the same response_status. Prints one line per status seen,
      "STATUS <CODE_NAME> <count>" sorted by name, and exits 0 (2 if it could not connect, as
      for client).
      A PERMISSION_DENIED whose message is not --message counts as
      PERMISSION_DENIED_WRONG_MESSAGE (the first such message goes to standard error).

--compression gzip makes the client's channel, or the server, compress messages with gzip.
Both ends allow messages up to 8 MiB.

TLS (all files PEM; scripts/make-test-certs.sh makes a set). Without these options both ends
speak plaintext HTTP/2 (h2c), as before. grpcio needs the TLS peer to select ALPN "h2".
  client and abort:
    --tls-ca FILE          use TLS, trusting only the CA certificates in FILE
                           (grpc.ssl_channel_credentials(root_certificates=...)). The server's
                           certificate must match --host (an IP address must be an IP SAN) or
                           --server-host-override; grpcio sends no SNI for an IP address.
    --tls-cert FILE --tls-key FILE
                           client certificate (chain) and its key, for mTLS; need --tls-ca
    --server-host-override NAME
                           the name the server's certificate is checked against, also sent as
                           SNI (channel option grpc.ssl_target_name_override); needs --tls-ca
  server:
    --tls-cert FILE --tls-key FILE
                           serve TLS with this certificate chain (leaf first) and key
                           (grpc.ssl_server_credentials)
    --tls-client-ca FILE --require-client-cert
                           mTLS: ask every client for a certificate, reject a connection
                           without one or with one that FILE's CAs did not sign. grpcio cannot
                           ask for an optional client certificate, so each needs the other.
                           In TLS 1.3 a client learns of its rejection after its handshake: a
                           grpcio client then sees only "Socket closed" and retries until
                           --connect-timeout (so give tests that expect it a short one).
"""

import argparse
import asyncio
import atexit
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent import futures

import grpc
from grpc_tools import protoc

MAX_MESSAGE = 8 * 1024 * 1024
CALL_TIMEOUT = 30.0  # seconds, for every call that does not test deadlines itself
ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_INITIAL_VALUE = "test_initial_metadata_value"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"
ECHO_TRAILING_VALUE = b"\x0a\x0b\x0a\x0b\x0a\x0b"
SPECIAL_STATUS_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"
PROTO_FILES = ("grpc/testing/empty.proto", "grpc/testing/messages.proto", "grpc/testing/test.proto")
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE),
    ("grpc.max_receive_message_length", MAX_MESSAGE),
]


def default_protos_dir():
    cache = os.environ.get("LOOP_PEERS_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "loop-peers")
    return os.path.join(cache, "protos")


def load_stubs(protos_dir):
    """Generates the grpc.testing modules into a temporary directory and imports them.

    The generated modules live in the Python package grpc.testing, inside grpcio's own `grpc`
    package: the temporary grpc/ directory is added to grpc.__path__ so that `grpc.testing`
    (a namespace package there) resolves, with grpcio itself untouched.
    """
    for name in PROTO_FILES:
        if not os.path.isfile(os.path.join(protos_dir, name)):
            sys.exit(f"grpcio_peer: {os.path.join(protos_dir, name)} is missing (run scripts/install-grpc-peers.sh)")
    out = tempfile.mkdtemp(prefix="loop-grpcio-peer-")
    atexit.register(shutil.rmtree, out, True)
    status = protoc.main(["grpc_tools.protoc", f"-I{protos_dir}", f"--python_out={out}", f"--grpc_python_out={out}", *PROTO_FILES])
    if status != 0:
        sys.exit(f"grpcio_peer: grpc_tools.protoc failed ({status}) on {protos_dir}")
    grpc.__path__.append(os.path.join(out, "grpc"))
    from grpc.testing import empty_pb2, messages_pb2, test_pb2_grpc  # noqa: E402 (generated above)

    return empty_pb2, messages_pb2, test_pb2_grpc


def compression_of(name):
    return {None: None, "none": grpc.Compression.NoCompression, "gzip": grpc.Compression.Gzip,
            "deflate": grpc.Compression.Deflate}[name]


def read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        sys.exit(f"grpcio_peer: cannot read {path}: {e.strerror}")


def channel_security(args):
    """(credentials, extra channel options) of the client options: (None, []) for plaintext."""
    if args.tls_ca is None:
        for option, value in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key),
                              ("--server-host-override", args.server_host_override)):
            if value is not None:
                sys.exit(f"grpcio_peer: {option} needs --tls-ca")
        return None, []
    if (args.tls_cert is None) != (args.tls_key is None):
        sys.exit("grpcio_peer: --tls-cert and --tls-key go together")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read_file(args.tls_ca),
        private_key=read_file(args.tls_key) if args.tls_key else None,
        certificate_chain=read_file(args.tls_cert) if args.tls_cert else None)
    options = []
    if args.server_host_override:
        options.append(("grpc.ssl_target_name_override", args.server_host_override))
    return credentials, options


def server_credentials(args):
    """The server's grpc.ServerCredentials of the server options, None for plaintext."""
    if args.tls_cert is None and args.tls_key is None:
        if args.tls_client_ca or args.require_client_cert:
            sys.exit("grpcio_peer: --tls-client-ca and --require-client-cert need --tls-cert and --tls-key")
        return None
    if args.tls_cert is None or args.tls_key is None:
        sys.exit("grpcio_peer: --tls-cert and --tls-key go together")
    if bool(args.tls_client_ca) != args.require_client_cert:
        sys.exit("grpcio_peer: --tls-client-ca and --require-client-cert go together "
                 "(grpcio does not ask for a client certificate unless it requires one)")
    return grpc.ssl_server_credentials(
        [(read_file(args.tls_key), read_file(args.tls_cert))],
        root_certificates=read_file(args.tls_client_ca) if args.tls_client_ca else None,
        require_client_auth=args.require_client_cert)


PROBE_METHOD = "/grpc.testing.TestService/EmptyCall"
PROBE_TIMEOUT = 1.0  # seconds


def probe_outcome(error):
    if error is None:
        return "a call succeeded after all"
    if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return "still connecting, no error reported (e.g. TLS done but no HTTP/2 SETTINGS from the server)"
    return describe(error)


def connect_failure_reason(channel):
    """Why the channel could not connect: a call that does not wait for it fails with the last error."""
    try:
        channel.unary_unary(PROBE_METHOD)(b"", timeout=PROBE_TIMEOUT)
    except grpc.RpcError as e:
        return probe_outcome(e)
    return probe_outcome(None)


async def aio_connect_failure_reason(channel):
    try:
        await channel.unary_unary(PROBE_METHOD)(b"", timeout=PROBE_TIMEOUT)
    except grpc.RpcError as e:
        return probe_outcome(e)
    return probe_outcome(None)


# ---------------------------------------------------------------------------------------------
# Client


class CaseFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CaseFailed(message)


def describe(error):
    return f"{error.code().name} {error.details()!r}"


class Client:
    def __init__(self, channel, empty_pb2, messages_pb2, test_pb2_grpc, large_size):
        self.channel = channel
        self.empty = empty_pb2
        self.m = messages_pb2
        self.stub = test_pb2_grpc.TestServiceStub(channel)
        self.unimplemented_stub = test_pb2_grpc.UnimplementedServiceStub(channel)
        self.large_size = large_size

    # helpers

    def payload(self, size):
        return self.m.Payload(type=self.m.COMPRESSABLE, body=bytes(size))

    def expect_payload(self, payload, size, what="response"):
        body = payload.body
        expect(len(body) == size, f"{what} payload is {len(body)} bytes, want {size}")
        expect(body == bytes(size), f"{what} payload is not all zeros")

    def streaming_request(self, sizes, body_size=0, **kwargs):
        request = self.m.StreamingOutputCallRequest(response_type=self.m.COMPRESSABLE, **kwargs)
        for size in sizes:
            request.response_parameters.add(size=size)
        if body_size:
            request.payload.CopyFrom(self.payload(body_size))
        return request

    def expect_status(self, call_error, code, message=None):
        expect(call_error is not None, f"call succeeded, want {code.name}")
        expect(call_error.code() == code, f"status {describe(call_error)}, want {code.name}")
        if message is not None:
            expect(call_error.details() == message, f"status message {call_error.details()!r}, want {message!r}")

    # cases, named as in gRPC's interop-test-descriptions

    def empty_unary(self):
        response = self.stub.EmptyCall(self.empty.Empty(), timeout=CALL_TIMEOUT)
        expect(isinstance(response, self.empty.Empty), f"response is {type(response).__name__}")
        expect(response.ByteSize() == 0, "response is not empty")

    def large_unary(self):
        size = self.large_size
        request = self.m.SimpleRequest(response_type=self.m.COMPRESSABLE, response_size=size, payload=self.payload(size))
        response = self.stub.UnaryCall(request, timeout=CALL_TIMEOUT)
        self.expect_payload(response.payload, size)

    def client_streaming(self):
        sizes = [27182, 8, 1828, 45904]
        requests = (self.m.StreamingInputCallRequest(payload=self.payload(size)) for size in sizes)
        response = self.stub.StreamingInputCall(requests, timeout=CALL_TIMEOUT)
        expect(response.aggregated_payload_size == 74922,
               f"aggregated_payload_size {response.aggregated_payload_size}, want 74922")

    def server_streaming(self):
        sizes = [31415, 9, 2653, 58979]
        responses = list(self.stub.StreamingOutputCall(self.streaming_request(sizes), timeout=CALL_TIMEOUT))
        got = [len(r.payload.body) for r in responses]
        expect(got == sizes, f"response sizes {got}, want {sizes}")
        for response, size in zip(responses, sizes):
            self.expect_payload(response.payload, size)

    def ping_pong(self):
        rounds = [(31415, 27182), (9, 8), (2653, 1828), (58979, 45904)]
        outbox = queue.Queue()
        done = object()

        def requests():
            while True:
                item = outbox.get()
                if item is done:
                    return
                yield item

        call = self.stub.FullDuplexCall(requests(), timeout=CALL_TIMEOUT)
        try:
            for index, (response_size, request_size) in enumerate(rounds):
                outbox.put(self.streaming_request([response_size], body_size=request_size))
                response = next(call, None)
                expect(response is not None, f"stream ended after {index} responses, want 4")
                self.expect_payload(response.payload, response_size, f"response {index}")
            outbox.put(done)
            extra = list(call)
            expect(not extra, f"{len(extra)} responses after the 4th")
            expect(call.code() == grpc.StatusCode.OK, f"status {call.code().name}")
        finally:
            outbox.put(done)

    def empty_stream(self):
        responses = list(self.stub.FullDuplexCall(iter(()), timeout=CALL_TIMEOUT))
        expect(not responses, f"{len(responses)} responses, want none")

    def status_code_and_message(self):
        message = "test status message"
        status = self.m.EchoStatus(code=2, message=message)
        try:
            self.stub.UnaryCall(self.m.SimpleRequest(response_status=status), timeout=CALL_TIMEOUT)
            error = None
        except grpc.RpcError as e:
            error = e
        try:
            self.expect_status(error, grpc.StatusCode.UNKNOWN, message)
        except CaseFailed as e:
            raise CaseFailed(f"UnaryCall: {e}")
        try:
            list(self.stub.FullDuplexCall(iter([self.m.StreamingOutputCallRequest(response_status=status)]),
                                          timeout=CALL_TIMEOUT))
            error = None
        except grpc.RpcError as e:
            error = e
        try:
            self.expect_status(error, grpc.StatusCode.UNKNOWN, message)
        except CaseFailed as e:
            raise CaseFailed(f"FullDuplexCall: {e}")

    def special_status_message(self):
        status = self.m.EchoStatus(code=2, message=SPECIAL_STATUS_MESSAGE)
        try:
            self.stub.UnaryCall(self.m.SimpleRequest(response_status=status), timeout=CALL_TIMEOUT)
            error = None
        except grpc.RpcError as e:
            error = e
        self.expect_status(error, grpc.StatusCode.UNKNOWN, SPECIAL_STATUS_MESSAGE)

    def custom_metadata(self):
        metadata = ((ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE), (ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE))

        def check(where, initial, trailing):
            initial = [(k, v) for k, v in (initial or ()) if k == ECHO_INITIAL_KEY]
            trailing = [(k, v) for k, v in (trailing or ()) if k == ECHO_TRAILING_KEY]
            expect(initial == [(ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE)],
                   f"{where}: initial metadata {ECHO_INITIAL_KEY} is {initial}, want {ECHO_INITIAL_VALUE!r}")
            expect(trailing == [(ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE)],
                   f"{where}: trailing metadata {ECHO_TRAILING_KEY} is {trailing}, want {ECHO_TRAILING_VALUE!r}")

        request = self.m.SimpleRequest(response_type=self.m.COMPRESSABLE, response_size=314159, payload=self.payload(271828))
        response, call = self.stub.UnaryCall.with_call(request, metadata=metadata, timeout=CALL_TIMEOUT)
        self.expect_payload(response.payload, 314159)
        check("UnaryCall", call.initial_metadata(), call.trailing_metadata())

        call = self.stub.FullDuplexCall(iter([self.streaming_request([314159], body_size=271828)]),
                                        metadata=metadata, timeout=CALL_TIMEOUT)
        responses = list(call)
        expect(len(responses) == 1, f"FullDuplexCall: {len(responses)} responses, want 1")
        self.expect_payload(responses[0].payload, 314159)
        check("FullDuplexCall", call.initial_metadata(), call.trailing_metadata())

    def unimplemented_method(self):
        method = self.channel.unary_unary("/grpc.testing.TestService/UnimplementedCall",
                                          request_serializer=self.empty.Empty.SerializeToString,
                                          response_deserializer=self.empty.Empty.FromString)
        try:
            method(self.empty.Empty(), timeout=CALL_TIMEOUT)
            error = None
        except grpc.RpcError as e:
            error = e
        self.expect_status(error, grpc.StatusCode.UNIMPLEMENTED)

    def unimplemented_service(self):
        try:
            self.unimplemented_stub.UnimplementedCall(self.empty.Empty(), timeout=CALL_TIMEOUT)
            error = None
        except grpc.RpcError as e:
            error = e
        self.expect_status(error, grpc.StatusCode.UNIMPLEMENTED)

    def timeout_on_sleeping_server(self):
        outbox = queue.Queue()
        outbox.put(self.streaming_request([], body_size=27182))

        def requests():
            while True:
                item = outbox.get()
                if item is None:
                    return
                yield item

        try:
            call = self.stub.FullDuplexCall(requests(), timeout=0.001)
            try:
                list(call)
                error = None
            except grpc.RpcError as e:
                error = e
            self.expect_status(error, grpc.StatusCode.DEADLINE_EXCEEDED)
        finally:
            outbox.put(None)

    def cancel_after_begin(self):
        release = threading.Event()

        def requests():  # sends nothing until the call is over
            release.wait(CALL_TIMEOUT)
            return
            yield

        future = self.stub.StreamingInputCall.future(requests(), timeout=CALL_TIMEOUT)
        try:
            if not future.cancel():
                error = future.exception(timeout=CALL_TIMEOUT)
                raise CaseFailed("the call ended before it could be cancelled, with "
                                 + (describe(error) if error is not None else "OK"))
            expect(future.code() == grpc.StatusCode.CANCELLED, f"status {future.code().name}, want CANCELLED")
        finally:
            release.set()

    def cancel_after_first_response(self):
        outbox = queue.Queue()
        outbox.put(self.streaming_request([31415], body_size=27182))

        def requests():
            while True:
                item = outbox.get()
                if item is None:
                    return
                yield item

        call = self.stub.FullDuplexCall(requests(), timeout=CALL_TIMEOUT)
        try:
            first = next(call)
            self.expect_payload(first.payload, 31415)
            call.cancel()
            try:
                list(call)
                error = None
            except grpc.RpcError as e:
                error = e
            self.expect_status(error, grpc.StatusCode.CANCELLED)
        finally:
            outbox.put(None)


CLIENT_CASES = (
    "empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong", "empty_stream",
    "status_code_and_message", "special_status_message", "custom_metadata", "unimplemented_method",
    "unimplemented_service", "timeout_on_sleeping_server", "cancel_after_begin", "cancel_after_first_response",
)


def run_client(args):
    cases = CLIENT_CASES if not args.cases else tuple(c.strip() for c in args.cases.split(",") if c.strip())
    unknown = [c for c in cases if c not in CLIENT_CASES]
    if unknown:
        sys.exit(f"grpcio_peer: unknown case(s) {', '.join(unknown)}; known: {', '.join(CLIENT_CASES)}")
    credentials, security_options = channel_security(args)
    stubs = load_stubs(args.protos)
    target = f"{args.host}:{args.port}"
    options = CHANNEL_OPTIONS + security_options
    compression = compression_of(args.compression)
    if credentials is None:
        channel = grpc.insecure_channel(target, options=options, compression=compression)
    else:
        channel = grpc.secure_channel(target, credentials, options=options, compression=compression)
    try:
        grpc.channel_ready_future(channel).result(timeout=args.connect_timeout)
    except grpc.FutureTimeoutError:
        print(f"FAIL connect: no connection to {target} within {args.connect_timeout} s: "
              f"{connect_failure_reason(channel)}", flush=True)
        channel.close()
        return 2
    client = Client(channel, *stubs, large_size=args.large_size)
    failed = 0
    for name in cases:
        started = time.monotonic()
        try:
            getattr(client, name)()
        except CaseFailed as e:
            failed += 1
            print(f"FAIL {name}: {e}", flush=True)
            continue
        except grpc.RpcError as e:
            failed += 1
            print(f"FAIL {name}: call failed with {describe(e)}", flush=True)
            continue
        except Exception as e:  # a bug in this peer or an unexpected grpcio behaviour
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            continue
        print(f"PASS {name} ({(time.monotonic() - started) * 1000:.0f} ms)", flush=True)
    channel.close()
    print(f"{len(cases) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


# ---------------------------------------------------------------------------------------------
# Aborted calls

ABORT_CODE = 7  # PERMISSION_DENIED
ABORT_MESSAGE = "aborted by the server (proxy test)"


async def abort_calls(args, messages_pb2, test_pb2_grpc):
    m = messages_pb2
    target = f"{args.host}:{args.port}"
    credentials, security_options = channel_security(args)
    options = CHANNEL_OPTIONS + security_options
    if credentials is None:
        channel = grpc.aio.insecure_channel(target, options=options)
    else:
        channel = grpc.aio.secure_channel(target, credentials, options=options)
    async with channel:
        try:
            await asyncio.wait_for(channel.channel_ready(), args.connect_timeout)
        except asyncio.TimeoutError:
            print(f"FAIL connect: no connection to {target} within {args.connect_timeout} s: "
                  f"{await aio_connect_failure_reason(channel)}", flush=True)
            return 2
        stub = test_pb2_grpc.TestServiceStub(channel)
        request = m.StreamingOutputCallRequest(response_type=m.COMPRESSABLE,
                                               response_status=m.EchoStatus(code=ABORT_CODE, message=args.message))
        limit = asyncio.Semaphore(args.concurrency)
        counts = {}
        wrong_messages = []

        async def one():
            async with limit:
                if args.kind == "bidi":
                    call = stub.FullDuplexCall(timeout=CALL_TIMEOUT)
                    try:
                        await call.write(request)
                    except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
                        pass  # the call already ended: its status says how
                    # No done_writing(): the request side stays open until the status arrives.
                else:
                    call = stub.StreamingOutputCall(request, timeout=CALL_TIMEOUT)
                code = await call.code()
                details = await call.details()
                name = code.name
                if code == grpc.StatusCode.PERMISSION_DENIED and details != args.message:
                    name = "PERMISSION_DENIED_WRONG_MESSAGE"
                    wrong_messages.append(details)
                counts[name] = counts.get(name, 0) + 1

        await asyncio.gather(*(one() for _ in range(args.count)))
    for name in sorted(counts):
        print(f"STATUS {name} {counts[name]}", flush=True)
    if wrong_messages:
        print(f"grpcio_peer: a PERMISSION_DENIED message was {wrong_messages[0]!r}, want {args.message!r}", file=sys.stderr)
    return 0


def run_abort(args):
    _, messages_pb2, test_pb2_grpc = load_stubs(args.protos)
    return asyncio.run(abort_calls(args, messages_pb2, test_pb2_grpc))


# ---------------------------------------------------------------------------------------------
# Server

STATUS_BY_CODE = {code.value[0]: code for code in grpc.StatusCode}


def make_servicer(empty_pb2, messages_pb2, test_pb2_grpc):
    m = messages_pb2

    def echo_metadata(context):
        """Echo Metadata: the initial key back in initial metadata, the trailing key in trailers."""
        initial, trailing = [], []
        for key, value in context.invocation_metadata():
            if key == ECHO_INITIAL_KEY:
                initial.append((key, value))
            elif key == ECHO_TRAILING_KEY:
                trailing.append((key, value))
        if initial:
            context.send_initial_metadata(tuple(initial[:1]))
        if trailing:
            context.set_trailing_metadata(tuple(trailing[:1]))

    def fail_with(context, echo_status):
        """Echo Status: ends the call with the requested code and message. True if it did."""
        if echo_status is None or echo_status.code == 0:
            return False
        code = STATUS_BY_CODE.get(echo_status.code, grpc.StatusCode.UNKNOWN)
        context.set_code(code)
        context.set_details(echo_status.message)
        return True

    def new_payload(context, payload_type, size):
        if size < 0:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"negative payload size {size}")
        if payload_type == m.COMPRESSABLE:
            return m.Payload(type=m.COMPRESSABLE, body=bytes(size))
        if payload_type == m.UNCOMPRESSABLE:
            return m.Payload(type=m.UNCOMPRESSABLE, body=os.urandom(size))
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"payload type {payload_type} is not supported")

    def stream_responses(context, request):
        for parameters in request.response_parameters:
            if parameters.interval_us > 0:
                time.sleep(parameters.interval_us / 1e6)
            yield m.StreamingOutputCallResponse(payload=new_payload(context, request.response_type, parameters.size))

    class TestService(test_pb2_grpc.TestServiceServicer):
        def EmptyCall(self, request, context):
            echo_metadata(context)
            return empty_pb2.Empty()

        def UnaryCall(self, request, context):
            echo_metadata(context)
            status = request.response_status
            if request.HasField("response_status") and status.code != 0:
                # abort() sends no message: the status (and the echoed trailers) alone.
                context.abort(STATUS_BY_CODE.get(status.code, grpc.StatusCode.UNKNOWN), status.message)
            return m.SimpleResponse(payload=new_payload(context, request.response_type, request.response_size))

        def StreamingInputCall(self, request_iterator, context):
            echo_metadata(context)
            total = sum(len(request.payload.body) for request in request_iterator)
            return m.StreamingInputCallResponse(aggregated_payload_size=total)

        def StreamingOutputCall(self, request, context):
            echo_metadata(context)
            yield from stream_responses(context, request)
            if request.HasField("response_status"):
                fail_with(context, request.response_status)

        def FullDuplexCall(self, request_iterator, context):
            echo_metadata(context)
            for request in request_iterator:
                if request.HasField("response_status") and fail_with(context, request.response_status):
                    return
                yield from stream_responses(context, request)

        def HalfDuplexCall(self, request_iterator, context):
            echo_metadata(context)
            requests = list(request_iterator)
            for request in requests:
                if request.HasField("response_status") and fail_with(context, request.response_status):
                    return
                yield from stream_responses(context, request)

    return TestService()


def run_server(args):
    credentials = server_credentials(args)
    empty_pb2, messages_pb2, test_pb2_grpc = load_stubs(args.protos)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), options=CHANNEL_OPTIONS,
                         compression=compression_of(args.compression))
    test_pb2_grpc.add_TestServiceServicer_to_server(make_servicer(empty_pb2, messages_pb2, test_pb2_grpc), server)
    address = f"{args.host}:{args.port}"
    try:  # grpcio returns 0 or, in newer versions, raises RuntimeError
        if credentials is None:
            port = server.add_insecure_port(address)
        else:
            port = server.add_secure_port(address, credentials)
    except RuntimeError:
        port = 0
    if port == 0:
        why = " (or --tls-cert/--tls-key are not a certificate and its key)" if credentials is not None else ""
        sys.exit(f"grpcio_peer: could not listen on {address}{why}")
    server.start()
    stopped = threading.Event()

    def stop(signum, frame):
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"listening on {port}", flush=True)
    while not stopped.wait(1.0):
        pass
    server.stop(grace=1.0).wait()
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    for mode in ("client", "server", "abort"):
        p = sub.add_parser(mode)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--host", default="127.0.0.1")
        if mode != "abort":
            p.add_argument("--compression", choices=("none", "gzip", "deflate"))
        p.add_argument("--protos", default=default_protos_dir(), help="root of the .proto files (-I)")
        if mode == "client":
            p.add_argument("--cases", help=f"comma-separated subset of: {', '.join(CLIENT_CASES)}")
            p.add_argument("--large-size", type=int, default=4 * 1024 * 1024, help="large_unary payload bytes")
            p.add_argument("--connect-timeout", type=float, default=10.0)
        if mode == "abort":
            p.add_argument("--kind", choices=("bidi", "server-streaming"), required=True)
            p.add_argument("--count", type=int, default=1000)
            p.add_argument("--concurrency", type=int, default=20)
            p.add_argument("--message", default=ABORT_MESSAGE, help="the status message the server is asked for")
            p.add_argument("--connect-timeout", type=float, default=10.0)
        if mode == "server":
            p.add_argument("--tls-cert", metavar="FILE", help="serve TLS: certificate chain, leaf first")
            p.add_argument("--tls-key", metavar="FILE", help="serve TLS: the certificate's private key")
            p.add_argument("--tls-client-ca", metavar="FILE", help="mTLS: CAs that sign client certificates")
            p.add_argument("--require-client-cert", action="store_true", help="mTLS: require a client certificate")
        else:
            p.add_argument("--tls-ca", metavar="FILE", help="use TLS, trusting the CA certificates in FILE")
            p.add_argument("--tls-cert", metavar="FILE", help="mTLS: client certificate chain")
            p.add_argument("--tls-key", metavar="FILE", help="mTLS: the client certificate's private key")
            p.add_argument("--server-host-override", metavar="NAME",
                           help="name to check the server certificate against and send as SNI")
    args = parser.parse_args()
    return {"client": run_client, "server": run_server, "abort": run_abort}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
