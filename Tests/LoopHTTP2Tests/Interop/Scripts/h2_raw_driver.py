#!/usr/bin/env python3
"""Raw HTTP/2 frame driver for the LoopHTTP2 interop tests (RawFrameInteropTests.swift).

    h2_raw_driver.py PORT CASE      run one case against 127.0.0.1:PORT
    h2_raw_driver.py --list         print the case names

Plays a (misbehaving) HTTP/2 client on one TCP connection and prints ONE JSON line with
what the server sent back, so the Swift test can assert the exact answer:

    {"case": ..., "frames": [...], "closed": bool, "goaway_debug": ..., ...}

`frames` lists every frame the server sent, summarised, in order, except the connection
housekeeping: the server's first SETTINGS (reported as `server_settings`), SETTINGS ACKs,
WINDOW_UPDATE on stream 0, the ACKs of our own fence PINGs, and the server's own PINGs
(counted in `server_pings`; the driver acknowledges them as any client would). Runs of
identical summaries are collapsed to "SUMMARY xN". Summaries:

    HEADERS(1,:status=200)  HEADERS(1,:status=431,END_STREAM)  DATA(1,13,END_STREAM)
    RST_STREAM(1,PROTOCOL_ERROR)  GOAWAY(0,ENHANCE_YOUR_CALM)  PING(ACK)
    WINDOW_UPDATE(1)  SETTINGS  UNKNOWN(type)

Frames are built from raw bytes (struct); header blocks are hand-encoded HPACK literals
(RFC 7541 §6.2.2, no Huffman, no dynamic table), so every byte sent is explicit. The
server's header blocks are decoded with the PyPI `hpack` package.

A reader thread drains the socket from the moment of connecting, so a GOAWAY that the
server writes just before closing is read even if the server then resets the connection.
Cases that keep the connection open end with a fence: a PING with a unique payload; the
driver waits for its ACK plus a short quiet period, so everything the server answered is
in. Cases that kill the connection wait for EOF (at most 10 s; `closed` stays false when
the server keeps the connection open).
"""

import json
import socket
import struct
import sys
import threading
import time

try:
    import hpack
except ImportError:  # reported as JSON so the Swift test names the missing package
    print(json.dumps({"case": sys.argv[-1], "error": "python module hpack missing: pip install hpack "
                      "(or scripts/install-python-deps.sh hpack)"}))
    sys.exit(0)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20

ERROR_NAMES = {
    0x0: "NO_ERROR", 0x1: "PROTOCOL_ERROR", 0x2: "INTERNAL_ERROR", 0x3: "FLOW_CONTROL_ERROR",
    0x4: "SETTINGS_TIMEOUT", 0x5: "STREAM_CLOSED", 0x6: "FRAME_SIZE_ERROR", 0x7: "REFUSED_STREAM",
    0x8: "CANCEL", 0x9: "COMPRESSION_ERROR", 0xA: "CONNECT_ERROR", 0xB: "ENHANCE_YOUR_CALM",
    0xC: "INADEQUATE_SECURITY", 0xD: "HTTP_1_1_REQUIRED",
}
CANCEL = 0x8

# MARK: building frames


def frame(ftype, flags, stream_id, payload=b"", length=None):
    """One frame, exactly as given (length defaults to the payload's)."""
    n = len(payload) if length is None else length
    return struct.pack(">BHBBL", (n >> 16) & 0xFF, n & 0xFFFF, ftype, flags, stream_id) + payload


def settings(*pairs):
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HL", k, v) for k, v in pairs))


def ping(opaque, ack=False):
    return frame(PING, ACK if ack else 0, 0, opaque)


def rst_stream(stream_id, code):
    return frame(RST_STREAM, 0, stream_id, struct.pack(">L", code))


def window_update(stream_id, increment):
    return frame(WINDOW_UPDATE, 0, stream_id, struct.pack(">L", increment))


