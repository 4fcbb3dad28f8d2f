"""Python `websockets` as the real peer of the Rust examples.

  ws_client.py echo URL [--cafile CERT]   send text and binary, expect them echoed, close
  ws_client.py chat URL                   the chat example's admission rules and broadcast
"""
import argparse
import asyncio
import ssl
import sys

import websockets


async def echo(url, cafile):
    ctx = None
    if url.startswith("wss://"):
        ctx = ssl.create_default_context(cafile=cafile)  # trust exactly the server's cert
    async with websockets.connect(url, ssl=ctx, max_size=None) as ws:
        for msg in ["hello", "ünïcödé ✓", "x" * 70000, b"\x00\x01\x02" * 1000, b""]:
            await ws.send(msg)
            got = await ws.recv()
            assert got == msg, f"echo mismatch for {type(msg).__name__} of {len(msg)}"
        pong = await ws.ping(b"py")
        await asyncio.wait_for(pong, 5)
    print(f"ws_client echo {url}: ok")


async def chat(url):
    http_origin = url.replace("ws://", "http://").split("/chat")[0]
    # Wrong origin: 403. No token: 401.
    for origin, path, status in [
        ("http://evil.example", "/chat?token=mallory", 403),
        (http_origin, "/chat", 401),
        (http_origin, "/chat?token=bad%20name", 401),
    ]:
        target = url.split("/chat")[0] + path
        try:
            async with websockets.connect(target, origin=origin):
                raise AssertionError(f"{path} from {origin} was admitted")
        except websockets.InvalidStatus as e:
            assert e.response.status_code == status, (path, origin, e.response.status_code)
    # Two clients: a message from one reaches both.
    async with websockets.connect(url.split("?")[0] + "?token=ann", origin=http_origin) as ann:
        async with websockets.connect(url.split("?")[0] + "?token=ben", origin=http_origin) as ben:
            assert await ann.recv() == "* ann joined"
            assert await ann.recv() == "* ben joined"
            assert await ben.recv() == "* ben joined"
            await ann.send("hi ben")
            assert await ben.recv() == "ann: hi ben"
            assert await ann.recv() == "ann: hi ben"
    print(f"ws_client chat {url}: ok")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["echo", "chat"])
    p.add_argument("url")
    p.add_argument("--cafile")
    a = p.parse_args()
    if a.mode == "echo":
        asyncio.run(asyncio.wait_for(echo(a.url, a.cafile), 30))
    else:
        asyncio.run(asyncio.wait_for(chat(a.url), 30))


if __name__ == "__main__":
    sys.exit(main())
