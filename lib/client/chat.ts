/**
 * The chat actions (say, msg, who, rename, history, accounts, rooms) over a {@linkcode ServerLink},
 * reporting each outcome as display lines. The menu, the slash commands and the scripting modes
 * all go through here. Passwords are sent, never printed.
 *
 * @example
 * ```ts
 * import { Chat } from "./chat.ts";
 * import type { ServerLink } from "./connection.ts";
 *
 * async function greetBob(link: ServerLink): Promise<void> {
 *   const print = (line: string) => console.log(line);
 *   const chat = new Chat(link, { event: print, reply: print, status: print, problem: print }, false);
 *   await chat.msg("bob", "hi"); // prints "12:03 [you -> bob] hi" or "! could not send to bob: …"
 * }
 * ```
 * @module
 */

import type { ChatActions } from "./commands.ts";
import {
  DisconnectedError,
  type Frame,
  ServerError,
  type ServerLink,
  TooLongError,
} from "./connection.ts";
import {
  renderError,
  renderFrame,
  renderInfo,
  renderRooms,
  renderSentPrivate,
  renderWho,
  safe,
  type View,
} from "./render.ts";
import { isLobby, roomArg, roomKey, roomOf, RoomState } from "./rooms.ts";
import { markerOf } from "../model/read_markers.ts";

/** Where display lines go; each mode routes them (screen, stdout, stderr or nowhere). */
export interface Output {
  /** An incoming event (public, private, presence, notice). */
  event(line: string): void;
  /** The result of the user's own request (who list, sent private message, new name). */
  reply(line: string): void;
  /** A note from the client itself (connected, reconnecting, help). */
  status(line: string): void;
  /** A refused request or another error. */
  problem(line: string): void;
}

/** The line after a run of history (the backlog on joining, a `/history` page). */
export const END_OF_HISTORY = "-- end of history --";

/** How long after the user read something its read markers move: a burst is one `mark`. */
export const MARK_DELAY_MS = 1000;

/**
 * Read markers (a logged-in account's unread counts, kept in step across its connections).
 * Only where a person reads what is shown (the menu); elsewhere counts stay local.
 */
export interface ReadMarkerOptions {
  /** Seed the counts from the account's markers and move them as the user reads. */
  enabled: boolean;
  /** How long reading is collected before the markers move (default {@link MARK_DELAY_MS}). */
  delayMs?: number;
  /** Called when unread counts changed with no line shown (for the status line). */
  onChange?: () => void;
}

/** Asks for a password without echo; resolves with `null` when the user cancels. */
export type AskSecret = (prompt: string) => Promise<string | null>;

/**
 * Chat actions that print their outcome; implements the slash commands' {@linkcode ChatActions}.
 */
export class Chat implements ChatActions {
  /** Errors so far: refused or lost requests, bad commands (the scripting modes' exit status). */
  failures = 0;
  /** The last search, and where its next page starts (undefined: no more). */
  #lastSearch: { query: string; before?: number } | undefined;
  /** The oldest message shown so far, by room key: `/history` pages back from it. */
  readonly #oldestShown = new Map<string, number>();
  /** The pending move of the read markers (see {@linkcode ReadMarkerOptions}). */
  #markTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * `ask`: how to ask for a password (only when stdin is a terminal); `rooms`: the rooms joined
   * and the current one (shared with whoever renders events and the status line).
   */
  constructor(
    readonly link: ServerLink,
    readonly out: Output,
    readonly color: boolean,
    readonly ask?: AskSecret,
    readonly rooms: RoomState = new RoomState(),
    readonly markers: ReadMarkerOptions = { enabled: false },
  ) {}

  get canAsk(): boolean {
    return this.ask !== undefined;
  }

  askSecret(prompt: string): Promise<string | null> {
    return this.ask ? this.ask(prompt) : Promise.resolve(null);
  }

  /**
   * Notes an event that was printed, so that `/history` in its room continues before it, and so
   * that the current room's read marker follows it.
   */
  shown(frame: Frame): void {
    const id = frame.msgId;
    if (frame.type !== "public" || typeof id !== "number" || !Number.isSafeInteger(id)) return;
    this.#markSoon();
    const key = roomKey(roomOf(frame));
    const oldest = this.#oldestShown.get(key);
    if (oldest === undefined || id < oldest) this.#oldestShown.set(key, id);
  }

  /** The viewer for rendering: the current name and room, and the colour setting. */
  get view(): View {
    return { me: this.link.name, color: this.color, room: this.rooms.current };
  }