def data(stream_id, payload, end_stream=False):
    return frame(DATA, END_STREAM if end_stream else 0, stream_id, payload)


def headers(stream_id, block, end_stream=False, end_headers=True):
    flags = (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0)
    return frame(HEADERS, flags, stream_id, block)


def continuation(stream_id, block, end_headers=False):
    return frame(CONTINUATION, END_HEADERS if end_headers else 0, stream_id, block)


def hpack_int(value, prefix_bits, first_byte_flags=0):
    """RFC 7541 §5.1 integer."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte_flags | value])
    out = [first_byte_flags | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def literal(name, value):
    """Literal header field without indexing, new name, no Huffman (RFC 7541 §6.2.2)."""
    name, value = name.encode(), value.encode()
    return b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def block(fields):
    return b"".join(literal(n, v) for n, v in fields)


def request(method="GET", path="/hello", extra=()):
    return block([(":method", method), (":scheme", "http"), (":path", path),
                  (":authority", "127.0.0.1")] + list(extra))


# MARK: the connection


class Connection:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.started = time.monotonic()
        self.lock = threading.Condition()
        self.buffer = bytearray()
        self.eof = False
        self.read_error = None
        self.last_byte_at = None
        self.first_byte_ms = None
        self.send_error = None
        self.send_lock = threading.Lock()
        self.frames = []          # (type, flags, stream_id, payload) in arrival order
        self.parsed_up_to = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.next_fence = 0

    def _read(self):
        while True:
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            except OSError as error:  # ECONNRESET after the server closed with unread input
                with self.lock:
                    self.read_error = f"{type(error).__name__}: {error}"
                    self.eof = True
                    self.lock.notify_all()
                return
            with self.lock:
                if not chunk:
                    self.eof = True
                    self.lock.notify_all()
                    return
                if self.first_byte_ms is None:
                    self.first_byte_ms = (time.monotonic() - self.started) * 1000
                self.buffer += chunk
                self.last_byte_at = time.monotonic()
                self._parse()
                self.lock.notify_all()

    def _parse(self):
        while len(self.buffer) - self.parsed_up_to >= 9:
            at = self.parsed_up_to
            length = int.from_bytes(self.buffer[at:at + 3], "big")
            if len(self.buffer) - at < 9 + length:
                return
            ftype, flags = self.buffer[at + 3], self.buffer[at + 4]
            stream_id = int.from_bytes(self.buffer[at + 5:at + 9], "big") & 0x7FFFFFFF
            payload = bytes(self.buffer[at + 9:at + 9 + length])
            self.frames.append((ftype, flags, stream_id, payload))
            self.parsed_up_to = at + 9 + length
            if ftype == PING and not flags & ACK and stream_id == 0 and length == 8:
                # Like any client: acknowledge the server's PINGs (RFC 9113 §6.7), e.g. the
                # bandwidth probes it sends while receiving DATA.
                threading.Thread(target=self.send, args=(ping(payload, ack=True),), daemon=True).start()

    def send(self, payload):
        """Sends everything, or notes why it could not (the server may already have closed)."""
        with self.send_lock:
            if self.send_error:
                return
            try:
                self.sock.sendall(payload)
            except OSError as error:
                self.send_error = f"{type(error).__name__}: {error}"

    def handshake(self, *setting_pairs):
        self.send(PREFACE + settings(*setting_pairs))

    def wait(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self.lock:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(left)
            return True

    def fence(self, timeout=10.0, quiet=0.3):
        """PING with a unique payload; waits for its ACK (or EOF), then for `quiet` seconds
        without new bytes. True if the ACK came."""
        self.next_fence += 1
        opaque = b"fence" + struct.pack(">BH", 0, self.next_fence)
        self.send(ping(opaque))

        def acked():
            return any(f[0] == PING and f[1] & ACK and f[3] == opaque for f in self.frames)

        ok = self.wait(lambda: acked() or self.eof, timeout) and acked()
        while True:
            with self.lock:
                idle = time.monotonic() - (self.last_byte_at or 0)
                if self.eof or idle >= quiet:
                    break
            time.sleep(quiet - idle if idle < quiet else 0.01)
        return ok

    def wait_for_close(self, timeout=10.0):
        return self.wait(lambda: self.eof, timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def summarise(connection):
    """The frames as strings (housekeeping left out), run-length collapsed, plus extras."""
    decoder = hpack.Decoder()
    decoder.max_header_list_size = 1 << 24
    pending = None  # (stream_id, flags, block) of a header block awaiting CONTINUATION
    summaries = []
    extras = {"server_settings": False, "settings_acks": 0, "connection_window_updates": 0, "server_pings": 0,
              "goaway_debug": None, "first_frame": None}
    with connection.lock:
        frames = list(connection.frames)
    for index, (ftype, flags, stream_id, payload) in enumerate(frames):
        if index == 0:
            extras["first_frame"] = "SETTINGS" if ftype == SETTINGS and not flags & ACK else f"type {ftype}"
        if ftype == SETTINGS:
            if flags & ACK:
                extras["settings_acks"] += 1
            elif index == 0:
                extras["server_settings"] = True
                extras["server_settings_values"] = {
                    str(struct.unpack(">H", payload[i:i + 2])[0]): struct.unpack(">L", payload[i + 2:i + 6])[0]
                    for i in range(0, len(payload) - 5, 6)}
            else:
                summaries.append("SETTINGS")
        elif ftype == WINDOW_UPDATE and stream_id == 0:
            extras["connection_window_updates"] += 1
        elif ftype == WINDOW_UPDATE:
            summaries.append(f"WINDOW_UPDATE({stream_id})")
        elif ftype == PING:
            if flags & ACK and payload.startswith(b"fence"):
                continue
            if not flags & ACK:
                extras["server_pings"] += 1  # acknowledged by the reader, like any client
                continue
            summaries.append("PING(ACK)")
        elif ftype == GOAWAY:
            last = int.from_bytes(payload[0:4], "big") & 0x7FFFFFFF
            code = int.from_bytes(payload[4:8], "big")
            extras["goaway_debug"] = payload[8:].decode("utf-8", "replace")
            summaries.append(f"GOAWAY({last},{ERROR_NAMES.get(code, hex(code))})")
        elif ftype == RST_STREAM:
            code = int.from_bytes(payload[0:4], "big")
            summaries.append(f"RST_STREAM({stream_id},{ERROR_NAMES.get(code, hex(code))})")
        elif ftype == DATA:
            body = payload
            if flags & PADDED:
                body = payload[1:len(payload) - payload[0]]
            summaries.append(f"DATA({stream_id},{len(body)}{',END_STREAM' if flags & END_STREAM else ''})")
        elif ftype in (HEADERS, CONTINUATION):
            if ftype == HEADERS:
                fragment = payload
                if flags & PADDED:
                    fragment = fragment[1:len(fragment) - fragment[0]]
                if flags & PRIORITY_FLAG:
                    fragment = fragment[5:]
                pending = (stream_id, flags, fragment)
            elif pending is not None:
                pending = (pending[0], pending[1], pending[2] + payload)
                flags = flags | (pending[1] & END_STREAM)
            else:
                summaries.append(f"CONTINUATION({stream_id}) without HEADERS")
                continue
            if flags & END_HEADERS:
                sid, first_flags, fragment = pending
                pending = None
                try:
                    fields = decoder.decode(fragment)
                    status = next((v for n, v in fields if n == ":status"), None)
                    what = f":status={status}" if status is not None else "no :status"
                except Exception as error:  # noqa: BLE001 - reported, not raised
                    what = f"undecodable {type(error).__name__}"
                end = ",END_STREAM" if first_flags & END_STREAM else ""
                summaries.append(f"HEADERS({sid},{what}{end})")
        else:
            summaries.append(f"UNKNOWN({ftype})")
    collapsed = []
    for summary in summaries:
        if collapsed and collapsed[-1][0] == summary:
            collapsed[-1][1] += 1
        else:
            collapsed.append([summary, 1])
    extras["frames"] = [s if n == 1 else f"{s} x{n}" for s, n in collapsed]
    extras["frame_count"] = len(summaries)
    return extras


# MARK: the cases

CASES = {}


def case(function):
    CASES[function.__name__] = function
    return function


@case
def settings_first(c):
    """Connect and send nothing: the server's SETTINGS must arrive anyway (the handshake rule, docs/architecture.md)."""
    c.wait(lambda: c.frames or c.eof, 3.0)


