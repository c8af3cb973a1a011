"""The gRPC workloads' messages (grpc.testing, encoded by hand: no protobuf package needed)."""
from __future__ import annotations

UNARY_PATH = "/grpc.testing.TestService/UnaryCall"
STREAM_PATH = "/grpc.testing.TestService/StreamingOutputCall"
STREAM_MESSAGES = 100


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number: int, wire_type: int, value: bytes | int) -> bytes:
    key = varint(number << 3 | wire_type)
    if wire_type == 0:
        return key + varint(value)
    return key + varint(len(value)) + value


def payload(size: int) -> bytes:
    """grpc.testing.Payload {type: COMPRESSABLE (0, not encoded), body: size zero bytes}."""
    return field(2, 2, bytes(size)) if size else b""


def simple_request(response_size: int, payload_size: int) -> bytes:
    """grpc.testing.SimpleRequest {response_size, payload}."""
    return field(2, 0, response_size) + field(3, 2, payload(payload_size))


def simple_response(size: int) -> bytes:
    return field(1, 2, payload(size)) if size else b""


def streaming_request(count: int, size: int) -> bytes:
    """grpc.testing.StreamingOutputCallRequest {response_parameters: count x {size}}."""
    return b"".join(field(2, 2, field(1, 0, size)) for _ in range(count))


def frame(message: bytes) -> bytes:
    """A gRPC length-prefixed message (uncompressed)."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


SMALL_REQUEST = simple_request(7, 5)
SMALL_RESPONSE = simple_response(7)
LARGE_REQUEST = simple_request(4096, 4096)
LARGE_RESPONSE = simple_response(4096)
STREAM_REQUEST = streaming_request(STREAM_MESSAGES, 7)
STREAM_RESPONSE = field(1, 2, payload(7))  # StreamingOutputCallResponse {payload}
assert len(SMALL_REQUEST) == 11 and len(SMALL_RESPONSE) == 11 and len(STREAM_RESPONSE) == 11

# name -> path, request message, expected response messages (one per response), tool
WORKLOADS = {
    "unary-11B": {"label": "unary 11 B", "path": UNARY_PATH, "request": SMALL_REQUEST,
                  "responses": [SMALL_RESPONSE], "tool": "h2load"},
    "unary-4KiB": {"label": "unary 4 KiB", "path": UNARY_PATH, "request": LARGE_REQUEST,
                   "responses": [LARGE_RESPONSE], "tool": "h2load"},
    "stream": {"label": f"streaming {STREAM_MESSAGES} x 11 B", "path": STREAM_PATH, "request": STREAM_REQUEST,
               "responses": [STREAM_RESPONSE] * STREAM_MESSAGES, "tool": "h2load"},
    "client-11B": {"label": "unary 11 B, Loop load client", "path": UNARY_PATH, "request": SMALL_REQUEST,
                   "responses": [SMALL_RESPONSE], "tool": "loadclient"},
}