  /** The `room` field of a request about the current room: none for the lobby. */
  get #here(): { room?: string } {
    return this.rooms.inLobby ? {} : { room: this.rooms.current };
  }

  /** Sends `text` to the current room (the lobby unless one was joined and switched to). */
  say(text: string): Promise<boolean> {
    // The server echoes public messages to their sender, so success prints nothing here.
    const where = this.rooms.inLobby ? "could not send" : `could not send to ${this.rooms.current}`;
    return this.#request({ type: "say", text, ...this.#here }, where, () => {});
  }

  msg(to: string, text: string): Promise<boolean> {
    return this.#request(
      { type: "msg", to, text },
      `could not send to ${to}`,
      (ok) => this.out.reply(renderSentPrivate(to, text, tsOf(ok), this.view, ok.stored === true)),
    );
  }

  /** Prints who is online in the lobby, or the current room's members online. */
  who(): Promise<boolean> {
    return this.#request(
      { type: "who", ...this.#here },
      this.rooms.inLobby ? "could not list who is online" : `could not list ${this.rooms.current}`,
      (ok) => this.out.reply(renderWho(ok.users, this.view, safe(ok.room), ok.operators)),
    );
  }

  rename(name: string): Promise<boolean> {
    return this.#request(
      { type: "rename", name },
      `could not rename to ${name}`,
      (ok) => this.out.reply(renderInfo(`you are now ${safe(ok.name)}`, this.view)),
    );
  }

  /** Prints up to `limit` messages of the current room older than any shown so far. */
  history(limit: number): Promise<boolean> {
    const here = this.#here;
    const before = this.#oldestShown.get(roomKey(this.rooms.current));
    return this.#request(
      { type: "history", limit, ...here, ...(before === undefined ? {} : { before }) },
      "could not fetch the history",
      (ok) => {
        const messages = Array.isArray(ok.messages) ? ok.messages : [];
        if (messages.length === 0) {
          this.info(before === undefined ? "no messages yet" : "no older messages");
        }
        for (const m of messages) {
          if (m === null || typeof m !== "object") continue;
          const frame: Frame = { ...m, type: "public", history: true, ...here };
          this.out.reply(renderFrame(frame, this.view)!);
          this.shown(frame);
        }
        if (messages.length > 0) this.info(END_OF_HISTORY);
      },
    );
  }

  /**
   * Prints the newest messages the server finds for `query` (every word), newest first; without
   * a query, the next older page of the last search.
   */
  search(query?: string): Promise<boolean> {
    const last = this.#lastSearch;
    if (query === undefined && last?.before === undefined) {
      if (!last) this.error("usage: /search WORDS");
      else this.info("no older results");
      return Promise.resolve(last !== undefined);
    }
    const words = query ?? last!.query;
    const before = query === undefined ? last!.before : undefined;
    return this.#request(
      { type: "search", query: words, ...(before === undefined ? {} : { before }) },
      "could not search",
      (ok) => {
        const messages = Array.isArray(ok.messages) ? ok.messages : [];
        if (messages.length === 0) this.info(`nothing found for ${safe(words)}`);
        for (const m of messages) {
          if (m === null || typeof m !== "object") continue;
          const frame: Frame = typeof m.to === "string"
            ? { ...m, type: "private", ...(m.from === this.link.name ? { echo: true } : {}) }
            : { ...m, type: "public", history: true };
          const line = renderFrame(frame, this.view);
          if (line !== null) this.out.reply(line);
        }
        const more = ok.more === true && typeof ok.last === "number";
        this.#lastSearch = { query: words, before: more ? ok.last as number : undefined };
        if (messages.length > 0) {
          this.info(more ? "-- older results: /search --" : "-- end of results --");
        }
      },
    );
  }

  /** The newest messages naming you: the server marks mentions by name, so search for it. */
  mentions(): Promise<boolean> {
    return this.search(this.link.name);
  }

  register(password: string): Promise<boolean> {
    return this.#request(
      { type: "register", password },
      "could not register",
      (ok) => this.out.reply(renderInfo(`you registered ${safe(ok.name)}`, this.view)),
      { retry: false },
    );
  }

  login(name: string, password: string): Promise<boolean> {
    return this.#request(
      { type: "login", name, password },
      `could not log in as ${name}`,
      (ok) => {
        this.out.reply(renderInfo(`you are logged in as ${safe(ok.name)}`, this.view));
        void this.syncMarkers(); // the account's counts replace the guest's
      },
      { retry: false },
    );
  }

  /**
   * Logs in as `name` with a password asked for (at start, when `--name` is registered), up to
   * `attempts` times. Resolves with why it failed, or `null` once logged in.
   */
  async loginAsking(name: string, attempts = 3): Promise<string | null> {
    for (let attempt = 1;; attempt++) {
      const password = await this.askSecret(`password for ${safe(name)}: `);
      if (password === null || password === "") return "cancelled";
      try {
        await this.link.request({ type: "login", name, password });
        return null;
      } catch (e) {
        if (e instanceof DisconnectedError) return e.message;
        if (!(e instanceof ServerError)) throw e;
        if (e.code !== "login_failed" || attempt >= attempts) return describeRefusal(e.frame);
        this.out.problem(renderError(`${e.message}; try again`, this.view));
      }
    }
  }

  passwd(old: string, next: string): Promise<boolean> {
    return this.#request(
      { type: "passwd", old, new: next },
      "could not change the password",
      () => this.out.reply(renderInfo("your password was changed", this.view)),
      { retry: false },
    );
  }

  /**
   * Joins `typed` (creating it if needed) and makes it the current room; a room already joined,
   * or the lobby, only becomes current.
   */
  async join(typed: string): Promise<boolean> {
    const room = roomArg(typed);
    if (isLobby(room) || this.rooms.isMember(room)) return this.#switchTo(room);
    return await this.#request({ type: "join", room }, `could not join ${room}`, (ok) => {
      const name = safe(ok.room) || room;
      this.rooms.join(name);
      this.rooms.switchTo(name);
      this.#markSoon();
      const members = typeof ok.members === "number" ? ok.members : 1;
      const facts = [`${members} member${members === 1 ? "" : "s"}`];
      if (ok.operator === true) facts.push("you are an operator");
      this.info(`you are in ${name} now (${facts.join(", ")}); lines you type go to it`);
      if (safe(ok.topic)) this.info(`topic of ${name}: ${safe(ok.topic)}`);
    });
  }

  #switchTo(room: string): boolean {
    const missed = this.rooms.unreadIn(room) > 0;
    this.rooms.switchTo(room);
    // The count may be of messages this connection never got (from the markers): the room's
    // newest, asked for, is what was read.
    if (missed) void this.#readNewest(room);
    else this.#markSoon();
    const where = this.rooms.inLobby ? "the lobby (everyone)" : this.rooms.current;
    this.info(`lines you type go to ${where} now`);
    return true;
  }

  /** Leaves `typed`, or the current room when none is given; the lobby cannot be left. */
  part(typed?: string): Promise<boolean> {
    const room = typed === undefined ? this.rooms.current : roomArg(typed);
    if (isLobby(room)) {
      this.error("the lobby cannot be left (/quit leaves FastIM)");
      return Promise.resolve(false);
    }
    return this.#request({ type: "part", room }, `could not leave ${room}`, (ok) => {
      const name = safe(ok.room) || room;
      const wasCurrent = this.rooms.isCurrent(name);
      this.rooms.leave(name);
      this.info(
        `you left ${name}${wasCurrent ? `; lines you type go to ${this.rooms.current}` : ""}`,
      );
    });
  }

  /** Lists the rooms one may see, the lobby first. */
  listRooms(): Promise<boolean> {
    const unread = new Map(this.rooms.unread.map((u) => [roomKey(u.room), u.count]));
    return this.#request({ type: "rooms" }, "could not list the rooms", (ok) => {
      for (const line of renderRooms(ok.rooms, this.view, (r) => unread.get(roomKey(r)) ?? 0)) {
        this.out.reply(line);
      }
    });
  }

  /** Shows the current room's topic, or (operators) sets it; `""` clears it. */
  topic(text?: string): Promise<boolean> {
    const room = this.#roomOnly("/topic");
    if (room === null) return Promise.resolve(false);
    const set = text !== undefined;
    return this.#request(
      { type: "topic", room, ...(set ? { text } : {}) },
      `could not ${set ? "set" : "show"} the topic of ${room}`,
      (ok) => {
        // A topic set is announced to the members, this client too, by a room event.
        if (set) return;
        const topic = safe(ok.topic);
        this.out.reply(
          renderInfo(topic ? `topic of ${room}: ${topic}` : `${room} has no topic`, this.view),
        );
      },
    );
  }

  /** (Operators) invites `name` to the current room. */
  invite(name: string): Promise<boolean> {
    const room = this.#roomOnly("/invite");
    if (room === null) return Promise.resolve(false);
    return this.#request(
      { type: "invite", room, name },
      `could not invite ${name} to ${room}`,
      (ok) =>
        this.out.reply(renderInfo(`you invited ${safe(ok.name) || name} to ${room}`, this.view)),
    );
  }

  /** (Operators) kicks `name` from the current room; in the lobby, the server kick (admins). */
  kick(name: string, reason: string): Promise<boolean> {
    const why = reason === "" ? {} : { reason };
    if (this.rooms.inLobby) {
      return this.#request(
        { type: "kick", name, ...why },
        `could not kick ${name}`,
        () => this.out.reply(renderInfo(`you kicked ${name} off the server`, this.view)),
      );
    }
    // Announced to the members, this client too, by a room event.
    const room = this.rooms.current;
    return this.#request({ type: "kick", room, name, ...why }, `could not kick ${name}`, () => {});
  }

  /** (Operators, admins) makes `name`, a member of the current room, an operator. */
  op(name: string): Promise<boolean> {
    const room = this.#roomOnly("/op");
    if (room === null) return Promise.resolve(false);
    return this.#request(
      { type: "op", room, name },
      `could not make ${name} an operator`,
      () => {},
    );
  }

  /** (Operators) makes the current room invite-only, or open to everyone. */
  mode(inviteOnly: boolean): Promise<boolean> {
    const room = this.#roomOnly("/mode");
    if (room === null) return Promise.resolve(false);
    return this.#request({ type: "mode", room, inviteOnly }, `could not change ${room}`, () => {});
  }

  /** (Admins) closes `typed`, or the current room, for good. */
  close(typed?: string): Promise<boolean> {
    const room = typed === undefined ? this.rooms.current : roomArg(typed);
    if (isLobby(room)) {
      this.error("the lobby cannot be closed");
      return Promise.resolve(false);
    }
    return this.#request({ type: "close", room }, `could not close ${room}`, (ok) => {
      const name = safe(ok.room) || room;
      this.rooms.leave(name);
      this.out.reply(renderInfo(`you closed ${name}`, this.view));
    });
  }

  /**
   * Joins again, quietly, rooms a reconnect left (a guest's rooms end with its connection); the
   * current room stays current when rejoined.
   */
  async rejoin(rooms: readonly string[], current: string): Promise<void> {
    for (const room of rooms) {
      await this.#request({ type: "join", room }, `could not join ${room} again`, (ok) => {
        this.rooms.join(safe(ok.room) || room);
        if (roomKey(room) === roomKey(current)) this.rooms.switchTo(room);
      });
    }
  }

  /**
   * Seeds the unread counts from the account's read markers (after the welcome, a reconnect or
   * a login): what the account's other devices read, and what came while none was online.
   */
  async syncMarkers(): Promise<void> {
    if (!this.#keepsMarkers) return;
    await this.#request({ type: "markers" }, "could not fetch the read markers", (ok) => {
      const list = (Array.isArray(ok.markers) ? ok.markers : []).map(markerOf);
      this.rooms.seed(list.filter((m) => m !== null));
      this.markers.onChange?.();
      this.#markSoon(); // what was read before this came (the current room) moves them on
    });
  }

  /**
   * Moves the markers of the rooms read since the last move, now. Each `mark`'s reply carries the
   * room's unread count as the server has it, which the count follows.
   */
  async flushMarks(): Promise<void> {
    clearTimeout(this.#markTimer);
    this.#markTimer = undefined;
    if (!this.#keepsMarkers) return;
    for (const { room, msgId } of this.rooms.dueMarks()) {
      const target = isLobby(room) ? "#lobby" : room;
      // Not printed when refused or lost: nothing the user asked for failed, and the marker
      // is due again after the next seed (reconnect); a marker never moves back.
      await this.link.request({ type: "mark", target, msgId }, (reply) => {
        const marker = reply.type === "ok" ? markerOf(reply) : null;
        if (marker && this.rooms.follow(marker)) this.markers.onChange?.();
      }).catch(() => {});
    }
  }

  /** Notes `room` read up to its newest message (asked of the server), and moves its marker. */
  async #readNewest(room: string): Promise<void> {
    if (!this.#keepsMarkers) return;
    const where = isLobby(room) ? {} : { room };
    // Not printed when refused or lost: the user asked only to switch, which was done.
    await this.link.request({ type: "history", limit: 1, ...where }, (reply) => {
      const newest = Array.isArray(reply.messages) ? reply.messages.at(-1)?.msgId : undefined;
      if (reply.type === "ok" && typeof newest === "number") this.rooms.readUpTo(room, newest);
      this.#markSoon();
    }).catch(() => {});
  }

  /** Whether this session keeps the account's read markers: enabled, and logged in. */
  get #keepsMarkers(): boolean {
    return this.markers.enabled && this.link.account !== undefined;
  }

  /** Moves the read markers after a short while, collecting what is read meanwhile. */
  #markSoon(): void {
    if (!this.#keepsMarkers) return;
    if (this.#markTimer !== undefined) return;
    this.#markTimer = setTimeout(() => {
      this.#markTimer = undefined;
      void this.flushMarks();
    }, this.markers.delayMs ?? MARK_DELAY_MS);
  }

  /** The current room for a room-only command, or `null` (after saying so) in the lobby. */
  #roomOnly(command: string): string | null {
    if (!this.rooms.inLobby) return this.rooms.current;
    this.error(`${command} works in a room, not in the lobby: /join #ROOM first`);
    return null;
  }

  info(text: string): void {
    this.out.status(renderInfo(text, this.view));
  }

  error(text: string): void {
    this.failures++;
    this.out.problem(renderError(text, this.view));
  }

  async #request(
    frame: Record<string, unknown> & { type: string },
    failure: string,
    onOk: (ok: Frame) => void,
    opts: { retry?: boolean } = {},
  ): Promise<boolean> {
    for (let attempt = 1;; attempt++) {
      // Not for accounts: a failed-login limit is minutes long, and the user should know.
      const retry = (reply: Frame) =>
        opts.retry !== false && reply.code === "rate_limited" && attempt < RATE_LIMIT_ATTEMPTS;
      try {
        // Printed from the reply hook so the outcome appears in order with the events around it.
        await this.link.request(frame, (reply) => {
          if (reply.type === "ok") onOk(reply);
          else if (!retry(reply)) this.error(`${failure}: ${describeRefusal(reply)}`);
        });
        return true;
      } catch (e) {
        if (e instanceof ServerError && retry(e.frame)) {
          // A refused request was not carried out, so sending it again is safe.
          await new Promise((r) => setTimeout(r, retryDelayMs(e.frame)));
          continue;
        }
        if (e instanceof ServerError) return false; // already reported by the hook
        if (e instanceof TooLongError) {
          this.error(e.message);
          return false;
        }
        if (!(e instanceof DisconnectedError)) throw e;
        this.error(`${failure}: ${e.message}`);
        return false;
      }
    }
  }
}

