#!/usr/bin/env python3
"""A gRPC-Web client for the GatewayDemo's interop tests (issue #10): loop.demo.v1.Greetings
over HTTP/1.1 (http.client, one keep-alive connection for all calls) or HTTP/2 (h2, cleartext
with prior knowledge, one connection), binary (application/grpc-web+proto) or text
(application/grpc-web-text, base64) as gRPC's doc/PROTOCOL-WEB.md defines them. Python's
standard library and the h2 package only: the few protobuf messages are encoded by hand.

  grpcweb_client.py --port P [--host 127.0.0.1] [--transport http1|http2] [--mode binary|text]
                    [--call unary|stream|preflight] [options]

  --call unary       SayHello(HelloRequest{name, language, tags, options}) (the default)
                       --name NAME (default "world"), --language N|NAME, --tag T (repeatable),
                       --shout, --options-repeat N
  --call stream      StreamHellos(StreamHellosRequest{name, count, interval_ms})
                       --name NAME, --count N (default 3), --interval-ms MS (default 0)
  --call preflight   a CORS preflight: OPTIONS /loop.demo.v1.Greetings/SayHello with Origin,
                     Access-Control-Request-Method: POST and Access-Control-Request-Headers
                       --origin ORIGIN (default http://example.com),
                       --request-headers LIST (default "content-type,x-grpc-web,x-user-agent")

  --repeat N               make the call N times on the same connection (default 1)
  --origin ORIGIN          also sent with unary and stream calls (for the CORS response fields)
  --metadata KEY=VALUE     a request header (repeatable)
  --grpc-timeout VALUE     a grpc-timeout header, e.g. 5S
  --request-chunk-size N   send the request body in pieces of N bytes: HTTP/1.1 chunked
                           transfer coding, or HTTP/2 DATA frames of N bytes (default: one piece)
  --text-split-frame       text mode: base64-encode the frame's 5-byte prefix and its message
                           separately, each padded (PROTOCOL-WEB.md lets segments be concatenated)
  --timeout SECONDS        socket timeout (default 10)

Prints ONE JSON object on standard output and exits 0 when no call found an error, 1 otherwise
(2 for a usage error):

  {"transport": "http1", "mode": "text", "call": "unary", "connections": 1,
   "http_status": 200,                               # the first call's result, flat:
   "headers": {"content-type": "application/grpc-web-text", ...},  # lower-case names; repeats
                                                     # joined with ", "
   "messages": [{"message": "Hello, world!", "sequence": 0, "tags": [], "language": 0}],
   "trailers": {"grpc-status": "0"},                 # the trailer frame's fields, or null
   "grpc_status": 0, "grpc_message": "",             # from the trailer frame, or from the head
                                                     # of a trailers-only response; else null
   "trailers_only": false,                           # the status came in the response head
   "http2_trailers": null,                           # HTTP/2 only: trailers sent as HEADERS
   "body_bytes": 56,                                 # body length as received
   "errors": [],                                     # what was wrong with the response
   "calls": [...]}                                   # with --repeat N > 1: every call's result

For a preflight the result has http_status, headers, body_bytes and errors only.

Errors found: a connection or HTTP failure, an HTTP status other than 200, a content type
that does not match the mode, text that is not base64 in 4-character groups (padding allowed
at the end of any group), a frame cut short, a compressed frame or an unknown flag, a
message that is not a valid HelloReply, a missing trailer frame (unless the response was
trailers-only), bytes after the trailer frame, a trailer block that is not
"name: value\\r\\n" lines (lower-case names, each line ending CR LF), trailers without
grpc-status, and HTTP/2 trailers.
"""

import argparse
import base64
import binascii
import http.client
import json
import socket
import sys
import urllib.parse

SERVICE = "loop.demo.v1.Greetings"
LANGUAGES = {"LANGUAGE_UNSPECIFIED": 0, "ENGLISH": 1, "FRENCH": 2, "GERMAN": 3}
USER_AGENT = "grpcweb_client.py/1 (loop interop)"


# MARK: - Protobuf, by hand (proto3 wire format: varints, length-delimited fields)

def encode_varint(value):
    value &= (1 << 64) - 1  # negative int64 values take ten bytes (two's complement)
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number, value):
    return encode_varint(number << 3 | 0) + encode_varint(value) if value else b""


def field_bytes(number, data, always=False):
    if not data and not always:
        return b""
    return encode_varint(number << 3 | 2) + encode_varint(len(data)) + data


def field_string(number, text):
    return field_bytes(number, text.encode("utf-8"))


