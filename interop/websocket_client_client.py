#!/usr/bin/env python3
"""Python `websocket-client` as the CLIENT against a ws-proto echo server (tests/interop.rs).

    websocket_client_client.py URL CLOSE_CODE CLOSE_REASON

Same checks as websockets_client.py, with fragments built frame by frame (text split inside a
UTF-8 code point), the pong read as a control frame, and the server's close frame parsed by
hand. Prints `ok: ...` lines; exits 1 on the first mismatch.
"""

import socket
import struct
import sys

import websocket
from websocket import ABNF


def check(what, got, want):
    if got != want:
        print("FAIL: %s: got %r, want %r" % (what, got[:80] if got else got, want[:80]), flush=True)
        sys.exit(1)
    print("ok: %s" % what, flush=True)


def main(url, close_code, close_reason):
    ws = websocket.create_connection(url, timeout=20)

    text = "héllo ✓ from websocket-client"
    ws.send(text)
    check("text echo", ws.recv(), text)

    blob = bytes(range(256)) * 300
    ws.send_binary(blob)
    check("binary echo", ws.recv(), blob)

    whole = "frag-one frag-two frag-thrée".encode()
    cut = whole.index("é".encode()) + 1  # inside the code point
    for opcode, piece, fin in [
        (ABNF.OPCODE_TEXT, whole[:9], 0),
        (ABNF.OPCODE_CONT, whole[9:cut], 0),
        (ABNF.OPCODE_CONT, whole[cut:], 1),
    ]:
        ws.send_frame(ABNF.create_frame(piece, opcode, fin))
    check("fragmented text echo (split code point)", ws.recv(), whole.decode())

    ws.ping(b"websocket-client-ping")
    opcode, frame = ws.recv_data_frame(True)
    check("pong opcode", opcode, ABNF.OPCODE_PONG)
    check("pong payload", frame.data, b"websocket-client-ping")

    ws.send_close(close_code, close_reason.encode())
    opcode, frame = ws.recv_data_frame(True)
    check("close opcode", opcode, ABNF.OPCODE_CLOSE)
    check("close code from server", struct.unpack("!H", frame.data[:2])[0], close_code)
    # RFC 6455 7.1.1: the server closes TCP first.
    ws.sock.settimeout(10)
    try:
        rest = ws.sock.recv(1)
    except socket.timeout:
        rest = b"timeout"
    check("server closed the TCP connection", rest, b"")
    ws.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
