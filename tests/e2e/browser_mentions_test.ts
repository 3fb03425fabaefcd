/**
 * The chat page's notification for a message naming you, in Chromium: shown while the page is
 * hidden and notifications are allowed, with who and where; not for other messages. The
 * browser's Notification and the page's visibility are stood in for before the page loads
 * (headless Chromium has no desktop to show them on).
 */
import { deepStrictEqual } from "node:assert/strict";
import { JsonClient } from "../helpers/lines.ts";
import { httpPort, startServer } from "../helpers/server.ts";
import { launchBrowser, waitForLine } from "../helpers/browser.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("page: a hidden page notifies a message naming you, and only that", opts, async () => {
  await using server = await startServer(["--msg-rate", "0"]);
  const port = await httpPort(server);
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await page.evaluateOnNewDocument(() => {
    const shown: { title: string; body: string }[] = [];
    Object.assign(globalThis, { shown });
    class FakeNotification {
      static permission = "granted";
      static requestPermission() {
        return Promise.resolve("granted");
      }
      constructor(title: string, options: { body: string }) {
        shown.push({ title, body: options.body });
      }
    }
    Object.defineProperty(globalThis, "Notification", { value: FakeNotification });
    Object.defineProperty(document, "hidden", { get: () => true });
  });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector(".login input[name=name]");
  await page.type(".login input[name=name]", "alice");
  await page.keyboard.press("Enter");
  await page.waitForSelector(".app .compose input");

  using bob = await JsonClient.connect(server.port, { name: "bob" });
  await bob.request({ type: "say", text: "nothing for anyone" });
  await bob.request({ type: "say", text: "@alice the build is green" });
  await waitForLine(page, "bob: @alice the build is green");
  const shown = await page.evaluate(() => (globalThis as unknown as { shown: unknown[] }).shown);
  deepStrictEqual(shown, [{
    title: "bob mentioned you in #lobby",
    body: "@alice the build is green",
  }]);
});
