/**
 * A real browser for the page's tests and screenshots: Debian's `chromium` (`apt-get install
 * chromium`; `.ci/run` installs it), driven over the DevTools protocol by `puppeteer-core`
 * (pinned in deno.json and deno.lock; the `-core` package downloads no browser of its own).
 *
 * @module
 */

/// <reference lib="dom" />

import puppeteer, { type Browser, type Page } from "puppeteer-core";

/** Where Chromium is: `$CHROMIUM`, or Debian's. */
function chromiumPath(): string {
  const path = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
  try {
    Deno.statSync(path);
  } catch {
    throw new Error(`no Chromium at ${path}: apt-get install chromium (.ci/run does this)`);
  }
  return path;
}

/** Starts a headless Chromium; `await using` closes it. */
export async function launchBrowser(): Promise<Browser & AsyncDisposable> {
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    // Root in a container has no user namespaces for the sandbox; the pages are our own.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=en-US"],
    headless: true,
  });
  return Object.assign(browser, {
    async [Symbol.asyncDispose]() {
      await browser.close();
    },
  });
}

/** The desktop and phone viewports of the tests and screenshots. */
export const DESKTOP = { width: 1100, height: 700 };
export const PHONE = {
  width: 390,
  height: 760,
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
};

/**
 * Opens the page at `http://127.0.0.1:PORT/` and joins as `name` (with `password`, logs in),
 * returning once the chat is shown. Page errors fail the test through `errors`.
 */
export async function openChat(
  browser: Browser,
  port: number,
  name: string,
  opts: { password?: string; viewport?: typeof DESKTOP | typeof PHONE; dark?: boolean } = {},
): Promise<Page & { errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.setViewport(opts.viewport ?? DESKTOP);
  if (opts.dark) {
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
  }
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector(".login input[name=name]");
  await page.type(".login input[name=name]", name);
  if (opts.password) await page.type(".login input[name=password]", opts.password);
  await page.keyboard.press("Enter");
  await page.waitForSelector(".app .compose input");
  return Object.assign(page, { errors });
}

/**
 * Clicks the element `selector` once it exists, inside the page in one step: the page re-renders
 * its lists on every message, so an element found first and clicked later may be gone by then.
 */
export async function clickOn(page: Page, selector: string): Promise<void> {
  await page.waitForFunction(
    (sel: string) => {
      const e = document.querySelector<HTMLElement>(sel);
      e?.click();
      return e !== null;
    },
    {},
    selector,
  );
}

/** Types `text` in the message box and presses Enter. */
export async function send(page: Page, text: string): Promise<void> {
  await page.focus(".compose input");
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
}

/** The texts of the shown conversation's lines (`from: text`, or a system line's text). */
export function lineTexts(page: Page): Promise<string[]> {
  return page.$$eval(".lines li", (items) =>
    items.map((li) => {
      const from = li.querySelector(".from")?.textContent;
      const text = li.querySelector(".text")?.textContent ?? li.lastChild?.textContent ?? "";
      return from ? `${from}: ${text}` : text;
    }));
}

/** Waits until the shown conversation has a line equal to `line`. */
export async function waitForLine(page: Page, line: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await lineTexts(page)).includes(line)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `no line "${line}" within ${timeoutMs} ms; shown:\n${(await lineTexts(page)).join("\n")}`,
  );
}