/** How often a request refused for a rate limit is tried before the refusal is shown. */
export const RATE_LIMIT_ATTEMPTS = 8;

/**
 * How long to wait before retrying a `rate_limited` request: the server's `retryAfterMs` if it
 * sends one, else the wait its message names ("… try again in 0.4 s"), else one second.
 */
export function retryDelayMs(error: Frame): number {
  if (typeof error.retryAfterMs === "number" && error.retryAfterMs >= 0) {
    return Math.min(error.retryAfterMs, 60_000);
  }
  const m = /try again in (\d+(?:\.\d+)?) ?(ms|s|min)\b/.exec(safe(error.message));
  if (!m) return 1000;
  const ms = Number(m[1]) * (m[2] === "min" ? 60_000 : m[2] === "s" ? 1000 : 1);
  return Math.min(Math.max(ms, 50), 60_000);
}

/**
 * The server's reason for refusing a request, in this client's terms where the server's message
 * names a text-dialect command (`login|NAME|PASSWORD`) the user cannot type here.
 */
export function describeRefusal(error: Frame): string {
  switch (error.code) {
    case "name_registered":
      return "this name is registered (if it is yours: /login NAME)";
    case "name_required":
      return "choose a name first (/nick NAME), then /register";
    case "not_logged_in":
      return "log in first (/login NAME)";
    default:
      // Room errors name the text dialect's command ("join|#dev creates it"): say the client's.
      return new ServerError(error).message.replace(/\bjoin\|(#[^\s:|]+)/g, "/join $1");
  }
}

function tsOf(frame: Frame): number {
  return typeof frame.ts === "number" && Number.isFinite(frame.ts) ? frame.ts : Date.now();
}
