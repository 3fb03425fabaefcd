/**
 * The chat page: builds the DOM, joins with a name (or logs in), and shows the lobby and private
 * conversations with unread counts, who is online, and scroll-back. After a reconnect it fetches
 * exactly what it missed by message id. `deno task bundle` turns this into `static/app.js`.
 *
 * @module
 */

/// <reference lib="dom" />

import { askToNotify, notifyMention } from "./notify.ts";
import type {
  OkFrame,
  PresenceFrame,
  Reply,
  RoomFrame,
  ServerFrame,
  WelcomeFrame,
} from "./frames.ts";
import { ChatSocket } from "./chat_socket.ts";
import { ChatState, isPublic, type Line, LOBBY, privateId, roomId } from "./state.ts";
import { markerOf } from "../model/read_markers.ts";
import { el, localTime, renderText } from "./render.ts";

/** Messages fetched per scroll-back step and per reconnect catch-up step. */
const PAGE = 100;
/** How long after the user read something its read markers move: a burst is one `mark`. */
const MARK_DELAY_MS = 1000;

const state = new ChatState();
let chat: ChatSocket;
/** The last message sent, for the Up key. */
let lastSent = "";
/** Says sent while offline, or whose reply was lost to a drop: settled after the catch-up. */
let unsure: { id: string; text: string; after: number }[] = [];
/** The server's `--max-line`, from the welcome: a longer request would close the connection. */
let maxLine = 8192;
/** Logged in as a registered name: unread counts follow the account's read markers. */
let loggedIn = false;
/** The pending move of the read markers. */
let markTimer: ReturnType<typeof setTimeout> | undefined;
const encoder = new TextEncoder();

// ---- the DOM -------------------------------------------------------------------------------

const convList = el("nav", { class: "convs", "aria-label": "Conversations" });
const onlineTitle = el("h2", { class: "online-title" }, "Online");
const onlineList = el("ul", { class: "online" });
const side = el(
  "aside",
  { class: "side" },
  el("h1", { class: "brand" }, "FastIM"),
  convList,
  onlineTitle,
  onlineList,
);
const menuButton = el("button", { class: "menu", type: "button", "aria-label": "Conversations" });
menuButton.textContent = "\u2630";
const title = el("h2", { class: "title" }, "Lobby");
const status = el("span", { class: "status", role: "status" });
const olderButton = el("button", { class: "older", type: "button" }, "Load older messages");
const lines = el("ol", { class: "lines" });
const log = el("div", { class: "log", role: "log" }, olderButton, lines);
const input = el("input", {
  class: "input",
  name: "text",
  autocomplete: "off",
  placeholder: "Message  (/join #ROOM, /msg NAME TEXT, /nick NAME, /help)",
  "aria-label": "Message",
});
const compose = el(
  "form",
  { class: "compose" },
  input,
  el("button", { type: "submit", class: "send" }, "Send"),
);
const notice = el("p", { class: "notice", role: "alert" });
const main = el(
  "main",
  { class: "main" },
  el("header", { class: "top" }, menuButton, title, status),
  notice,
  log,
  compose,
);
const app = el("div", { class: "app" }, side, main);

const nameInput = el("input", {
  name: "name",
  autocomplete: "username",
  required: "",
  maxlength: "64",
  "aria-label": "Name",
});
const passwordInput = el("input", {
  name: "password",
  type: "password",
  autocomplete: "current-password",
  "aria-label": "Password",
});
const loginError = el("p", { class: "login-error", role: "alert" });
const login = el(
  "form",
  { class: "login" },
  el("h1", {}, "FastIM"),
  el("label", {}, "Name", nameInput),
  el("label", {}, "Password (only for a registered name)", passwordInput),
  el("button", { type: "submit" }, "Join"),
  loginError,
);

// ---- showing the model ---------------------------------------------------------------------