@case
def invalid_preface(c):
    """An HTTP/1.1 request on the h2c port: GOAWAY PROTOCOL_ERROR (RFC 9113 §3.4)."""
    c.send(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    c.wait_for_close()


@case
def data_on_stream_0(c):
    """DATA on stream 0: connection error PROTOCOL_ERROR (RFC 9113 §6.1)."""
    c.handshake()
    c.send(data(0, b"hello"))
    c.wait_for_close()


@case
def headers_on_even_stream(c):
    """A client opens stream 2 (server-initiated ids are even): PROTOCOL_ERROR (§5.1.1)."""
    c.handshake()
    c.send(headers(2, request(), end_stream=True))
    c.wait_for_close()


@case
def frame_too_large(c):
    """HEADERS of 16385 bytes > SETTINGS_MAX_FRAME_SIZE 16384: FRAME_SIZE_ERROR (§4.2)."""
    c.handshake()
    c.send(headers(1, b"\x00" * 16385, end_stream=True))
    c.wait_for_close()


@case
def bad_initial_window_size(c):
    """SETTINGS_INITIAL_WINDOW_SIZE 2^31 > 2^31-1: FLOW_CONTROL_ERROR (§6.5.2)."""
    c.handshake()
    c.send(settings((0x4, 1 << 31)))
    c.wait_for_close()


@case
def window_update_zero_on_stream(c):
    """WINDOW_UPDATE increment 0 on an open stream: RST_STREAM PROTOCOL_ERROR (§6.9)."""
    c.handshake()
    c.send(headers(1, request("POST", "/echo")))  # stays open: the body never ends
    c.send(window_update(1, 0))
    c.fence()


@case
def priority_wrong_length(c):
    """PRIORITY of 4 bytes on an open stream: stream error FRAME_SIZE_ERROR (RFC 9113 §6.3),
    so RST_STREAM, and the connection lives on."""
    c.handshake()
    c.send(headers(1, request("POST", "/echo")))  # stays open: the body never ends
    c.send(frame(PRIORITY, 0, 1, b"\x00\x00\x00\x00"))
    c.fence()


@case
def continuation_flood(c):
    """HEADERS without END_HEADERS, then endless CONTINUATION: ENHANCE_YOUR_CALM."""
    c.handshake()
    c.send(headers(1, request(), end_stream=True, end_headers=False))
    c.send(b"".join(continuation(1, literal("x-flood", "a" * 8)) for _ in range(1000)))
    c.wait_for_close()


@case
def rapid_reset(c):
    """HEADERS + RST_STREAM(CANCEL) x 3000 back to back (CVE-2023-44487): ENHANCE_YOUR_CALM."""
    c.handshake()
    burst = b"".join(headers(i, request(), end_stream=True) + rst_stream(i, CANCEL)
                     for i in range(1, 6000, 2))
    c.send(burst)
    c.wait_for_close()


@case
def reset_in_flight(c):
    """One request reset at once (HEADERS + RST_STREAM(CANCEL) in one write), then a
    normal request: nothing may be sent on the reset stream (RFC 9113 §5.1 "closed",
    §5.4.2), and stream 3 is answered normally."""
    c.handshake()
    c.send(headers(1, request(), end_stream=True) + rst_stream(1, CANCEL))
    c.fence()
    c.send(headers(3, request(), end_stream=True))
    c.fence()


@case
def ping_flood(c):
    """PINGs with no request in between: the server acks up to its limit, then GOAWAY."""
    c.handshake()
    c.send(b"".join(ping(struct.pack(">Q", i)) for i in range(5000)))
    c.wait_for_close()


@case
def hpack_index_zero(c):
    """Indexed header field with index 0 (RFC 7541 §6.1): COMPRESSION_ERROR."""
    c.handshake()
    c.send(headers(1, b"\x80", end_stream=True))
    c.wait_for_close()


@case
def hpack_index_out_of_range(c):
    """Index 70 with an empty dynamic table (RFC 7541 §2.3.3): COMPRESSION_ERROR."""
    c.handshake()
    c.send(headers(1, request() + bytes([0x80 | 70]), end_stream=True))
    c.wait_for_close()


@case
def hpack_truncated(c):
    """A literal whose value length runs past the block (RFC 7541 §5.2): COMPRESSION_ERROR."""
    c.handshake()
    c.send(headers(1, request() + b"\x00\x01a\x05ab", end_stream=True))
    c.wait_for_close()


@case
def uppercase_header_name(c):
    """A request with the field name "X-Upper": malformed, RST_STREAM PROTOCOL_ERROR (§8.2.1)."""
    c.handshake()
    c.send(headers(1, request(extra=[("X-Upper", "1")]), end_stream=True))
    c.fence()


@case
def oversized_header_list(c):
    """A header list of ~20 KB (> SETTINGS_MAX_HEADER_LIST_SIZE 16384) in HEADERS +
    CONTINUATION: 431 on that stream; the connection keeps serving (stream 3)."""
    c.handshake()
    big = request(extra=[(f"x-big-{i}", "v" * 5000) for i in range(4)])
    c.send(headers(1, big[:12000], end_stream=True, end_headers=False) + continuation(1, big[12000:], end_headers=True))
    c.send(headers(3, request(), end_stream=True))
    c.fence()


@case
def oversized_header_field(c):
    """One field of 20000 bytes (longer than SETTINGS_MAX_HEADER_LIST_SIZE 16384 by
    itself): also a too-large header list, so 431 on that stream, not a connection error;
    stream 3 is served."""
    c.handshake()
    big = request(extra=[("x-big", "v" * 20000)])
    c.send(headers(1, big[:12000], end_stream=True, end_headers=False) + continuation(1, big[12000:], end_headers=True))
    c.send(headers(3, request(), end_stream=True))
    c.fence()


@case
def too_many_streams(c):
    """Server started with --max-streams 10: 11 open streams; the 11th (id 21) is refused
    with RST_STREAM REFUSED_STREAM (§5.1.2), and stream 1 still completes afterwards."""
    c.handshake()
    c.send(b"".join(headers(i, request("POST", "/echo")) for i in range(1, 22, 2)))
    c.fence()
    c.send(data(1, b"abc", end_stream=True))
    c.fence()


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--list":
        print("\n".join(CASES))
        return
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        print(f"usage: {sys.argv[0]} PORT CASE   (cases: {', '.join(CASES)})", file=sys.stderr)
        sys.exit(2)
    port, name = int(sys.argv[1]), sys.argv[2]
    result = {"case": name}
    try:
        connection = Connection(port)
    except OSError as error:
        result["error"] = f"connect failed: {error}"
        print(json.dumps(result))
        return
    started = time.monotonic()
    try:
        CASES[name](connection)
    except Exception as error:  # noqa: BLE001 - reported in the JSON
        result["error"] = f"driver failed: {type(error).__name__}: {error}"
    result["seconds"] = round(time.monotonic() - started, 3)
    with connection.lock:
        result["closed"] = connection.eof
        result["read_error"] = connection.read_error
        result["first_byte_ms"] = connection.first_byte_ms
    result["send_error"] = connection.send_error
    connection.close()
    result.update(summarise(connection))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
