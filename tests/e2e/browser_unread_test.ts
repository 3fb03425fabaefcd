/**
 * The chat page's unread counts from the account's read markers, in Chromium against the real
 * server, with a JSON client of the same account (the "phone"): a message in a room is counted on
 * the page; the phone reads it and the page's count goes; a page opened later takes its count
 * from the markers; opening the room shows what was missed and, once the page is visible, moves
 * the marker, which the phone is told about. The page's visibility is stood in for before it
 * loads (headless Chromium shows every page).
 */

/// <reference lib="dom" />

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { Browser, Page } from "puppeteer-core";
import { JsonClient } from "../helpers/lines.ts";
import { httpPort, startServer } from "../helpers/server.ts";
import { clickOn, launchBrowser, waitForLine } from "../helpers/browser.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const PASSWORD = "amy-password";

/** Opens the page logged in as amy, its visibility under the test's control (`setVisible`). */
async function openAmy(browser: Browser, port: number): Promise<Page> {
  const page = await browser.newPage();
  await page.evaluateOnNewDocument(() => {
    let visible = true;
    Object.defineProperty(document, "visibilityState", {
      get: () => visible ? "visible" : "hidden",
    });
    Object.assign(globalThis, {
      setVisible(v: boolean) {
        visible = v;
        document.dispatchEvent(new Event("visibilitychange"));
      },
    });
  });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector(".login input[name=name]");
  await page.type(".login input[name=name]", "amy");
  await page.type(".login input[name=password]", PASSWORD);
  await page.keyboard.press("Enter");
  await page.waitForSelector('.conv[data-conv="#dev"]');
  return page;
}

/** Waits until the side list shows `count` unread for #dev (0: no count shown). */
async function waitForUnread(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) => (document.querySelector('.conv[data-conv="#dev"] .unread')?.textContent ?? "0") === n,
    { timeout: 5000 },
    String(count),
  );
}

/** Says `text` in #dev and returns its message id. */
async function say(c: JsonClient, text: string): Promise<number> {
  const ok = await c.request({ type: "say", room: "#dev", text });
  strictEqual(ok.type, "ok", JSON.stringify(ok));
  return ok.msgId as number;
}

Deno.test("page: unread counts follow the account's read markers", opts, async () => {
  await using server = await startServer(["--msg-rate", "0", "--who-rate", "0"]);
  const port = await httpPort(server);
  using phone = await JsonClient.connect(server.port, { name: "amy" });
  strictEqual((await phone.request({ type: "register", password: PASSWORD })).type, "ok");
  await phone.request({ type: "join", room: "#dev" });
  using bob = await JsonClient.connect(server.port, { name: "bob" });
  await bob.request({ type: "join", room: "#dev" });
  await using browser = await launchBrowser();
  const devMarker = () => phone.readUntil((f) => f.type === "marker" && f.target === "#dev", 5000);

  const first = await openAmy(browser, port);
  await say(bob, "one");
  const two = await say(bob, "two");
  await waitForUnread(first, 2);
  // Read on the phone: the page is told, and its count goes.
  strictEqual((await phone.request({ type: "mark", target: "#dev", msgId: two })).unread, 0);
  await waitForUnread(first, 0);
  await say(bob, "three");
  await waitForUnread(first, 1);
  await first.close();

  // While no device reads #dev, one more; a page opened now counts both from the marker.
  const four = await say(bob, "four");
  const page = await openAmy(browser, port);
  await waitForUnread(page, 2);

  // Opened while the page is hidden: the missed lines are shown, but nothing is read yet.
  await page.evaluate(() =>
    (globalThis as unknown as { setVisible(v: boolean): void }).setVisible(false)
  );
  await clickOn(page, '.conv[data-conv="#dev"]');
  await waitForLine(page, "bob: three");
  await waitForLine(page, "bob: four");
  await new Promise((r) => setTimeout(r, 1500)); // longer than the page waits to mark
  deepStrictEqual((await phone.request({ type: "markers" })).markers, [
    { target: "#dev", msgId: two, unread: 2 },
  ]);
  // Shown: read, and the phone is told.
  await page.evaluate(() =>
    (globalThis as unknown as { setVisible(v: boolean): void }).setVisible(true)
  );
  deepStrictEqual(await devMarker(), { type: "marker", target: "#dev", msgId: four, unread: 0 });

  // Lines arriving in the open room are read: a burst moves the marker once, to its last.
  await say(bob, "five");
  const six = await say(bob, "six");
  await waitForLine(page, "bob: six");
  deepStrictEqual(await devMarker(), { type: "marker", target: "#dev", msgId: six, unread: 0 });
  await waitForUnread(page, 0);
});