function lineElement(line: Line): HTMLLIElement {
  const time = el("time", { datetime: new Date(line.ts).toISOString() }, localTime(line.ts));
  if (line.from === "") {
    return el("li", { class: "line system", "data-msg-id": String(line.msgId) }, time, line.text);
  }
  const text = el("span", { class: "text" });
  text.append(renderText(line.text));
  return el(
    "li",
    { class: line.own ? "line own" : "line", "data-msg-id": String(line.msgId) },
    time,
    el("b", { class: "from" }, line.from),
    text,
  );
}

function showLines(): void {
  const c = state.conversation(state.active);
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  lines.replaceChildren(...c.lines.map(lineElement));
  title.textContent = c.title;
  olderButton.hidden = !isPublic(state.active) || !c.olderLeft;
  if (nearBottom) log.scrollTop = log.scrollHeight;
}

function showLists(): void {
  convList.replaceChildren(
    ...[...state.conversations.values()].map((c) => {
      const b = el("button", {
        type: "button",
        class: c.id === state.active ? "conv active" : "conv",
        "data-conv": c.id,
      }, c.title);
      if (c.unread > 0) b.append(el("span", { class: "unread" }, String(c.unread)));
      b.onclick = () => openConversation(c.id);
      return b;
    }),
  );
  const names = [...state.online.keys()].sort((a, b) => a.localeCompare(b));
  onlineTitle.textContent = `Online (${names.length})`;
  onlineList.replaceChildren(...names.map((name) => {
    const b = el("button", { type: "button", class: "user" }, name);
    if (name === state.me) b.append(" (you)");
    else b.onclick = () => openConversation(privateId(name), name);
    return el("li", {}, b);
  }));
  const unread = state.unread;
  document.title = unread > 0 ? `(${unread}) FastIM` : "FastIM";
}

function render(): void {
  showLists();
  showLines();
  if (state.marksDue) markSoon();
}

function openConversation(id: string, titleText?: string): void {
  const missed = state.conversation(id, titleText).unread;
  state.open(id);
  app.classList.remove("show-side");
  render();
  input.focus();
  // A count from the account's markers may be of messages this page never got: fetch them.
  if (loggedIn && missed > 0 && isPublic(id)) void fetchMissed(id, missed);
}

// ---- read markers (docs/PROTOCOL.md, "History: catch-up and read markers") -------------------

/** Seeds the unread counts from the account's markers (after the welcome, and a reconnect's). */
async function syncMarkers(): Promise<void> {
  const r = await chat.request({ type: "markers" });
  if (r.type !== "ok" || !Array.isArray(r.markers)) return;
  state.seed(r.markers.map(markerOf).filter((m) => m !== null));
}

/** Moves the read markers after a short while, collecting what is read meanwhile. */
function markSoon(): void {
  if (!loggedIn || markTimer !== undefined) return;
  markTimer = setTimeout(() => {
    markTimer = undefined;
    void flushMarks();
  }, MARK_DELAY_MS);
}

/** Moves the markers of what was read; each reply's count is the server's, which the page takes. */
async function flushMarks(): Promise<void> {
  for (const { target, msgId } of state.dueMarks()) {
    // A refusal or a drop is not shown: the marker is due again after the next seed.
    const r = await chat.request({ type: "mark", target, msgId });
    const marker = r.type === "ok" ? markerOf(r) : null;
    if (marker) state.follow(marker);
  }
  render();
}

/** Shows the `count` newest messages of public conversation `id`: the ones it missed. */
async function fetchMissed(id: string, count: number): Promise<void> {
  const r = await chat.request({ type: "history", limit: Math.min(count, PAGE), ...roomField(id) });
  if (r.type !== "ok" || !r.messages) return;
  for (const m of r.messages) state.add(id, { ...m, own: m.from === state.me }, true);
  render();
}

state.visible = document.visibilityState === "visible";
document.addEventListener("visibilitychange", () => {
  state.setVisible(document.visibilityState === "visible");
  if (chat) render();
});

function say(text: string): void {
  notice.textContent = text;
  notice.hidden = text === "";
}

// ---- frames from the server ----------------------------------------------------------------

function presenceText(f: PresenceFrame): string {
  if (f.event === "renamed") return `${f.old} is now ${f.name}`;
  return f.event === "online" ? `${f.name} joined` : `${f.name} left`;
}

