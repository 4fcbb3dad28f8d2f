#!/usr/bin/env python3
"""Python `websockets` as the CLIENT against a ws-proto echo server (tests/interop.rs).

    websockets_client.py URL CLOSE_CODE CLOSE_REASON

Sends text, binary (64-bit length), a message fragmented by websockets and a 1 MiB message,
checks every echo byte for byte, pings and checks the pong, then closes with CLOSE_CODE /
CLOSE_REASON and checks the code the server sent back. Prints `ok: ...` lines; exits 1 on
the first mismatch.
"""

import asyncio
import os
import sys

from websockets.asyncio.client import connect


def check(what, got, want):
    if got != want:
        print("FAIL: %s: got %r, want %r" % (what, got[:80] if got else got, want[:80]), flush=True)
        sys.exit(1)
    print("ok: %s" % what, flush=True)


async def main(url, close_code, close_reason):
    # Default compression offer kept: the server declines it, or accepts it when built with
    # permessage-deflate (INTEROP_DEFLATE=1).
    async with connect(url, max_size=2**25, ping_interval=None, open_timeout=10) as ws:
        want = "permessage-deflate" if os.environ.get("INTEROP_DEFLATE") else None
        check("extensions", ws.response.headers.get("Sec-WebSocket-Extensions"), want)
        text = "héllo ✓ from websockets"
        await ws.send(text)
        check("text echo", await ws.recv(), text)

        blob = bytes(range(256)) * 300  # 76800 bytes: 64-bit length field
        await ws.send(blob)
        check("binary echo", await ws.recv(), blob)

        await ws.send(["frag-one ", "frag-two ", "frag-thrée"])
        check("fragmented text echo", await ws.recv(), "frag-one frag-two frag-thrée")

        await ws.send([b"\x00\x01", b"", b"\x02\x03"])
        check("fragmented binary echo", await ws.recv(), b"\x00\x01\x02\x03")

        big = bytes((i * 7) & 0xFF for i in range(1 << 20))
        await ws.send(big)
        check("1 MiB echo", await ws.recv(), big)

        pong = await ws.ping(b"websockets-ping")
        latency = await asyncio.wait_for(pong, 10)
        print("ok: pong for our ping (%.1f ms)" % (latency * 1000), flush=True)

        await ws.close(close_code, close_reason)
        check("close code from server", ws.close_code, close_code)


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]), 60))
