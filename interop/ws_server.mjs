// Node `ws` as the SERVER for a ws-proto client (tests/interop.rs).
//
//     node ws_server.mjs
//
// Listens on 127.0.0.1 (port chosen by the OS), prints `listening PORT`, then serves until
// killed. Same command protocol as websockets_server.py (cmd:ping P, cmd:fragments,
// cmd:close C R; everything else is echoed). `cmd:fragments` sends its text in 3 frames with
// the middle cut inside the code point of "é". When a connection ends it prints
// `closed code=C reason=R` (the close frame it received).
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  maxPayload: 1 << 25,
  // INTEROP_DEFLATE=1: accept the client's permessage-deflate offer (ws's default is off).
  perMessageDeflate: !!process.env.INTEROP_DEFLATE,
});
wss.on('listening', () => console.log(`listening ${wss.address().port}`));
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? null : data.toString();
    if (text === null || !text.startsWith('cmd:')) {
      ws.send(data, { binary: isBinary });
      return;
    }
    const [cmd, ...rest] = text.slice(4).split(' ');
    const arg = rest.join(' ');
    if (cmd === 'ping') {
      ws.once('pong', (payload) => ws.send(`pong:${payload.toString()}`));
      ws.ping(Buffer.from(arg));
    } else if (cmd === 'fragments') {
      const whole = Buffer.from('frag-one frag-two frag-thrée');
      const cut = whole.indexOf(Buffer.from('é')) + 1;
      ws.send(whole.subarray(0, 9), { binary: false, fin: false });
      ws.send(whole.subarray(9, cut), { binary: false, fin: false });
      ws.send(whole.subarray(cut), { binary: false, fin: true });
    } else if (cmd === 'close') {
      ws.close(Number(rest[0]), rest.slice(1).join(' '));
    } else {
      ws.send('unknown command');
    }
  });
  ws.on('close', (code, reason) => console.log(`closed code=${code} reason=${reason.toString()}`));
});
