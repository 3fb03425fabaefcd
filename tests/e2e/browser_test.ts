/**
 * The chat page in a real browser (Chromium driven by puppeteer-core) against the real server:
 * pages and a terminal (`nc`-style) client in one lobby, private messages, renames and presence,
 * history, a server restart, hostile text, a line over the limit, and a phone's screen.
 *
 * @module
 */

/// <reference lib="dom" />

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { connectText, JsonClient } from "../helpers/lines.ts";
import { httpPort, startServer } from "../helpers/server.ts";
import {
  clickOn,
  launchBrowser,
  lineTexts,
  openChat,
  PHONE,
  send,
  waitForLine,
} from "../helpers/browser.ts";

/** Puppeteer keeps its DevTools socket and timers between steps; the browser is closed at the end. */
const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("two pages and a terminal client chat in the lobby", opts, async () => {
  await using server = await startServer();
  const port = await httpPort(server);
  await using browser = await launchBrowser();
  const alice = await openChat(browser, port, "alice");
  const bob = await openChat(browser, port, "bob");
  using term = await connectText(server.port);
  await term.send("rename|carol");
  await send(alice, "hello from the browser");
  await waitForLine(bob, "alice: hello from the browser");
  await term.readUntil((l) => l.endsWith("alice:hello from the browser"));
  await term.send("hi from the terminal");
  await waitForLine(alice, "carol: hi from the terminal");
  await waitForLine(bob, "carol: hi from the terminal");
  // Bob's presence line in Alice's lobby, and the online list.
  await waitForLine(alice, "bob joined");
  const online = await alice.$$eval(".online li", (li) => li.map((e) => e.textContent));
  deepStrictEqual(online, ["alice (you)", "bob", "carol"]);
  deepStrictEqual([...alice.errors, ...bob.errors], []);
});

Deno.test("private messages both ways, with an unread count", opts, async () => {
  await using server = await startServer();
  const port = await httpPort(server);
  await using browser = await launchBrowser();
  const alice = await openChat(browser, port, "alice");
  const bob = await openChat(browser, port, "bob");
  await alice.waitForFunction(() => document.querySelectorAll(".online li").length === 2);
  // Alice opens a conversation with Bob from the online list.
  await alice.$$eval(".online button", (bs) => bs.find((b) => b.textContent === "bob")!.click());
  await send(alice, "just for you");
  await waitForLine(alice, "alice: just for you");
  // Bob, still in the lobby, sees an unread count on a new conversation.
  await bob.waitForSelector('.conv[data-conv="@alice"] .unread');
  // Read in one step in the page: the list is re-rendered on every message.
  strictEqual(await bob.$eval('.conv[data-conv="@alice"] .unread', (e) => e.textContent), "1");
  ok(!(await lineTexts(bob)).includes("alice: just for you"), "not in the lobby");
  await clickOn(bob, '.conv[data-conv="@alice"]');
  await waitForLine(bob, "alice: just for you");
  strictEqual(await bob.$('.conv[data-conv="@alice"] .unread'), null, "read once opened");
  await send(bob, "and back to you");
  await waitForLine(alice, "bob: and back to you");
  // A terminal client's private message lands in a page too.
  using term = await JsonClient.connect(server.port, { name: "carol" });
  await term.send({ type: "msg", to: "bob", text: "from the terminal" });
  await bob.waitForSelector('.conv[data-conv="@carol"] .unread');
});

Deno.test("an account's private conversations are back after a page reload", opts, async () => {
  await using server = await startServer(["--msg-rate", "0"]);
  const port = await httpPort(server);
  using bea = await JsonClient.connect(server.port, { name: "bea" });
  strictEqual((await bea.request({ type: "register", password: "bea-password" })).type, "ok");
  using cid = await JsonClient.connect(server.port, { name: "cid" });
  strictEqual((await cid.request({ type: "register", password: "cid-password" })).type, "ok");
  await bea.request({ type: "msg", to: "cid", text: "sent before the page" });
  await using browser = await launchBrowser();
  const first = await openChat(browser, port, "cid", { password: "cid-password" });
  await clickOn(first, '.conv[data-conv="@bea"]');
  await waitForLine(first, "bea: sent before the page");
  await send(first, "from the page");
  await waitForLine(first, "cid: from the page");
  await first.close();
  // A new page of the same account: the conversation, both ways, in order, shown once.
  const second = await openChat(browser, port, "cid", { password: "cid-password" });
  await clickOn(second, '.conv[data-conv="@bea"]');
  await waitForLine(second, "cid: from the page");
  const shown = (await lineTexts(second)).filter((l) =>
    l.startsWith("bea:") || l.startsWith("cid:")
  );
  deepStrictEqual(shown, ["bea: sent before the page", "cid: from the page"]);
  deepStrictEqual(second.errors, []);
});

