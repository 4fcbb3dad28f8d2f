// Browser test of examples/chat.rs: two headless Chromium pages join the chat; a message typed
// in one must appear in the other. Usage: node chat_browser.mjs http://127.0.0.1:PORT/
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.argv[2];
const profile = mkdtempSync(join(tmpdir(), "ws-proto-chat-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
  ],
});
let failed = false;
try {
  const open = async (token) => {
    const page = await context.newPage();
    page.on("console", (m) => console.log(`[${token} console] ${m.text()}`));
    await page.goto(`${base}?token=${token}`);
    await page.waitForFunction(
      () => document.getElementById("status").textContent === "connected", null, { timeout: 10000 });
    return page;
  };
  const seen = (page, line) => page.waitForFunction(
    (l) => [...document.querySelectorAll("#log li")].some((li) => li.textContent === l),
    line, { timeout: 10000 });
  const alice = await open("alice");
  const bob = await open("bob");
  await seen(alice, "* bob joined");
  await alice.fill("#msg", "hello from alice");
  await alice.press("#msg", "Enter");
  await seen(bob, "alice: hello from alice");
  await bob.fill("#msg", "hi alice, bob here ✓");
  await bob.click("button");
  await seen(alice, "bob: hi alice, bob here ✓");
  await bob.close();
  await seen(alice, "* bob left");
  console.log("chat browser test: ok (two pages exchanged messages)");
} catch (e) {
  console.error("chat browser test: FAILED:", e);
  failed = true;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