/** The `room` field of a request about public conversation `id` (none for the lobby). */
function roomField(id: string): { room?: string } {
  return id === LOBBY ? {} : { room: state.conversation(id).title };
}

/** A system line (someone joined, a topic...) in conversation `id`. */
function addSystem(id: string, text: string, msgId?: number, ts = Date.now()): void {
  // Lines without a server id (the page's own) sort after everything shown so far.
  const c = state.conversation(id);
  const last = c.lines.at(-1)?.msgId ?? 0;
  state.add(id, { msgId: msgId ?? last + 0.001, ts, from: "", text, own: false });
}

function roomText(f: RoomFrame): string | undefined {
  switch (f.event) {
    case "joined":
      return `${f.name} joined`;
    case "left":
      return `${f.name} left`;
    case "topic":
      return f.text ? `${f.name} set the topic: ${f.text}` : `${f.name} cleared the topic`;
    case "kicked":
      return `${f.by} kicked ${f.name}${f.text ? `: ${f.text}` : ""}`;
    case "mode":
      return f.inviteOnly
        ? `${f.name} made the room invite-only`
        : `${f.name} opened the room to everyone`;
    case "op":
      return `${f.by} made ${f.name} an operator`;
    default:
      return undefined;
  }
}

function onRoom(f: RoomFrame): void {
  const id = roomId(f.room);
  if (f.event === "invited") return say(`${f.by} invited you to ${f.room}: /join ${f.room}`);
  if (f.event === "unread") return; // "Load older messages" pages back
  if (f.event === "closed") {
    state.remove(id);
    return say(`${f.room} was closed by ${f.name}`);
  }
  if (f.event === "kicked" && f.name === state.me) {
    state.remove(id);
    return say(`${f.by} kicked you from ${f.room}${f.text ? `: ${f.text}` : ""}`);
  }
  state.conversation(id, f.room).title = f.room;
  const text = roomText(f);
  if (text && f.msgId !== undefined) addSystem(id, text, f.msgId, f.ts);
}

function onFrame(f: ServerFrame): void {
  switch (f.type) {
    case "room":
      onRoom(f);
      break;
    case "public":
      if (f.room) state.conversation(roomId(f.room), f.room);
      state.add(f.room ? roomId(f.room) : LOBBY, {
        msgId: f.msgId,
        ts: f.ts,
        from: f.from,
        text: f.text,
        own: f.from === state.me,
      }, f.history === true);
      if (f.mention && !f.history) notifyMention(f.from, f.text, f.room ?? "#lobby");
      break;
    case "private":
      // Sent from another of this account's connections: it belongs to the receiver's thread.
      if (f.echo) {
        state.conversation(privateId(f.to), f.to);
        state.add(privateId(f.to), { ...f, own: true });
        break;
      }
      state.add(privateId(f.from), { ...f, own: false });
      state.conversation(privateId(f.from)).title = f.from;
      if (f.offline) void chat.request({ type: "ack", msgIds: [f.msgId] });
      break;
    case "presence":
      if (f.event === "online") state.online.set(f.name, f.addr);
      else if (f.event === "offline") state.online.delete(f.name);
      else state.renamed(f.old ?? "", f.name, f.addr);
      // A newcomer is announced under its address, then names itself: one line says both.
      if (
        f.event === "renamed" && f.old === f.addr &&
        state.retitle(`${f.old} joined`, `${f.name} joined`)
      ) {
        break;
      }
      state.add(LOBBY, { msgId: f.msgId, ts: f.ts, from: "", text: presenceText(f), own: false });
      break;
    case "marker": {
      // Another connection of this account read: its count here becomes the server's.
      const marker = markerOf(f);
      if (marker) state.follow(marker);
      break;
    }
    case "notice":
      say(f.text);
      break;
    case "error":
      say(f.message);
      break;
  }
  render();
}

