#!/usr/bin/env python3
"""Python `websockets` as the SERVER for a ws-proto client (tests/interop.rs).

    websockets_server.py

Listens on 127.0.0.1 (port chosen by the OS), prints `listening PORT`, then serves until
killed. Text and binary messages are echoed, except commands (text):
  cmd:ping P        send a ping with payload P, wait for its pong, then send text `pong:P`
  cmd:fragments     send `frag-one frag-two frag-thrée` as a 3-frame text message
  cmd:close C R     close with code C and reason R
When a connection ends it prints `closed code=C reason=R` (the close frame it received).
"""

import asyncio

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


async def handler(ws):
    try:
        async for msg in ws:
            if isinstance(msg, str) and msg.startswith("cmd:"):
                cmd, _, arg = msg[4:].partition(" ")
                if cmd == "ping":
                    pong = await ws.ping(arg.encode())
                    await asyncio.wait_for(pong, 10)
                    await ws.send("pong:" + arg)
                elif cmd == "fragments":
                    await ws.send(["frag-one ", "frag-two ", "frag-thrée"])
                elif cmd == "close":
                    code, _, reason = arg.partition(" ")
                    await ws.close(int(code), reason)
                else:
                    await ws.send("unknown command")
            else:
                await ws.send(msg)
    except ConnectionClosed:
        pass
    await ws.wait_closed()
    print("closed code=%s reason=%s" % (ws.close_code, ws.close_reason), flush=True)


async def main():
    async with serve(handler, "127.0.0.1", 0, max_size=2**25, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        print("listening %d" % port, flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