def hello_request(name, language=0, tags=(), shout=False, repeat=0):
    options = field_varint(1, 1 if shout else 0) + field_varint(2, repeat)
    return (field_string(1, name) + field_varint(2, language)
            + b"".join(field_bytes(3, tag.encode("utf-8"), always=True) for tag in tags)
            + field_bytes(4, options))


def stream_hellos_request(name, count, interval_ms):
    return field_string(1, name) + field_varint(2, count) + field_varint(3, interval_ms)


def decode_varint(data, index):
    result = 0
    shift = 0
    while True:
        if index >= len(data):
            raise ValueError("varint cut short")
        byte = data[index]
        index += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, index
        shift += 7
        if shift >= 70:
            raise ValueError("varint longer than ten bytes")


def decode_fields(data):
    """(field number, wire type, value) triples; unknown wire types are errors."""
    index = 0
    fields = []
    while index < len(data):
        key, index = decode_varint(data, index)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire_type == 0:
            value, index = decode_varint(data, index)
        elif wire_type == 1:
            value, index = data[index:index + 8], index + 8
        elif wire_type == 2:
            length, index = decode_varint(data, index)
            value, index = data[index:index + length], index + length
        elif wire_type == 5:
            value, index = data[index:index + 4], index + 4
        else:
            raise ValueError(f"unsupported wire type {wire_type}")
        if index > len(data):
            raise ValueError("field cut short")
        fields.append((number, wire_type, value))
    return fields