async function onWelcome(w: WelcomeFrame, resumed: boolean): Promise<void> {
  // Message ids rise across the server: what the page had before the drop, it has seen.
  let seenBefore = 0;
  if (resumed) {
    for (const c of state.conversations.values()) seenBefore = Math.max(seenBefore, c.lastId);
  }
  state.me = w.name;
  state.online.clear();
  for (const u of w.online) state.online.set(u.name, u.addr);
  if (w.nameError) {
    if (!resumed) {
      // The name was refused: back to the form, saying why.
      chat.stop();
      loginError.textContent = w.nameError.message;
      document.body.replaceChildren(login);
      nameInput.focus();
      return;
    }
    say(`could not take the name back: ${w.nameError.message}`);
  }
  chat.setHello({
    name: w.name,
    ...(passwordInput.value ? { password: passwordInput.value } : {}),
  });
  maxLine = w.limits.maxLine;
  if (!document.body.contains(app)) document.body.replaceChildren(app);
  status.textContent = "";
  app.classList.remove("offline");
  for (const r of w.rooms ?? []) state.conversation(roomId(r.room), r.room);
  loggedIn = typeof w.account === "string";
  if (resumed) await resume();
  await settleUnsure();
  if (loggedIn) await syncMarkers();
  if (loggedIn) await loadPrivate(seenBefore);
  render();
}

/**
 * A logged-in account's private conversations from the server's private history: on a new page
 * (`since` 0) the newest page of them shows again, not counted unread (there is no telling what
 * was read); after a reconnect, what came after `since` (the newest message id the page had seen
 * before the drop), newest pages first, counted unread. Lines already shown are not shown twice.
 */
function loadPrivate(since: number): Promise<void> {
  return pageBack({ room: "private" }, since, (m) => {
    if (m.to === undefined) return;
    const own = m.from.toLowerCase() === state.me.toLowerCase();
    const peer = own ? m.to : m.from;
    state.conversation(privateId(peer), peer);
    state.add(privateId(peer), { ...m, own }, since === 0);
  }, since === 0);
}

/** A message of a `history` reply. */
type HistoryMessage = NonNullable<OkFrame["messages"]>[number];

/**
 * Pages back through `history` (of the lobby, a room as `fields` say, or `private`) from the
 * newest, handing `take` each message after `since`, until it reaches `since`: message ids make
 * this exact (nothing lost, nothing shown twice). With `onePage`, the newest page only.
 */
async function pageBack(
  fields: { room?: string },
  since: number,
  take: (m: HistoryMessage) => void,
  onePage = false,
): Promise<void> {
  let before: number | undefined;
  for (;;) {
    const reply = await chat.request({
      type: "history",
      limit: PAGE,
      ...fields,
      ...(before ? { before } : {}),
    });
    if (reply.type !== "ok" || !reply.messages) return;
    const messages = reply.messages;
    for (const m of messages) if (m.msgId > since) take(m);
    if (onePage || messages.length < PAGE || messages.length === 0) return;
    if (messages[0].msgId <= since) return;
    before = messages[0].msgId;
  }
}

/**
 * Fetches the messages that came to public conversation `id` (the lobby or a room) while the page
 * was away.
 */
function catchUp(id: string): Promise<void> {
  return pageBack(roomField(id), state.conversation(id).lastId, (m) => {
    state.add(id, { ...m, own: m.from === state.me }, false);
  });
}

/**
 * After a reconnect: the rooms are joined again (a guest's membership ends with its connection)
 * and every public conversation catches up.
 */
async function resume(): Promise<void> {
  for (const c of [...state.conversations.values()]) {
    if (!isPublic(c.id)) continue;
    if (c.id !== LOBBY) {
      const r = await chat.request({ type: "join", room: c.title });
      if (r.type === "error") {
        if (r.code === "disconnected") return;
        addSystem(c.id, `could not rejoin ${c.title}: ${r.message}`);
        continue;
      }
    }
    await catchUp(c.id);
  }
}

/**
 * Says that may or may not have reached the server (sent just before a drop) are sent again only
 * when the catch-up did not bring them back; says typed while offline are sent now.
 */