Deno.test("rename and presence show in the other page", opts, async () => {
  await using server = await startServer();
  const port = await httpPort(server);
  await using browser = await launchBrowser();
  const alice = await openChat(browser, port, "alice");
  const bob = await openChat(browser, port, "bob");
  await send(bob, "/nick robert");
  await waitForLine(alice, "bob is now robert");
  await alice.waitForFunction(() =>
    [...document.querySelectorAll(".online li")].some((e) => e.textContent === "robert")
  );
  await send(bob, "renamed");
  await waitForLine(alice, "robert: renamed");
  await bob.close();
  await waitForLine(alice, "robert left");
});

Deno.test("history on join: a late page sees what was said before", opts, async () => {
  await using server = await startServer();
  const port = await httpPort(server);
  using early = await JsonClient.connect(server.port, { name: "early" });
  for (const text of ["one", "two", "three"]) await early.request({ type: "say", text });
  await using browser = await launchBrowser();
  const late = await openChat(browser, port, "late");
  await waitForLine(late, "early: three");
  const texts = (await lineTexts(late)).filter((l) => l.startsWith("early: "));
  deepStrictEqual(texts, ["early: one", "early: two", "early: three"]);
});

Deno.test("a server restart: the page reconnects, nothing lost or doubled", opts, async () => {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/chat.db`;
  try {
    const first = await startServer(["--db", db]);
    const tcpPort = first.port;
    const port = await httpPort(first);
    await using browser = await launchBrowser();
    const alice = await openChat(browser, port, "alice");
    await send(alice, "/join #dev");
    await send(alice, "in the room before");
    await waitForLine(alice, "alice: in the room before");
    await clickOn(alice, '.conv[data-conv="#lobby"]');
    await send(alice, "before the restart");
    await waitForLine(alice, "alice: before the restart");
    await first.stop();
    await alice.waitForSelector(".app.offline");
    await using second = await startServer(["--db", db, "--http-port", String(port)], {
      port: tcpPort,
    });
    // Said while the page is still away: it must arrive through the catch-up, once.
    using bob = await JsonClient.connect(second.port, { name: "bob" });
    for (let i = 1; i <= 3; i++) await bob.request({ type: "say", text: `missed ${i}` });
    await waitForLine(alice, "bob: missed 3", 20_000);
    await alice.waitForSelector(".app:not(.offline)");
    await send(alice, "after the restart");
    await waitForLine(alice, "alice: after the restart");
    await bob.readUntil((f) => f.type === "public" && f.text === "after the restart");
    // A guest's rooms end with its connection: the page joins again and fetches what it missed.
    await bob.request({ type: "join", room: "#dev" });
    await bob.request({ type: "say", room: "#dev", text: "missed in the room" });
    await clickOn(alice, '.conv[data-conv="#dev"]');
    await waitForLine(alice, "bob: missed in the room");
    deepStrictEqual(
      (await lineTexts(alice)).filter((l) => l.startsWith("alice: ") || l.startsWith("bob: ")),
      ["alice: in the room before", "bob: missed in the room"],
    );
    await clickOn(alice, '.conv[data-conv="#lobby"]');
    // Presence and renames depend on when the page got back (bob may name himself after it).
    const said = (await lineTexts(alice)).filter((l) =>
      !l.includes(" joined") && !l.includes(" left") && !l.includes(" is now ")
    );
    deepStrictEqual(said, [
      "alice: before the restart",
      "bob: missed 1",
      "bob: missed 2",
      "bob: missed 3",
      "alice: after the restart",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("<script> and <img onerror> are shown as text, never run", opts, async () => {
  await using server = await startServer();
  const port = await httpPort(server);
  await using browser = await launchBrowser();
  const alice = await openChat(browser, port, "alice");
  using mallory = await JsonClient.connect(server.port, { name: "mallory" });
  const hostile = [
    "<script>window.pwned = 1</script>",
    '<img src=x onerror="window.pwned = 2">',
    "see https://example.org/a?b=1 and javascript:alert(1)",
  ];
  for (const text of hostile) await mallory.request({ type: "say", text });
  for (const text of hostile) await waitForLine(alice, `mallory: ${text}`);
  strictEqual(
    await alice.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned),
    undefined,
  );
  strictEqual(await alice.$(".lines img"), null);
  strictEqual(await alice.$(".lines script"), null);
  const links = await alice.$$eval(".lines a", (as) => as.map((a) => a.getAttribute("href")));
  deepStrictEqual(links, ["https://example.org/a?b=1"]);
});

Deno.test(
  "a line over the limit is refused by the page, and the connection stays",
  opts,
  async () => {
    await using server = await startServer(["--max-line", "300"]);
    const port = await httpPort(server);
    await using browser = await launchBrowser();
    const alice = await openChat(browser, port, "alice");
    await send(alice, "x".repeat(400));
    await alice.waitForFunction(() =>
      /message too long/.test(document.querySelector(".notice")?.textContent ?? "")
    );
    strictEqual(
      await alice.$eval(".compose input", (i) => (i as HTMLInputElement).value.length),
      400,
    );
    await alice.$eval(".compose input", (i) => (i as HTMLInputElement).value = "");
    await send(alice, "short is fine");
    await waitForLine(alice, "alice: short is fine");
  },
);

Deno.test("a phone-sized viewport: one column, the list behind a button", opts, async () => {
  await using server = await startServer();
  const port = await httpPort(server);
  await using browser = await launchBrowser();
  const phone = await openChat(browser, port, "pocket", { viewport: PHONE });
  await send(phone, "from a phone");
  await waitForLine(phone, "pocket: from a phone");
  const layout = () =>
    phone.evaluate(() => ({
      side: getComputedStyle(document.querySelector(".side")!).display,
      menu: getComputedStyle(document.querySelector(".menu")!).display,
      overflow: document.documentElement.scrollWidth > globalThis.innerWidth,
    }));
  deepStrictEqual(await layout(), { side: "none", menu: "block", overflow: false });
  await phone.click(".menu");
  strictEqual((await layout()).side, "block");
  await clickOn(phone, '.conv[data-conv="#lobby"]');
  strictEqual((await layout()).side, "none");
  // Up recalls the last message.
  await phone.focus(".compose input");
  await phone.keyboard.press("ArrowUp");
  strictEqual(
    await phone.$eval(".compose input", (i) => (i as HTMLInputElement).value),
    "from a phone",
  );
});

Deno.test("rooms: join, talk, unread counts, and the lobby does not see it", opts, async () => {
  await using server = await startServer();
  const port = await httpPort(server);
  await using browser = await launchBrowser();
  const alice = await openChat(browser, port, "alice");
  const bob = await openChat(browser, port, "bob");
  using term = await JsonClient.connect(server.port, { name: "carol" });
  await send(alice, "/join #dev");
  await alice.waitForSelector('.conv.active[data-conv="#dev"]');
  await send(bob, "/join #Dev");
  await waitForLine(alice, "bob joined");
  await send(alice, "room talk");
  await waitForLine(bob, "alice: room talk");
  // Carol, in the lobby only, is not sent it; she joins and sends, and Bob reads it in the room.
  await term.request({ type: "join", room: "#dev" });
  await term.request({ type: "say", room: "#dev", text: "hello room" });
  await waitForLine(bob, "carol: hello room");
  ok(!term.lines.received.some((l) => l.includes("room talk")), "carol joined after it was said");
  // Bob goes to the lobby: a room message is counted unread on the room's entry.
  await clickOn(bob, '.conv[data-conv="#lobby"]');
  ok(!(await lineTexts(bob)).includes("alice: room talk"), "not in the lobby");
  await send(alice, "while you were away");
  await bob.waitForSelector('.conv[data-conv="#dev"] .unread');
  // Read in one step in the page: the list is re-rendered on every message.
  strictEqual(await bob.$eval('.conv[data-conv="#dev"] .unread', (e) => e.textContent), "1");
  await send(alice, "/part");
  await alice.waitForSelector('.conv.active[data-conv="#lobby"]');
  strictEqual(await alice.$('.conv[data-conv="#dev"]'), null);
});

Deno.test(
  "rooms: an operator's commands in the page (who, invite-only, invite, op, kick)",
  opts,
  async () => {
    await using server = await startServer();
    const port = await httpPort(server);
    await using browser = await launchBrowser();
    const alice = await openChat(browser, port, "alice");
    const bob = await openChat(browser, port, "bob");
    using carol = await JsonClient.connect(server.port, { name: "carol" });
    const notice = (page: typeof alice) => page.$eval(".notice", (e) => e.textContent ?? "");
    const noticeIs = async (page: typeof alice, text: string) => {
      await page.waitForFunction(
        (t: string) => document.querySelector(".notice")?.textContent === t,
        { timeout: 5000, polling: 100 },
        text,
      ).catch(async () => {
        throw new Error(`notice "${await notice(page)}", wanted "${text}"`);
      });
    };

    await send(alice, "/join #ops");
    await alice.waitForSelector('.conv.active[data-conv="#ops"]');
    await send(alice, "/mode +i");
    await waitForLine(alice, "alice made the room invite-only");
    strictEqual((await carol.request({ type: "join", room: "#ops" })).code, "invite_only");

    await send(alice, "/invite bob");
    await noticeIs(alice, "you invited bob to #ops");
    await send(bob, "/join #ops");
    await bob.waitForSelector('.conv.active[data-conv="#ops"]');
    await send(alice, "/op bob");
    await waitForLine(bob, "alice made bob an operator");
    await send(bob, "/who");
    await noticeIs(bob, "in #ops: alice (operator), bob (operator)");

    await send(bob, "/invite carol");
    await carol.readUntil((f) => f.type === "room" && f.event === "invited" && f.by === "bob");
    strictEqual((await carol.request({ type: "join", room: "#ops" })).type, "ok");
    await send(bob, "/kick carol off topic");
    await waitForLine(alice, "bob kicked carol: off topic");
    const kicked = await carol.readUntil((f) => f.type === "room" && f.event === "kicked");
    strictEqual(kicked.text, "off topic");

    // Not in a room: said so, nothing sent.
    await clickOn(alice, '.conv[data-conv="#lobby"]');
    await send(alice, "/invite carol");
    ok((await notice(alice)).startsWith("/invite works in a room"), await notice(alice));
    deepStrictEqual([...alice.errors, ...bob.errors], []);
  },
);
