// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) as the CLIENT
// against a ws-proto echo server (tests/interop.rs).
//
//     node chromium_client.mjs URL CLOSE_CODE CLOSE_REASON
//
// The page opens `new WebSocket(URL)`, sends a text and a binary ArrayBuffer, checks both
// echoes, then closes with CLOSE_CODE / CLOSE_REASON (the test checks the server saw them) and
// checks the close event. Prints `ok: ...` lines; exits 1 on the first mismatch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [url, closeCode, closeReason] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const profile = mkdtempSync(join(tmpdir(), 'ws-proto-chromium-'));
let status = 1;
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const result = await page.evaluate(
    async ([url, code, reason]) => {
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      const messages = [];
      let wake = null;
      ws.onmessage = (e) => {
        messages.push(e.data);
        if (wake) wake();
      };
      const next = () =>
        new Promise((resolve) => {
          if (messages.length) return resolve(messages.shift());
          wake = () => {
            wake = null;
            resolve(messages.shift());
          };
        });
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error('websocket error'));
      });
      const out = { protocol: ws.protocol, extensions: ws.extensions };
      const text = 'héllo ✓ from chromium';
      ws.send(text);
      out.text = (await next()) === text;
      const bytes = new Uint8Array(70_000).map((_, i) => (i * 13) & 0xff);
      ws.send(bytes.buffer);
      const echoed = await next();
      out.binaryIsArrayBuffer = echoed instanceof ArrayBuffer;
      out.binary =
        echoed.byteLength === bytes.length &&
        new Uint8Array(echoed).every((b, i) => b === bytes[i]);
      const closed = new Promise((resolve) => {
        ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean });
      });
      ws.close(code, reason);
      out.close = await closed;
      return out;
    },
    [url, Number(closeCode), closeReason],
  );
  console.log(`result: ${JSON.stringify(result)}`);
  const checks = [
    ['text echo', result.text],
    ['binary ArrayBuffer echo', result.binaryIsArrayBuffer && result.binary],
    // The echo server agrees to Chromium's permessage-deflate offer when built with it.
    [
      'extensions as expected',
      result.extensions === (process.env.INTEROP_DEFLATE ? 'permessage-deflate' : ''),
    ],
    ['close code from server', result.close.code === Number(closeCode)],
    ['clean close', result.close.wasClean],
  ];
  status = 0;
  for (const [what, ok] of checks) {
    console.log(`${ok ? 'ok' : 'FAIL'}: ${what}`);
    if (!ok) status = 1;
  }
} catch (e) {
  console.log(`FAIL: ${e.stack ?? e}`);
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