async function settleUnsure(): Promise<void> {
  const waiting = unsure;
  unsure = [];
  for (const u of waiting) {
    const lines = state.conversation(u.id).lines;
    const arrived = lines.some((l) => l.own && l.text === u.text && l.msgId > u.after);
    if (!arrived) await send(u.id, u.text);
  }
}

// ---- input ---------------------------------------------------------------------------------

function reply(r: Reply): OkFrame | undefined {
  if (r.type === "ok") return r;
  say(r.message);
  return undefined;
}

/** Says `text` in public conversation `id` (the lobby or a room). */
async function send(id: string, text: string): Promise<void> {
  const after = state.conversation(id).lastId;
  if (!chat.online) {
    unsure.push({ id, text, after });
    say("not connected: the message will be sent when the connection is back");
    return;
  }
  const r = await chat.request({ type: "say", text, ...roomField(id) });
  if (r.type === "error" && r.code === "disconnected") unsure.push({ id, text, after });
  else reply(r);
}

async function sendPrivate(to: string, text: string): Promise<void> {
  const ok = reply(await chat.request({ type: "msg", to, text }));
  if (!ok || ok.msgId === undefined) return;
  const id = privateId(to);
  state.conversation(id, to);
  state.add(id, { msgId: ok.msgId, ts: ok.ts ?? Date.now(), from: state.me, text, own: true });
  if (ok.stored) say(`${to} is offline: the message waits for them`);
  render();
}

/** Commands about the room shown: its members, and what its operators (and admins) may do. */
const ROOM_COMMANDS = new Set(["who", "invite", "kick", "op", "mode", "close"]);

async function roomCommand(verb: string, rest: string): Promise<void> {
  if (!isPublic(state.active) || state.active === LOBBY) {
    if (verb === "who") return say(`online: ${[...state.online.keys()].join(", ")}`);
    return say(`/${verb} works in a room: open one, or /join #ROOM`);
  }
  const room = state.conversation(state.active).title;
  const [, name = "", reason = ""] = /^(\S*)\s*(.*)$/.exec(rest) ?? [];
  if (verb === "who") {
    const ok = reply(await chat.request({ type: "who", room }));
    if (!ok) return;
    const ops = new Set(ok.operators ?? []);
    const names = (ok.users ?? []).map((u) => ops.has(u.name) ? `${u.name} (operator)` : u.name);
    return say(`in ${room}: ${names.join(", ")}`);
  }
  if (verb === "close") {
    if (reply(await chat.request({ type: "close", room }))) {
      state.remove(state.active);
      render();
    }
    return;
  }
  if (verb === "mode") {
    if (rest !== "+i" && rest !== "-i") return say("/mode +i (invite-only) or /mode -i (open)");
    reply(await chat.request({ type: "mode", room, inviteOnly: rest === "+i" }));
    return;
  }
  if (name === "") return say(`/${verb} NAME${verb === "kick" ? " [REASON]" : ""}`);
  if (verb === "invite") {
    if (reply(await chat.request({ type: "invite", room, name }))) {
      say(`you invited ${name} to ${room}`);
    }
  } else if (verb === "kick") {
    reply(await chat.request({ type: "kick", room, name, ...(reason ? { reason } : {}) }));
  } else {
    reply(await chat.request({ type: "op", room, name }));
  }
}