def signed64(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def hello_reply(data):
    """HelloReply{message = 1, sequence = 2 (int64), tags = 3 (repeated), language = 4}."""
    reply = {"message": "", "sequence": 0, "tags": [], "language": 0}
    for number, wire_type, value in decode_fields(data):
        if number == 1 and wire_type == 2:
            reply["message"] = value.decode("utf-8")
        elif number == 2 and wire_type == 0:
            reply["sequence"] = signed64(value)
        elif number == 3 and wire_type == 2:
            reply["tags"].append(value.decode("utf-8"))
        elif number == 4 and wire_type == 0:
            reply["language"] = value
        elif number in (1, 2, 3, 4):
            raise ValueError(f"field {number} with wire type {wire_type}")
    return reply


# MARK: - gRPC-Web framing

def frame(message, flag=0):
    return bytes([flag]) + len(message).to_bytes(4, "big") + message


def request_body(message, text, split_frame):
    framed = frame(message)
    if not text:
        return framed
    if split_frame:
        return base64.b64encode(framed[:5]) + base64.b64encode(framed[5:])
    return base64.b64encode(framed)


def decode_text(body, errors):
    """Base64 in 4-character groups, each possibly padded (segments concatenated)."""
    if len(body) % 4:
        errors.append(f"text body of {len(body)} characters is not whole 4-character base64 groups")
    out = bytearray()
    for start in range(0, len(body) - len(body) % 4, 4):
        group = body[start:start + 4]
        try:
            out += base64.b64decode(group, validate=True)
        except (binascii.Error, ValueError):
            errors.append(f"bad base64 group {group!r} at offset {start}")
            return bytes(out)
    return bytes(out)


def parse_trailer_block(block, errors):
    fields = {}
    if block and not block.endswith(b"\r\n"):
        errors.append("trailer block does not end with CR LF")
    for line in block.split(b"\r\n"):
        if not line:
            continue
        text = line.decode("latin-1")
        if "\n" in text or "\r" in text:
            errors.append(f"trailer line with a bare CR or LF: {text!r}")
            continue
        name, colon, value = text.partition(":")
        if not colon or not name or name != name.strip():
            errors.append(f"malformed trailer line: {text!r}")
            continue
        if name != name.lower():
            errors.append(f"trailer name not lower-case: {name!r}")
        name = name.lower()
        value = value.strip(" \t")
        fields[name] = fields[name] + ", " + value if name in fields else value
    return fields


def parse_body(data, result, errors):
    """Message frames then exactly one trailer frame (PROTOCOL-WEB.md "Message framing")."""
    index = 0
    trailers = None
    while index < len(data):
        if trailers is not None:
            errors.append(f"{len(data) - index} bytes after the trailer frame")
            break
        if len(data) - index < 5:
            errors.append(f"frame prefix cut short: {len(data) - index} of 5 bytes")
            break
        flag = data[index]
        length = int.from_bytes(data[index + 1:index + 5], "big")
        payload = data[index + 5:index + 5 + length]
        if len(payload) < length:
            errors.append(f"frame cut short: {len(payload)} of {length} bytes")
            break
        index += 5 + length
        if flag == 0x00:
            try:
                result["messages"].append(hello_reply(payload))
            except (ValueError, UnicodeDecodeError) as error:
                errors.append(f"message {len(result['messages'])} is not a HelloReply: {error}")
        elif flag == 0x80:
            trailers = parse_trailer_block(payload, errors)
        elif flag in (0x01, 0x81):
            errors.append(f"compressed frame (flag 0x{flag:02x}) although none was asked for")
        else:
            errors.append(f"frame with unknown flag 0x{flag:02x}")
    return trailers


def grpc_status_of(fields, errors, where):
    if "grpc-status" not in fields:
        errors.append(f"{where} without grpc-status")
        return None, None
    try:
        status = int(fields["grpc-status"])
    except ValueError:
        errors.append(f"{where}: grpc-status {fields['grpc-status']!r} is not a number")
        status = None
    message = urllib.parse.unquote(fields.get("grpc-message", ""), errors="replace")
    return status, message


def interpret(status, headers, body, text, http2_trailers=None):
    """The result of one call from what the transport received."""
    errors = []
    result = {"http_status": status, "headers": headers, "messages": [], "trailers": None,
              "grpc_status": None, "grpc_message": None, "trailers_only": False,
              "http2_trailers": http2_trailers, "body_bytes": len(body), "errors": errors}
    if status != 200:
        errors.append(f"HTTP status {status}")
    content_type = headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if text and not media_type.startswith("application/grpc-web-text"):
        errors.append(f"content-type {content_type!r} in text mode")
    elif not text and (not media_type.startswith("application/grpc-web")
                       or media_type.startswith("application/grpc-web-text")):
        errors.append(f"content-type {content_type!r} in binary mode")
    if http2_trailers:
        errors.append("HTTP/2 trailers: gRPC-Web puts them in the body")
    data = decode_text(body, errors) if text else body
    trailers = parse_body(data, result, errors)
    if trailers is not None:
        result["trailers"] = trailers
        result["grpc_status"], result["grpc_message"] = grpc_status_of(trailers, errors, "trailer frame")
    elif "grpc-status" in headers and not data:
        # Trailers-only (PROTOCOL-WEB.md: "Trailers may be sent together with response headers").
        result["trailers_only"] = True
        result["grpc_status"], result["grpc_message"] = grpc_status_of(headers, errors, "response head")
    elif status == 200:
        errors.append("trailer frame missing")
    return result


def join_headers(pairs):
    headers = {}
    for name, value in pairs:
        name = name.lower()
        headers[name] = headers[name] + ", " + value if name in headers else value
    return headers


# MARK: - Transports

class CountingConnection(http.client.HTTPConnection):
    opened = 0

    def connect(self):
        super().connect()
        CountingConnection.opened += 1


class HTTP1Transport:
    def __init__(self, host, port, timeout):
        self.connection = CountingConnection(host, port, timeout=timeout)

    @property
    def connections(self):
        return CountingConnection.opened

    def request(self, method, path, headers, body, chunk_size):
        if body and chunk_size:
            pieces = [body[i:i + chunk_size] for i in range(0, len(body), chunk_size)]
            self.connection.request(method, path, body=iter(pieces), headers=headers, encode_chunked=True)
        else:
            self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        return response.status, join_headers(response.getheaders()), data, None

    def close(self):
        self.connection.close()


class HTTP2Transport:
    def __init__(self, host, port, timeout):
        import h2.config
        import h2.connection
        self.authority = f"{host}:{port}"
        self.socket = socket.create_connection((host, port), timeout=timeout)
        self.connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.connection.initiate_connection()
        self.flush()
        self.connections = 1

    def flush(self):
        data = self.connection.data_to_send()
        if data:
            self.socket.sendall(data)

    def request(self, method, path, headers, body, chunk_size):
        import h2.events
        stream = self.connection.get_next_available_stream_id()
        fields = [(":method", method), (":scheme", "http"), (":authority", self.authority), (":path", path)]
        fields += [(name.lower(), value) for name, value in headers.items()]
        self.connection.send_headers(stream, fields, end_stream=not body)
        size = min(chunk_size or len(body) or 1, self.connection.max_outbound_frame_size)
        pending = [body[i:i + size] for i in range(0, len(body), size)]
        status, head, data, trailers = None, {}, bytearray(), None
        ended = False
        while True:
            if ended:
                self.flush()
                return status, head, bytes(data), trailers
            # Send what the windows allow; the rest waits for WINDOW_UPDATE.
            while pending and self.connection.local_flow_control_window(stream) >= len(pending[0]):
                piece = pending.pop(0)
                self.connection.send_data(stream, piece, end_stream=not pending)
            self.flush()
            received = self.socket.recv(65536)
            if not received:
                raise ConnectionError("the server closed the connection before the response ended")
            for event in self.connection.receive_data(received):
                if getattr(event, "stream_id", stream) != stream:
                    continue
                if isinstance(event, h2.events.ResponseReceived):
                    head = join_headers(event.headers)
                    status = int(head.pop(":status"))
                elif isinstance(event, h2.events.InformationalResponseReceived):
                    pass
                elif isinstance(event, h2.events.DataReceived):
                    data += event.data
                    self.connection.acknowledge_received_data(event.flow_controlled_length, stream)
                elif isinstance(event, h2.events.TrailersReceived):
                    trailers = join_headers(event.headers)
                elif isinstance(event, h2.events.StreamEnded):
                    ended = True
                elif isinstance(event, h2.events.StreamReset):
                    raise ConnectionError(f"the server reset the stream with error code {event.error_code}")
                elif isinstance(event, h2.events.ConnectionTerminated):
                    if not ended:
                        raise ConnectionError(f"GOAWAY with error code {event.error_code} before the response ended")

    def close(self):
        try:
            self.connection.close_connection()
            self.flush()
        except Exception:
            pass
        self.socket.close()


# MARK: - Calls

def call_request(args):
    """(method, path, headers, body) of the call the arguments describe."""
    text = args.mode == "text"
    if args.call == "preflight":
        headers = {"origin": args.origin or "http://example.com", "access-control-request-method": "POST",
                   "access-control-request-headers": args.request_headers}
        return "OPTIONS", f"/{SERVICE}/SayHello", headers, b""
    if args.call == "unary":
        language = int(args.language) if args.language.isdigit() else LANGUAGES[args.language.upper()]
        message = hello_request(args.name, language, args.tag, args.shout, args.options_repeat)
        method = "SayHello"
    else:
        message = stream_hellos_request(args.name, args.count, args.interval_ms)
        method = "StreamHellos"
    headers = {"content-type": "application/grpc-web-text" if text else "application/grpc-web+proto",
               "x-grpc-web": "1", "x-user-agent": USER_AGENT}
    if text:
        headers["accept"] = "application/grpc-web-text"
    if args.origin:
        headers["origin"] = args.origin
    if args.grpc_timeout:
        headers["grpc-timeout"] = args.grpc_timeout
    for item in args.metadata:
        name, _, value = item.partition("=")
        headers[name.lower()] = value
    return "POST", f"/{SERVICE}/{method}", headers, request_body(message, text, args.text_split_frame)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--transport", choices=["http1", "http2"], default="http1")
    parser.add_argument("--mode", choices=["binary", "text"], default="binary")
    parser.add_argument("--call", choices=["unary", "stream", "preflight"], default="unary")
    parser.add_argument("--name", default="world")
    parser.add_argument("--language", default="0")
    parser.add_argument("--tag", action="append", default=[])
    parser.add_argument("--shout", action="store_true")
    parser.add_argument("--options-repeat", type=int, default=0)
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--interval-ms", type=int, default=0)
    parser.add_argument("--origin")
    parser.add_argument("--request-headers", default="content-type,x-grpc-web,x-user-agent")
    parser.add_argument("--metadata", action="append", default=[])
    parser.add_argument("--grpc-timeout")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--request-chunk-size", type=int, default=0)
    parser.add_argument("--text-split-frame", action="store_true")
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()
    if args.language.upper() not in LANGUAGES and not args.language.isdigit():
        parser.error(f"unknown language {args.language!r}")

    method, path, headers, body = call_request(args)
    output = {"transport": args.transport, "mode": args.mode, "call": args.call, "connections": 0}
    results = []
    transport = None
    try:
        transport = (HTTP1Transport if args.transport == "http1" else HTTP2Transport)(args.host, args.port, args.timeout)
        for _ in range(args.repeat):
            status, head, data, http2_trailers = transport.request(method, path, headers, body, args.request_chunk_size)
            if args.call == "preflight":
                results.append({"http_status": status, "headers": head, "body_bytes": len(data), "errors": []})
            else:
                results.append(interpret(status, head, data, args.mode == "text", http2_trailers))
    except (OSError, http.client.HTTPException, ConnectionError, ValueError) as error:
        results.append({"http_status": None, "headers": {}, "errors": [f"{type(error).__name__}: {error}"]})
    except Exception as error:  # h2's protocol errors among others: still one JSON object
        results.append({"http_status": None, "headers": {}, "errors": [f"{type(error).__name__}: {error}"]})
    finally:
        if transport is not None:
            output["connections"] = transport.connections
            transport.close()
    output.update(results[0])
    if args.repeat > 1:
        output["calls"] = results
    print(json.dumps(output, sort_keys=False))
    return 1 if any(result["errors"] for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
