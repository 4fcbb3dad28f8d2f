"""A WebSocket server that completes the opening handshake and then never reads or answers:
the dead peer for the heartbeat example. Prints its port, serves one connection, exits after
--linger seconds."""
import argparse
import base64
import hashlib
import socket
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

p = argparse.ArgumentParser()
p.add_argument("--linger", type=float, default=30)
args = p.parse_args()

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(f"silent: listening on ws://127.0.0.1:{srv.getsockname()[1]}/", flush=True)
conn, _ = srv.accept()
head = b""
while b"\r\n\r\n" not in head:
    chunk = conn.recv(4096)
    if not chunk:
        raise SystemExit("client left during the handshake")
    head += chunk
key = next(
    line.split(b":", 1)[1].strip()
    for line in head.split(b"\r\n")
    if line.lower().startswith(b"sec-websocket-key:")
)
accept = base64.b64encode(hashlib.sha1(key + GUID.encode()).digest()).decode()
conn.sendall(
    (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    ).encode()
)
time.sleep(args.linger)  # silent: pings pile up unanswered