async function command(text: string): Promise<void> {
  const [, verb, rest = ""] = /^\/(\S+)\s*(.*)$/.exec(text) ?? [];
  if (verb === "nick" && rest) {
    const ok = reply(await chat.request({ type: "rename", name: rest }));
    if (ok?.name) {
      state.online.delete(state.me);
      state.me = ok.name;
      state.online.set(ok.name, "");
      chat.setHello({ name: ok.name });
      render();
    }
  } else if (verb === "msg" && /^\S+\s+\S/.test(rest)) {
    const [, to, body] = /^(\S+)\s+(.*)$/.exec(rest)!;
    openConversation(privateId(to), to);
    await sendPrivate(to, body);
  } else if (verb === "join" && rest) {
    const ok = reply(await chat.request({ type: "join", room: rest }));
    if (ok?.room) {
      const id = roomId(ok.room);
      state.conversation(id, ok.room);
      if (ok.topic) addSystem(id, `topic: ${ok.topic}`);
      openConversation(id);
    }
  } else if (verb === "part" && state.active !== LOBBY && isPublic(state.active)) {
    const room = state.conversation(state.active).title;
    if (reply(await chat.request({ type: "part", room }))) {
      state.remove(state.active);
      render();
    }
  } else if (verb === "topic" && isPublic(state.active) && state.active !== LOBBY) {
    const room = state.conversation(state.active).title;
    reply(await chat.request({ type: "topic", room, ...(rest ? { text: rest } : {}) }));
  } else if (verb === "rooms") {
    const ok = reply(await chat.request({ type: "rooms" }));
    const list = (ok?.rooms ?? []).filter((r) => r.room.toLowerCase() !== LOBBY);
    say(
      list.length === 0
        ? "no rooms yet: /join #NAME creates one"
        : "rooms: " + list.map((r) => `${r.room} (${r.members})`).join(", "),
    );
  } else if (ROOM_COMMANDS.has(verb)) {
    await roomCommand(verb, rest);
  } else if (verb === "register" && rest) {
    const ok = reply(await chat.request({ type: "register", password: rest }));
    if (ok) {
      loggedIn = true; // from now on the account keeps read markers
      passwordInput.value = rest;
      chat.setHello({ name: state.me, password: rest });
      say(`the name ${state.me} is now registered to you`);
    }
  } else {
    say(
      "commands: /join #ROOM, /part, /topic TEXT, /rooms, /who, /nick NAME, /msg NAME TEXT, " +
        "/register PASSWORD; in a room, for its operators: /invite NAME, /kick NAME [REASON], " +
        "/op NAME, /mode +i|-i; for server admins: /close",
    );
  }
}

compose.onsubmit = (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (text === "") return;
  // The longest request this text can make (a private message carries the name too).
  const bytes = encoder.encode(JSON.stringify({ type: "msg", id: 1e9, to: "", text })).length + 64;
  if (bytes > maxLine) {
    say(`message too long: the server takes at most ${maxLine} bytes per line; shorten it`);
    return;
  }
  input.value = "";
  askToNotify(); // from the user's action, as browsers require
  lastSent = text;
  say("");
  if (text.startsWith("/")) void command(text);
  else if (isPublic(state.active)) void send(state.active, text);
  else void sendPrivate(state.conversation(state.active).title, text);
};

input.onkeydown = (e) => {
  if (e.key === "ArrowUp" && input.value === "" && lastSent !== "") {
    e.preventDefault();
    input.value = lastSent;
  }
};

menuButton.onclick = () => app.classList.toggle("show-side");

olderButton.onclick = async () => {
  const id = state.active;
  const c = state.conversation(id);
  const before = c.lines.find((l) => l.from !== "")?.msgId;
  const ok = reply(
    await chat.request({
      type: "history",
      limit: PAGE,
      ...roomField(id),
      ...(before ? { before } : {}),
    }),
  );
  if (!ok?.messages) return;
  if (ok.messages.length < PAGE) c.olderLeft = false;
  const height = log.scrollHeight;
  for (const m of ok.messages) state.add(id, { ...m, own: m.from === state.me }, true);
  render();
  log.scrollTop += log.scrollHeight - height;
};

login.onsubmit = (e) => {
  e.preventDefault();
  loginError.textContent = "";
  const name = nameInput.value.trim();
  const password = passwordInput.value;
  chat = new ChatSocket(new URL("/ws", location.href), {
    welcome: (w, resumed) => void onWelcome(w, resumed),
    frame: onFrame,
    down(reason, retryInMs) {
      app.classList.add("offline");
      status.textContent = retryInMs === undefined
        ? "disconnected"
        : `reconnecting in ${Math.ceil(retryInMs / 1000)} s\u2026`;
      if (reason && reason !== "connection lost") say(reason);
    },
  });
  chat.start({ name, ...(password ? { password } : {}) });
};

document.body.replaceChildren(login);
nameInput.focus();
