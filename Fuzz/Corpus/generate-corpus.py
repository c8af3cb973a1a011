#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target (Fuzz/Corpus/<target>/) from first principles:
frames packed by hand (RFC 9113 §4.1), HPACK blocks copied from RFC 7541 Appendix C, gRPC
messages with their 5-byte prefix (gzip and deflate from zlib). Standard library only.

Each seed starts with the target's control bytes (see each target's doc comment). Rerun it
after changing a target's input layout: `python3 Fuzz/Corpus/generate-corpus.py`.
make fuzz copies these files to a scratch directory; libFuzzer never grows them in place.
"""
import gzip
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def h(text):
    return bytes.fromhex("".join(text.split()))


# RFC 7541 Appendix C: C.3 requests (plain), C.4 (Huffman), C.5 responses (plain, 256-byte
# table), C.6 (Huffman). The same bytes as Tests/LoopHTTP2Tests/HPACK/HPACKRFCExampleTests.swift.
C3 = [h("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"),
      h("8286 84be 5808 6e6f 2d63 6163 6865"),
      h("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65")]
C4 = [h("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"),
      h("8286 84be 5886 a8eb 1064 9cbf"),
      h("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")]
C5 = [h("""4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
           2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"""),
      h("4803 3330 37c1 c0bf"),
      h("""88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
           54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
           5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31""")]
C6 = [h("""4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
           2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"""),
      h("4883 640e ffc1 c0bf"),
      h("""88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
           77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
           9587 3160 65c0 03ed 4ee5 b106 3d50 07""")]
# C.2.1 (literal with indexing), C.2.2 (without), C.2.3 (never indexed), C.2.4 (indexed).
C2 = [h("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"),
      h("040c 2f73 616d 706c 652f 7061 7468"),
      h("1008 7061 7373 776f 7264 0673 6563 7265 74"),
      h("82")]

# A gRPC request head (literals without indexing, plain strings) and its trailers.
def literal(name, value):
    return bytes([0x00, len(name)]) + name + bytes([len(value)]) + value

GRPC_REQUEST = (h("83 86") + literal(b":path", b"/grpc.testing.TestService/UnaryCall")
                + literal(b":authority", b"localhost") + literal(b"content-type", b"application/grpc")
                + literal(b"te", b"trailers"))
RESPONSE_HEAD = h("88") + literal(b"content-type", b"application/grpc")
TRAILERS = literal(b"grpc-status", b"0")

# Frame types and flags (RFC 9113 §6).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def settings(*pairs):
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def grpc_message(payload, compressed=False):
    return bytes([1 if compressed else 0]) + struct.pack(">I", len(payload)) + payload


MESSAGE = b"\x0a\x05hello\x12\x07fuzzing"  # a small protobuf: two length-delimited fields

CLIENT_SETTINGS = settings((0x2, 0), (0x3, 100), (0x4, 1 << 20), (0x6, 16384))
SERVER_SETTINGS = settings((0x3, 100), (0x4, 1 << 20), (0x5, 16384))
CLIENT_EXCHANGE = (CLIENT_SETTINGS + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20))
                   + frame(SETTINGS, ACK, 0)
                   + frame(HEADERS, END_HEADERS, 1, GRPC_REQUEST)
                   + frame(DATA, 0, 1, grpc_message(MESSAGE))
                   + frame(DATA, END_STREAM, 1)
                   + frame(HEADERS, END_HEADERS | END_STREAM, 3, C3[0])
                   + frame(PING, 0, 0, b"12345678")
                   + frame(GOAWAY, 0, 0, struct.pack(">II", 3, 0)))
SERVER_EXCHANGE = (SERVER_SETTINGS + frame(SETTINGS, ACK, 0)
                   + frame(HEADERS, END_HEADERS, 1, RESPONSE_HEAD)
                   + frame(DATA, 0, 1, grpc_message(MESSAGE))
                   + frame(HEADERS, END_HEADERS | END_STREAM, 1, TRAILERS)
                   + frame(HEADERS, END_HEADERS, 3, C5[0])
                   + frame(WINDOW_UPDATE, 0, 3, struct.pack(">I", 1000))
                   + frame(DATA, END_STREAM, 3, b"done")
                   + frame(PING, ACK, 0, b"\0" * 8))
ODDITIES = (frame(HEADERS, PADDED | PRIORITY_FLAG, 5, b"\x02" + struct.pack(">IB", 3, 15) + C4[0][:6] + b"\0\0")
            + frame(CONTINUATION, 0, 5, C4[0][6:10]) + frame(CONTINUATION, END_HEADERS, 5, C4[0][10:])
            + frame(DATA, PADDED, 5, b"\x04body\0\0\0\0")
            + frame(PRIORITY, 0, 7, struct.pack(">IB", 5, 200))
            + frame(RST_STREAM, 0, 5, struct.pack(">I", 8))
            + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 100))
            + frame(0x42, 0xff, 9, b"unknown frame type")
            + frame(SETTINGS, 0, 0, struct.pack(">HI", 0x1, 0) + struct.pack(">HI", 0x99, 7)))


def write(target, name, data):
    directory = os.path.join(HERE, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def hpack_blocks(control, blocks):
    return bytes([control]) + b"".join(struct.pack(">H", len(b)) + b for b in blocks)


# FrameDecoderFuzzer: control (bit 0 client, bit 1 no preface added, bit 2 large frames), chunk size.
write("FrameDecoderFuzzer", "client-exchange", bytes([0, 0]) + CLIENT_EXCHANGE)
write("FrameDecoderFuzzer", "client-exchange-chunked", bytes([0, 7]) + CLIENT_EXCHANGE)
write("FrameDecoderFuzzer", "server-exchange", bytes([1, 0]) + SERVER_EXCHANGE)
write("FrameDecoderFuzzer", "padding-priority-continuation", bytes([0, 3]) + CLIENT_SETTINGS + ODDITIES)
write("FrameDecoderFuzzer", "preface-by-hand", bytes([2, 5]) + PREFACE + CLIENT_SETTINGS)
write("FrameDecoderFuzzer", "large-data", bytes([5, 0]) + frame(DATA, END_STREAM, 1, b"x" * 3000))

# HPACKDecoderFuzzer: control (bits 0-1 table size 0/64/256/4096, bits 2-3 list size), then
# blocks with 16-bit lengths.
write("HPACKDecoderFuzzer", "rfc7541-c2", hpack_blocks(0x0F, C2))
write("HPACKDecoderFuzzer", "rfc7541-c3", hpack_blocks(0x0F, C3))
write("HPACKDecoderFuzzer", "rfc7541-c4", hpack_blocks(0x0F, C4))
write("HPACKDecoderFuzzer", "rfc7541-c5", hpack_blocks(0x0E, C5))
write("HPACKDecoderFuzzer", "rfc7541-c6", hpack_blocks(0x0E, C6))
write("HPACKDecoderFuzzer", "grpc-request-small-list", hpack_blocks(0x03, [GRPC_REQUEST, TRAILERS]))
write("HPACKDecoderFuzzer", "size-update", hpack_blocks(0x0F, [h("3fe1 1f") + C3[0], h("20") + C3[1]]))

# ConnectionFuzzer: control (see ConnectionFuzzer.swift), chunk size, clock step (ms).
write("ConnectionFuzzer", "server-grpc-exchange", bytes([0x04 | 0x08, 0, 1]) + CLIENT_EXCHANGE)
write("ConnectionFuzzer", "server-small-limits-chunked", bytes([0x02 | 0x04 | 0x10, 11, 50]) + CLIENT_EXCHANGE + ODDITIES)
write("ConnectionFuzzer", "server-half-close-shutdown", bytes([0x20 | 0x80 | 0x40, 0, 0]) + CLIENT_EXCHANGE)
write("ConnectionFuzzer", "client-exchange", bytes([0x01 | 0x08, 0, 1]) + SERVER_EXCHANGE)
write("ConnectionFuzzer", "client-small-limits", bytes([0x01 | 0x02, 13, 200]) + SERVER_EXCHANGE)
write("ConnectionFuzzer", "server-continuation-flood", bytes([0x02, 0, 0]) + CLIENT_SETTINGS
      + frame(HEADERS, 0, 1, C3[0][:4]) + b"".join(frame(CONTINUATION, 0, 1, C3[0][4 + i:5 + i]) for i in range(5)))

# GRPCDeframerFuzzer: control (bits 0-1: none, identity, gzip, deflate), 16-bit max size, chunk size.
two = grpc_message(MESSAGE) + grpc_message(b"") + grpc_message(MESSAGE * 3)
write("GRPCDeframerFuzzer", "plain-messages", bytes([0]) + struct.pack(">H", 4096) + bytes([0]) + two)
write("GRPCDeframerFuzzer", "plain-messages-split", bytes([1]) + struct.pack(">H", 4096) + bytes([3]) + two)
write("GRPCDeframerFuzzer", "gzip-message", bytes([2]) + struct.pack(">H", 4096) + bytes([0])
      + grpc_message(gzip.compress(MESSAGE * 10, mtime=0), compressed=True) + grpc_message(MESSAGE))
write("GRPCDeframerFuzzer", "deflate-message", bytes([3]) + struct.pack(">H", 4096) + bytes([9])
      + grpc_message(zlib.compress(MESSAGE * 10), compressed=True))
write("GRPCDeframerFuzzer", "over-limit", bytes([0]) + struct.pack(">H", 16) + bytes([0]) + grpc_message(MESSAGE * 2))
write("GRPCDeframerFuzzer", "gzip-bomb-over-limit", bytes([2]) + struct.pack(">H", 1000) + bytes([0])
      + grpc_message(gzip.compress(b"\0" * 60000, mtime=0), compressed=True))
