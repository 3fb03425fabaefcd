/**
 * Regenerates the page's screenshots in docs/ (`deno task screenshots`) with the browser of the
 * test suite (tests/helpers/browser.ts): a real server, a short conversation between a page, a
 * terminal client and a bot, then the desktop and the phone view.
 *
 * @module
 */

import {
  clickOn,
  DESKTOP,
  launchBrowser,
  openChat,
  PHONE,
  send,
  waitForLine,
} from "../tests/helpers/browser.ts";
import { JsonClient } from "../tests/helpers/lines.ts";
import { httpPort, startServer } from "../tests/helpers/server.ts";

const OUT = new URL("../docs/", import.meta.url);

await using server = await startServer();
const port = await httpPort(server);
using grace = await JsonClient.connect(server.port, { name: "grace" });
using linus = await JsonClient.connect(server.port, { name: "linus" });
await grace.request({
  type: "say",
  text: "morning all! the release notes are up: https://example.org/notes",
});
await linus.request({ type: "say", text: "nice, reading them now" });
await using browser = await launchBrowser();
const ada = await openChat(browser, port, "ada", { viewport: DESKTOP });
await send(ada, "/join #dev");
await ada.waitForSelector('.conv.active[data-conv="#dev"]');
await clickOn(ada, '.conv[data-conv="#lobby"]');
await linus.request({ type: "join", room: "#dev" });
await linus.request({ type: "say", room: "#dev", text: "build is green again" });
await linus.request({ type: "say", room: "#dev", text: "shipping the page today" });
await send(ada, "hi! the browser client works offline too");
await waitForLine(ada, "ada: hi! the browser client works offline too");
await linus.send({ type: "msg", to: "ada", text: "can you review my patch later?" });
await grace.request({ type: "say", text: "<b>tags</b> show as text, as they should" });
await waitForLine(ada, "grace: <b>tags</b> show as text, as they should");
await ada.waitForSelector('.conv[data-conv="@linus"] .unread');
await ada.screenshot({ path: new URL("screenshot-desktop.png", OUT).pathname });
const phone = await openChat(browser, port, "pocket", { viewport: PHONE, dark: true });
await send(phone, "and this is the phone, in dark mode");
await waitForLine(phone, "pocket: and this is the phone, in dark mode");
await phone.screenshot({ path: new URL("screenshot-phone.png", OUT).pathname });
console.error("wrote docs/screenshot-desktop.png and docs/screenshot-phone.png");
