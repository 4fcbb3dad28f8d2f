// Node `ws` as the CLIENT against a ws-proto echo server (tests/interop.rs).
//
//     node ws_client.mjs URL CLOSE_CODE CLOSE_REASON
//
// Sends text, binary, text and binary messages fragmented by ws (the text cut inside a UTF-8
// code point), checks every echo byte for byte, pings and checks the pong payload, then closes
// with CLOSE_CODE / CLOSE_REASON and checks the code the server sent back. Prints `ok: ...`
// lines; exits 1 on the first mismatch.
import { once } from 'node:events';
import WebSocket from 'ws';

const [url, closeCode, closeReason] = process.argv.slice(2);
setTimeout(() => fail('timed out'), 60_000).unref();

function fail(msg) {
  console.log(`FAIL: ${msg}`);
  process.exit(1);
}

function check(what, got, want) {
  const same = Buffer.isBuffer(want) ? Buffer.compare(got, want) === 0 : got === want;
  if (!same) fail(`${what}: got ${String(got).slice(0, 80)}, want ${String(want).slice(0, 80)}`);
  console.log(`ok: ${what}`);
}

// Default options: ws offers permessage-deflate, which the server declines, or accepts when
// built with it (INTEROP_DEFLATE=1).
const ws = new WebSocket(url, { maxPayload: 1 << 25 });
ws.on('error', (e) => fail(`error: ${e.message}`));
const next = () =>
  new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data, isBinary })));
await once(ws, 'open');
check('extensions', ws.extensions, process.env.INTEROP_DEFLATE ? 'permessage-deflate' : '');

let m;
const text = 'héllo ✓ from ws';
ws.send(text);
m = await next();
check('text echo', m.isBinary, false);
check('text echo bytes', m.data.toString(), text);

const blob = Buffer.alloc(76_800, 0).map((_, i) => i & 0xff);
ws.send(blob);
m = await next();
check('binary echo', m.isBinary, true);
check('binary echo bytes', m.data, blob);

const whole = Buffer.from('frag-one frag-two frag-thrée');
const cut = whole.indexOf(Buffer.from('é')) + 1;
ws.send(whole.subarray(0, 9), { binary: false, fin: false });
ws.send(whole.subarray(9, cut), { binary: false, fin: false });
ws.send(whole.subarray(cut), { binary: false, fin: true });
m = await next();
check('fragmented text echo (split code point)', m.data.toString(), whole.toString());

ws.send(Buffer.from([1, 2]), { binary: true, fin: false });
ws.send(Buffer.alloc(0), { binary: true, fin: false });
ws.send(Buffer.from([3]), { binary: true, fin: true });
m = await next();
check('fragmented binary echo', m.data, Buffer.from([1, 2, 3]));

const pong = once(ws, 'pong');
ws.ping(Buffer.from('ws-ping'));
const [payload] = await pong;
check('pong payload', payload.toString(), 'ws-ping');

ws.close(Number(closeCode), closeReason);
const [code] = await once(ws, 'close');
check('close code from server', code, Number(closeCode));
process.exit(0);
