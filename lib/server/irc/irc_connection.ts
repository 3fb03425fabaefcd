/**
 * One IRC client on the chat: reads IRC lines from a {@link Transport} (the same framing, flood
 * guard and bounded outbox as every connection), carries registration (`NICK`, `USER`, `PASS`, `CAP`
 * and SASL PLAIN), turns commands into chat requests through the {@link ChatGateway}, and chat
 * events into IRC lines (irc_render.ts). The user joins the chat at connect, named after its
 * address like any other connection; registration renames it to its nick (or logs it in).
 *
 * @module
 */

import type { Requester } from "../../core/dispatcher.ts";
import type { Peer, User } from "../../core/user.ts";
import { isLobby, LOBBY } from "../../core/rooms.ts";
import type { ChatEvent, KickCode, NoticeEvent } from "../../protocol/events.ts";
import { formatIrcLine, type IrcMessage, parseIrcLine } from "../../protocol/irc_message.ts";
import { LineSplitter, LineTooLongError } from "../../protocol/line_splitter.ts";
import type { Reply, Request } from "../../protocol/requests.ts";
import { nameKey } from "../../shared/names.ts";
import { sanitizeText } from "../../shared/sanitize.ts";
import { VERSION } from "../../shared/version.ts";
import {
  type CloseReason,
  formatAddr,
  notice,
  type ServedConnection,
  type ServerContext,
  type Transport,
} from "../connection.ts";
import { counters, countRequest } from "../http/metrics.ts";
import { ConnectionLifecycle } from "../connection_lifecycle.ts";
import { FloodGuard, type Verdict } from "../rate_limit.ts";
import { badNick, hostOf, nameOf, nickOf } from "./irc_names.ts";
import { errorNumeric, N } from "./numerics.ts";
import { type Recipient, renderEvent, SERVER_NAME, sourceOf, tagsFor } from "./irc_render.ts";

const FIRST_READ_BYTES = 256;
const MAX_READ_BYTES = 64 * 1024;
/** Events held until registration completes (a client is not shown chat before its welcome). */
const MAX_HELD_EVENTS = 1000;
/** IRC's own line limit (RFC 1459: 512 bytes with CR LF); a larger --max-line is announced. */
const IRC_LINE_BYTES = 512;
/** Most targets of one PRIVMSG or NOTICE (ISUPPORT MAXTARGETS). */
const MAX_TARGETS = 4;
/** Bytes of one SASL exchange, base64 (a PLAIN answer is a name and a password). */
const MAX_SASL_BYTES = 2048;
/** Names per 353 line, so that each stays well under 512 bytes. */
const NAMES_PER_LINE = 12;
/** The capabilities offered in `CAP LS`. */
const CAPS = ["batch", "echo-message", "message-tags", "sasl", "server-time"];

const encoder = new TextEncoder();

/** What each command costs the flood guard, as the request type it is charged as. */
function rateOf(command: string): Request["type"] {
  switch (command) {
    case "PRIVMSG":
    case "NOTICE":
      return "say";
    case "NICK":
      return "rename";
    case "WHO":
    case "WHOIS":
    case "NAMES":
    case "LIST":
      return "who";
    case "PONG":
    case "QUIT":
    case "CAP":
    case "USER":
    case "PASS":
    case "AUTHENTICATE":
      return "quit"; // free: registration and keep-alive cost nothing but their bytes
    default:
      return "ping";
  }
}

/**
 * One IRC client connection.
 *
 * @example
 * ```ts
 * import { IrcConnection } from "./irc_connection.ts";
 * import type { ServerContext } from "../connection.ts";
 *
 * // `ctx` is the server: see listener.ts.
 * async function serveOne(listener: Deno.Listener, ctx: ServerContext): Promise<void> {
 *   await new IrcConnection(await listener.accept(), ctx).run();
 * }
 * ```
 */
export class IrcConnection implements Peer, Requester, ServedConnection {
  readonly addr: string;
  readonly ip: string;
  readonly user: User;
  /** IRC clients take delivery as written; they have no acknowledgement. */
  readonly sendsAcks = false;
  lastInputAt = Date.now();
  readonly guard: FloodGuard;
  /** The outbox and closing, shared with ClientConnection (../connection_lifecycle.ts). */
  readonly #life: ConnectionLifecycle;
  readonly #splitter: LineSplitter;
  readonly #maxRead: number;
  readonly #maxLine: number;
  /** The nick the client knows itself by; `*` until registered. */
  #nick = "*";
  #registered = false;
  #registering = false;
  #wantNick: string | undefined;
  #userSeen = false;
  #password: string | undefined;
  /** Between `CAP LS`/`REQ` and `CAP END` registration waits. */
  #capNegotiating = false;
  readonly #caps = new Set<string>();
  /** SASL PLAIN in progress: the base64 received so far, or undefined. */
  #sasl: string | undefined;
  #held: ChatEvent[] | undefined = [];
  #pingSent = false;
  /** Batches opened so far, for their ids. */
  #batches = 0;

  constructor(readonly conn: Transport, readonly ctx: ServerContext) {
    this.guard = new FloodGuard(ctx.config.flood, Date.now());
    this.addr = formatAddr(conn.remoteAddr);
    this.ip = (conn.remoteAddr as Deno.NetAddr).hostname;
    this.#maxLine = Math.max(ctx.config.maxLineBytes, IRC_LINE_BYTES);
    this.#splitter = new LineSplitter(this.#maxLine);
    this.#maxRead = Math.min(MAX_READ_BYTES, ctx.config.maxQueueBytes / 8);
    // The last word is an IRC `ERROR`.
    this.#life = new ConnectionLifecycle(this, conn, ctx, (last) => {
      this.#send({ tags: {}, command: "ERROR", params: [last.text] });
    });
    this.user = ctx.chat.join(this, this.addr, this.ip);
  }

  get closing(): boolean {
    return this.#life.closing;
  }

  /** Queues an event as IRC lines; called by the core. */
  deliver(event: ChatEvent): void {
    counters.delivered[event.kind]++;
    if (this.#held) {
      // Who is online is told by the welcome's NAMES; the rest waits for the welcome.
      if (event.kind === "presence") return;
      if (this.#held.length < MAX_HELD_EVENTS) this.#held.push(event);
      else this.#life.outbox.onFailure("overflow");
      return;
    }
    this.#render(event);
  }

  /** Ends the connection with a notice; called by the core. */
  kick(code: KickCode, text: string): void {
    void this.close(code, notice(code, text));
  }

  /** Pings a client that has been quiet for half the idle timeout, so a live one answers. */
  tick(now: number): void {
    const idle = this.ctx.config.idleTimeoutMs;
    if (idle <= 0 || this.#life.closing || this.#pingSent) return;
    if (now - this.lastInputAt >= idle / 2) {
      this.#pingSent = true;
      this.#send({ tags: {}, command: "PING", params: [SERVER_NAME] });
    }
  }

  /** Reads and handles lines until the client leaves or the connection is closed. */
  async run(): Promise<void> {
    let buffer = new Uint8Array(FIRST_READ_BYTES);
    try {
      await this.ctx.chat.joined(this);
      while (!this.#life.closing) {
        const n = await this.conn.read(buffer);
        if (n === null) break;
        const lines = this.#splitter.push(buffer.subarray(0, n));
        const now = Date.now();
        if (lines.length > 0) {
          this.lastInputAt = now;
          this.#pingSent = false;
        }
        const flood = this.guard.onRead(n, this.#splitter.pending, lines.length, now);
        if (flood.action !== "allow") this.#limited(flood);
        const backlog = this.ctx.config.flood.backlog;
        for (let i = 0; i < lines.length; i++) {
          if (this.#life.closing) break;
          const pending = this.#handleLine(lines[i]);
          // Password checks and fakelag are async: read no further until done, so replies keep
          // order and the lines not yet read wait in the kernel, not here.
          if (!pending) continue;
          if (backlog > 0 && lines.length - i - 1 > backlog) {
            this.#limited({
              action: "disconnect",
              message: `more than ${backlog} lines waiting for the message rate`,
            });
            break;
          }
          await pending;
        }
        if (this.#splitter.overflowed) throw new LineTooLongError(this.#maxLine);
        if (n === buffer.length && buffer.length * 4 <= this.#maxRead) {
          buffer = new Uint8Array(buffer.length * 4);
        }
      }
      if (!this.#life.closing) await this.close("eof");
    } catch (error) {
      if (error instanceof LineTooLongError) {
        this.ctx.log.warn("line too long", { addr: this.addr, limit: this.#maxLine });
        this.#numeric(N.ERR_INPUTTOOLONG, `Input line was too long (LINELEN=${this.#maxLine})`);
        await this.close(
          "line_too_long",
          notice("line_too_long", `line too long: the limit is ${this.#maxLine} bytes`),
        );
      } else if (!this.#life.closing) {
        this.#life.reason = "read_error";
        this.ctx.log.debug("read failed", { addr: this.addr, error });
      }
    } finally {
      await this.#life.closed;
      this.#life.finish();
    }
  }

  /** Leaves the chat, queues `last` as an IRC `ERROR`, drains (bounded), closes the socket. */
  close(reason: CloseReason, last?: NoticeEvent): Promise<void> {
    return this.#life.close(reason, last);
  }

  // ---- input ----

  #handleLine(line: string): Promise<void> | void {
    const parsed = parseIrcLine(line);
    if ("error" in parsed) {
      return this.#send(this.#server("NOTICE", [this.#nick, `bad IRC line: ${parsed.error}`]));
    }
    const type = rateOf(parsed.command);
    // Over the message rate a line is held back ("fakelag", as IRC servers do), not refused.
    if (this.guard.delayMs(type, Date.now()) > 0) return this.#delayed(type, parsed);
    return this.#carryOut(type, parsed);
  }

  #carryOut(type: Request["type"], message: IrcMessage): Promise<void> | void {
    const verdict = this.guard.check(type, Date.now());
    if (verdict.action !== "allow") return this.#limited(verdict);
    return this.#command(message.command, message.params);
  }

  /** Waits until the line fits the message rate, then carries it out. */
  async #delayed(type: Request["type"], message: IrcMessage): Promise<void> {
    for (let wait; (wait = this.guard.delayMs(type, Date.now())) > 0;) {
      await new Promise((r) => setTimeout(r, wait));
      if (this.#life.closing) return;
    }
    await this.#carryOut(type, message);
  }

  #command(command: string, p: string[]): Promise<void> | void {
    switch (command) {
      case "CAP":
        return this.#cap(p);
      case "AUTHENTICATE":
        return this.#authenticate(p);
      case "PASS":
        if (this.#registered) {
          return this.#numeric(N.ERR_ALREADYREGISTERED, "You may not reregister");
        }
        if (p.length < 1) return this.#needMore("PASS");
        this.#password = p[0];
        return;
      case "NICK":
        return this.#nickCommand(p);
      case "USER":
        if (this.#registered) {
          return this.#numeric(N.ERR_ALREADYREGISTERED, "You may not reregister");
        }
        if (p.length < 4) return this.#needMore("USER");
        this.#userSeen = true;
        return this.#tryRegister();
      case "PING":
        return this.#send(this.#server("PONG", [SERVER_NAME, p[0] ?? ""]));
      case "PONG":
        return;
      case "QUIT":
        // Through the chat, so the replies still waiting for the group commit go out first.
        return this.#exec({ type: "quit" }, () => {
          this.#send({ tags: {}, command: "ERROR", params: ["Closing link: quit"] });
          void this.close("quit");
        });
    }
    if (!this.#registered) return this.#numeric(N.ERR_NOTREGISTERED, "You have not registered");
    switch (command) {
      case "PRIVMSG":
      case "NOTICE":
        return this.#message(command, p);
      case "JOIN":
        return this.#join(p);
      case "PART":
        return this.#part(p);
      case "NAMES":
        if (p.length === 0) return this.#numeric(N.RPL_ENDOFNAMES, "*", "End of /NAMES list");
        for (const channel of p[0].split(",")) this.#names(channel);
        return;
      case "WHO":
        return this.#who(p);
      case "WHOIS":
        return this.#whois(p);
      case "TOPIC":
        return this.#topic(p);
      case "LIST":
        return this.#list(p);
      case "KICK":
        return this.#kickCommand(p);
      case "INVITE":
        return this.#invite(p);
      case "MODE":
        return this.#mode(p);
      case "AWAY":
        // FastIM has no away state to share: the client is told what it asked, nobody else.
        if (p.length > 0 && p[0] !== "") {
          return this.#numeric(N.RPL_NOWAWAY, "You have been marked as being away");
        }
        return this.#numeric(N.RPL_UNAWAY, "You are no longer marked as being away");
      case "MOTD":
        return this.#motd();
      case "REGISTER":
        return this.#register(p);
      case "USERHOST":
      case "ISON":
        return this.#ison(command, p);
      default:
        return this.#numeric(N.ERR_UNKNOWNCOMMAND, command, "Unknown command");
    }
  }

  #needMore(command: string): void {
    this.#numeric(N.ERR_NEEDMOREPARAMS, command, "Not enough parameters");
  }

  // ---- registration ----

  #cap(p: string[]): void {
    const sub = (p[0] ?? "").toUpperCase();
    const reply = (what: string, text: string) =>
      this.#send(this.#server("CAP", [this.#nick, what, text]));
    switch (sub) {
      case "LS":
        if (!this.#registered) this.#capNegotiating = true;
        return reply(
          "LS",
          CAPS.map((c) => c === "sasl" && p[1] === "302" ? "sasl=PLAIN" : c).join(" "),
        );
      case "LIST":
        return reply("LIST", [...this.#caps].join(" "));
      case "REQ": {
        if (!this.#registered) this.#capNegotiating = true;
        const asked = (p[1] ?? "").split(" ").filter((c) => c !== "");
        const known = asked.every((c) => CAPS.includes(c.replace(/^-/, "")));
        if (!known || asked.length === 0) return reply("NAK", p[1] ?? "");
        for (const c of asked) {
          if (c.startsWith("-")) this.#caps.delete(c.slice(1));
          else this.#caps.add(c);
        }
        return reply("ACK", p[1]);
      }
      case "END":
        this.#capNegotiating = false;
        return void this.#tryRegister();
      default:
        return this.#numeric(N.ERR_INVALIDCAPCMD, sub || "*", "Invalid CAP command");
    }
  }

  #authenticate(p: string[]): Promise<void> | void {
    const arg = p[0] ?? "";
    if (this.#registered || this.user.account) {
      return this.#numeric(N.ERR_SASLALREADY, "You have already authenticated");
    }
    if (arg === "*") {
      this.#sasl = undefined;
      return this.#numeric(N.ERR_SASLABORTED, "SASL authentication aborted");
    }
    if (this.#sasl === undefined) {
      if (arg.toUpperCase() !== "PLAIN") {
        this.#numeric(N.RPL_SASLMECHS, "PLAIN", "are available SASL mechanisms");
        return this.#numeric(N.ERR_SASLFAIL, "SASL authentication failed");
      }
      this.#sasl = "";
      return this.#send({ tags: {}, command: "AUTHENTICATE", params: ["+"] });
    }
    if (arg !== "+") this.#sasl += arg;
    if (this.#sasl.length > MAX_SASL_BYTES) {
      this.#sasl = undefined;
      return this.#numeric(N.ERR_SASLTOOLONG, "SASL message too long");
    }
    // A 400-byte chunk says more follows (an exact multiple ends with "+").
    if (arg.length === 400) return;
    const data = this.#sasl;
    this.#sasl = undefined;
    let fields: string[];
    try {
      fields = new TextDecoder("utf-8", { fatal: true }).decode(
        Uint8Array.from(atob(data), (c) => c.charCodeAt(0)),
      ).split("\0");
    } catch {
      return this.#numeric(N.ERR_SASLFAIL, "SASL authentication failed: not base64 UTF-8");
    }
    if (fields.length !== 3) {
      return this.#numeric(N.ERR_SASLFAIL, "SASL authentication failed: expected PLAIN");
    }
    const [, name, password] = fields;
    return this.#exec({ type: "login", name: nameOf(name), password }, (reply) => {
      if (!reply.ok) {
        return this.#numeric(N.ERR_SASLFAIL, `SASL authentication failed: ${reply.message}`);
      }
      const nick = nickOf(this.user.name);
      this.#numeric(
        N.RPL_LOGGEDIN,
        `${nick}!fastim@${hostOf(this.addr)}`,
        nick,
        `You are now logged in as ${nick}`,
      );
      this.#numeric(N.RPL_SASLSUCCESS, "SASL authentication successful");
    });
  }

  #nickCommand(p: string[]): Promise<void> | void {
    const nick = p[0] ?? "";
    if (nick === "") return this.#numeric(N.ERR_NONICKNAMEGIVEN, "No nickname given");
    const bad = badNick(nick);
    if (bad) return this.#numeric(N.ERR_ERRONEUSNICKNAME, nick, bad);
    if (!this.#registered) {
      this.#wantNick = nick;
      return this.#tryRegister();
    }
    return this.#exec({ type: "rename", name: nameOf(nick) }, (reply) => {
      if (!reply.ok) this.#nickError(nick, reply);
    });
  }

  #nickError(nick: string, reply: Reply & { ok: false }): void {
    const code = reply.code;
    if (code === "name_taken" || code === "name_lookalike" || code === "name_registered") {
      const hint = code === "name_registered" ? " (log in with SASL or PASS)" : "";
      return this.#numeric(N.ERR_NICKNAMEINUSE, nick, reply.message + hint);
    }
    if (code === "rate_limited" || code === "busy") {
      return this.#send(this.#server("NOTICE", [this.#nick, reply.message]));
    }
    this.#numeric(N.ERR_ERRONEUSNICKNAME, nick, reply.message);
  }

  /** Completes registration once NICK and USER are in and CAP negotiation is over. */
  #tryRegister(): Promise<void> | void {
    if (this.#registered || this.#registering || this.#capNegotiating) return;
    if (this.#wantNick === undefined || !this.#userSeen) return;
    if (this.user.account) return this.#welcome(); // SASL logged in: the account's name
    const nick = this.#wantNick;
    const name = nameOf(nick);
    const request: Request = this.#password !== undefined
      ? { type: "login", name, password: this.#password }
      : { type: "rename", name };
    this.#registering = true;
    return this.#exec(request, (reply) => {
      this.#registering = false;
      if (reply.ok) return this.#welcome();
      if (request.type === "login") {
        this.#numeric(N.ERR_PASSWDMISMATCH, `Password incorrect: ${reply.message}`);
        this.#send({ tags: {}, command: "ERROR", params: ["Closing link: bad password"] });
        return void this.close("quit");
      }
      this.#wantNick = undefined;
      this.#nickError(nick, reply);
    });
  }

  #welcome(): void {
    this.#registered = true;
    this.#nick = nickOf(this.user.name);
    const c = this.ctx.config;
    this.#numeric(N.RPL_WELCOME, `Welcome to FastIM, ${this.#nick}`);
    this.#numeric(N.RPL_YOURHOST, `Your host is ${SERVER_NAME}, running fastim ${VERSION}`);
    this.#numeric(N.RPL_CREATED, "This server speaks IRC beside the FastIM protocols");
    this.#numeric(N.RPL_MYINFO, SERVER_NAME, `fastim-${VERSION}`, "i", "ioOt");
    const isupport = [
      "AWAYLEN=200",
      "CASEMAPPING=ascii",
      `CHANLIMIT=#:${c.rooms.roomsPerUser || ""}`,
      "CHANMODES=,,,it",
      "CHANNELLEN=33",
      "CHANTYPES=#",
      "KICKLEN=300",
      `LINELEN=${this.#maxLine}`,
      `MAXTARGETS=${MAX_TARGETS}`,
      "MODES=4",
      "NETWORK=FastIM",
      "NICKLEN=32",
      "PREFIX=(o)@",
      "TOPICLEN=300",
      "UTF8ONLY",
    ];
    this.#numeric(N.RPL_ISUPPORT, ...isupport, "are supported by this server");
    this.#motd();
    this.#send({ tags: {}, source: this.#me(), command: "JOIN", params: [LOBBY] });
    this.#numeric(N.RPL_NOTOPIC, LOBBY, "No topic is set");
    this.#names(LOBBY);
    this.#playback(LOBBY);
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const event of held) this.#render(event);
    if (this.user.account) void this.#life.deliverInbox();
    this.ctx.log.info("irc registered", { addr: this.addr, name: this.user.name });
  }

  #motd(): void {
    this.#numeric(N.RPL_MOTDSTART, `- ${SERVER_NAME} Message of the day -`);
    for (
      const line of [
        "This is a FastIM server: IRC, terminal, nc and browser users share one chat.",
        `#lobby is everyone; /list shows the rooms. Names with "." are written with "|" here.`,
      ]
    ) this.#numeric(N.RPL_MOTD, `- ${line}`);
    this.#numeric(N.RPL_ENDOFMOTD, "End of /MOTD command.");
  }

  // ---- commands ----

  #message(command: "PRIVMSG" | "NOTICE", p: string[]): void {
    const quiet = command === "NOTICE"; // no automatic replies to a NOTICE (RFC 2812)
    if (p.length < 1 || p[0] === "") {
      if (!quiet) this.#numeric(N.ERR_NORECIPIENT, `No recipient given (${command})`);
      return;
    }
    let text = p[1] ?? "";
    if (text.startsWith("\x01")) {
      // CTCP: an ACTION (/me) is said as "* nick text"; other queries have no FastIM meaning.
      // deno-lint-ignore no-control-regex -- CTCP is delimited by \x01
      const m = /^\x01ACTION (.*?)\x01?$/s.exec(text);
      if (!m) return;
      text = `* ${this.#nick} ${m[1]}`;
    }
    if (sanitizeText(text).trim() === "") {
      if (!quiet) this.#numeric(N.ERR_NOTEXTTOSEND, "No text to send");
      return;
    }
    const targets = p[0].split(",").filter((t) => t !== "");
    if (targets.length > MAX_TARGETS) {
      if (!quiet) this.#numeric(N.ERR_TOOMANYTARGETS, p[0], `at most ${MAX_TARGETS} targets`);
      return;
    }
    for (const target of targets) {
      if (target.startsWith("#")) {
        const request: Request = isLobby(target)
          ? { type: "say", text }
          : { type: "say", text, room: target };
        void this.#exec(request, (reply) => {
          if (!reply.ok && !quiet) this.#fail(command, target, reply);
        });
        continue;
      }
      void this.#exec({ type: "msg", to: nameOf(target), text }, (reply) => {
        if (!reply.ok) return quiet ? undefined : this.#fail(command, target, reply);
        if (this.#caps.has("echo-message")) {
          this.#send({
            tags: tagsFor(this.#recipient(), reply.ts, reply.msgId),
            source: this.#me(),
            command,
            params: [target, sanitizeText(text)],
          });
        }
        if (reply.stored && !quiet) {
          this.#send(this.#server("NOTICE", [
            this.#nick,
            `${target} is offline: the message waits for them`,
          ]));
        }
      });
    }
  }

  #join(p: string[]): void {
    if (p.length < 1) return this.#needMore("JOIN");
    for (const channel of p[0].split(",").filter((c) => c !== "")) {
      if (isLobby(channel)) continue; // always joined
      void this.#exec({ type: "join", room: channel }, (reply) => {
        // Success shows itself: the room's "joined" event comes back to us (see #render).
        if (!reply.ok) return this.#fail("JOIN", channel, reply);
        if (!reply.already) this.#playback(reply.room ?? channel);
      });
    }
  }

  #part(p: string[]): void {
    if (p.length < 1) return this.#needMore("PART");
    for (const channel of p[0].split(",").filter((c) => c !== "")) {
      void this.#exec({ type: "part", room: channel }, (reply) => {
        if (!reply.ok) return this.#fail("PART", channel, reply);
        // A room tells those who stay; the one who left is told here.
        this.#send({
          tags: {},
          source: this.#me(),
          command: "PART",
          params: [reply.room ?? channel, ...(p[1] ? [p[1]] : [])],
        });
      });
    }
  }

  /** 353 and 366 for `channel`. */
  #names(channel: string): void {
    const room = isLobby(channel) ? undefined : channel;
    void this.#exec({ type: "who", ...(room ? { room } : {}) }, (reply) => {
      const shown = room === undefined ? LOBBY : reply.ok ? reply.room ?? channel : channel;
      if (reply.ok) {
        const ops = new Set(reply.operators ?? []);
        const nicks = (reply.users ?? []).map((u) => (ops.has(u.name) ? "@" : "") + nickOf(u.name));
        for (let i = 0; i < nicks.length; i += NAMES_PER_LINE) {
          this.#numeric(N.RPL_NAMREPLY, "=", shown, nicks.slice(i, i + NAMES_PER_LINE).join(" "));
        }
      }
      this.#numeric(N.RPL_ENDOFNAMES, shown, "End of /NAMES list");
    });
  }

  /**
   * Plays back `channel`'s recent messages (`--history`), in a `chathistory` batch with the batch
   * capability. Only for clients with server-time: without it old lines would read as new.
   */
  #playback(channel: string): void {
    const limit = this.ctx.config.historyOnJoin;
    if (limit <= 0 || !this.#caps.has("server-time")) return;
    const room = isLobby(channel) ? undefined : channel;
    void this.#exec({ type: "history", limit, ...(room ? { room } : {}) }, (reply) => {
      if (!reply.ok || !reply.messages?.length) return;
      const batch = this.#caps.has("batch") ? `history${++this.#batches}` : undefined;
      if (batch) this.#send(this.#server("BATCH", [`+${batch}`, "chathistory", channel]));
      const me = this.#recipient();
      for (const m of reply.messages) {
        // A room's stored messages do not name their room: the reply does.
        const event = {
          kind: "public" as const,
          ...m,
          ...(room ? { room: reply.room ?? channel } : {}),
          history: true as const,
          wire: [] as [],
        };
        for (const line of renderEvent(event, me)) {
          if (batch) line.tags = { batch, ...line.tags };
          this.#send(line);
        }
      }
      if (batch) this.#send(this.#server("BATCH", [`-${batch}`]));
    });
  }

  /**
   * `REGISTER <account> <email> <password>` (IRCv3 draft/account-registration): registers the
   * current nick as a FastIM account, as `register` does on every transport. The account must be
   * `*` or the current nick; the email is not used.
   */
  #register(p: string[]): Promise<void> | void {
    if (p.length < 3) return this.#needMore("REGISTER");
    const [account, , password] = p;
    const fail = (code: string, text: string) =>
      this.#send(this.#server("FAIL", ["REGISTER", code, account, text]));
    if (account !== "*" && nameKey(nameOf(account)) !== nameKey(this.user.name)) {
      return fail("ACCOUNT_NAME_MUST_BE_NICK", "register the nick you are using: NICK it first");
    }
    return this.#exec({ type: "register", password }, (reply) => {
      if (!reply.ok) {
        const code = reply.code === "password_weak"
          ? "WEAK_PASSWORD"
          : reply.code === "already_registered" || reply.code === "name_registered"
          ? "ACCOUNT_EXISTS"
          : "UNACCEPTABLE_PASSWORD";
        return fail(code, reply.message);
      }
      const nick = nickOf(this.user.name);
      this.#send(this.#server("REGISTER", ["SUCCESS", nick, `${nick} is now registered`]));
      this.#numeric(
        N.RPL_LOGGEDIN,
        `${nick}!fastim@${hostOf(this.addr)}`,
        nick,
        `You are now logged in as ${nick}`,
      );
    });
  }

  #who(p: string[]): void {
    const mask = p[0] ?? "*";
    const channel = mask.startsWith("#") ? mask : undefined;
    const room = channel && !isLobby(channel) ? channel : undefined;
    void this.#exec({ type: "who", ...(room ? { room } : {}) }, (reply) => {
      if (reply.ok) {
        const ops = new Set(reply.operators ?? []);
        const wanted = channel ? undefined : nameKey(nameOf(mask));
        for (const u of reply.users ?? []) {
          if (wanted !== undefined && mask !== "*" && nameKey(u.name) !== wanted) continue;
          this.#numeric(
            N.RPL_WHOREPLY,
            channel ? reply.room ?? LOBBY : "*",
            "fastim",
            hostOf(u.addr),
            SERVER_NAME,
            nickOf(u.name),
            ops.has(u.name) ? "H@" : "H",
            `0 ${u.name}`,
          );
        }
      }
      this.#numeric(N.RPL_ENDOFWHO, mask, "End of WHO list");
    });
  }

  #whois(p: string[]): void {
    // WHOIS [server] nick
    const nick = p[p.length - 1];
    if (!nick) return this.#numeric(N.ERR_NONICKNAMEGIVEN, "No nickname given");
    void this.#exec({ type: "who" }, (reply) => {
      const key = nameKey(nameOf(nick));
      const u = reply.ok ? reply.users?.find((x) => nameKey(x.name) === key) : undefined;
      if (!u) {
        this.#numeric(N.ERR_NOSUCHNICK, nick, "No such nick");
      } else {
        const n = nickOf(u.name);
        this.#numeric(N.RPL_WHOISUSER, n, "fastim", hostOf(u.addr), "*", u.name);
        this.#numeric(N.RPL_WHOISSERVER, n, SERVER_NAME, "FastIM");
      }
      this.#numeric(N.RPL_ENDOFWHOIS, nick, "End of /WHOIS list");
    });
  }

  #topic(p: string[]): void {
    if (p.length < 1) return this.#needMore("TOPIC");
    const channel = p[0];
    if (p.length === 1) return this.#sendTopic(channel);
    void this.#exec({ type: "topic", room: channel, text: p[1] }, (reply) => {
      // Success shows itself: the room's "topic" event reaches every member, us included.
      if (!reply.ok) this.#fail("TOPIC", channel, reply);
    });
  }

  /** 332 or 331 for `channel`. */
  #sendTopic(channel: string): void {
    void this.#exec({ type: "topic", room: channel }, (reply) => {
      if (!reply.ok) return this.#fail("TOPIC", channel, reply);
      const shown = reply.room ?? channel;
      if (reply.topic) this.#numeric(N.RPL_TOPIC, shown, reply.topic);
      else this.#numeric(N.RPL_NOTOPIC, shown, "No topic is set");
    });
  }

  #list(p: string[]): void {
    const only = p[0] ? new Set(p[0].split(",").map((c) => nameKey(c))) : undefined;
    void this.#exec({ type: "rooms" }, (reply) => {
      this.#numeric(N.RPL_LISTSTART, "Channel", "Users  Name");
      if (reply.ok) {
        for (const r of reply.rooms ?? []) {
          if (only && !only.has(nameKey(r.room))) continue;
          this.#numeric(N.RPL_LIST, r.room, String(r.members), r.topic);
        }
      }
      this.#numeric(N.RPL_LISTEND, "End of /LIST");
    });
  }

  #kickCommand(p: string[]): void {
    if (p.length < 2) return this.#needMore("KICK");
    const [channel, nicks, reason] = p;
    for (const nick of nicks.split(",").filter((n) => n !== "")) {
      const name = nameOf(nick);
      // Kicking from #lobby is a server operator's kick off the server (--admin).
      const request: Request = isLobby(channel)
        ? { type: "kick", name, ...(reason ? { reason } : {}) }
        : { type: "kick", name, room: channel, ...(reason ? { reason } : {}) };
      void this.#exec(request, (reply) => {
        if (!reply.ok) this.#fail("KICK", channel, reply, nick);
      });
    }
  }

  #invite(p: string[]): void {
    if (p.length < 2) return this.#needMore("INVITE");
    const [nick, channel] = p;
    void this.#exec({ type: "invite", room: channel, name: nameOf(nick) }, (reply) => {
      if (!reply.ok) return this.#fail("INVITE", channel, reply, nick);
      this.#numeric(N.RPL_INVITING, nick, reply.room ?? channel);
    });
  }

  #mode(p: string[]): void {
    if (p.length < 1) return this.#needMore("MODE");
    const target = p[0];
    if (!target.startsWith("#")) {
      if (nameKey(nameOf(target)) !== nameKey(this.user.name)) {
        return this.#numeric(N.ERR_USERSDONTMATCH, "Cannot change mode for other users");
      }
      return this.#numeric(N.RPL_UMODEIS, "+");
    }
    if (p.length === 1) return this.#channelModes(target);
    const args = p.slice(2);
    let adding = true;
    for (const ch of p[1]) {
      if (ch === "+" || ch === "-") {
        adding = ch === "+";
        continue;
      }
      if (ch === "i") {
        void this.#exec({ type: "mode", room: target, inviteOnly: adding }, (reply) => {
          if (!reply.ok) this.#fail("MODE", target, reply);
        });
      } else if (ch === "o" && adding) {
        const nick = args.shift();
        if (!nick) return this.#needMore("MODE");
        void this.#exec({ type: "op", room: target, name: nameOf(nick) }, (reply) => {
          if (!reply.ok) this.#fail("MODE", target, reply, nick);
        });
      } else if (ch === "t" && adding) {
        continue; // always on: only operators set a room's topic
      } else if (ch === "b" && args.length === 0) {
        this.#numeric(N.RPL_ENDOFBANLIST, target, "End of channel ban list");
      } else {
        const why = ch === "o"
          ? "operator status cannot be taken back"
          : ch === "t"
          ? "only operators ever set a topic here"
          : "is unknown mode char to me";
        this.#numeric(N.ERR_UNKNOWNMODE, ch, why);
      }
    }
  }

  /** 324 for `channel`: +t always, +i when invite-only. */
  #channelModes(channel: string): void {
    if (isLobby(channel)) return this.#numeric(N.RPL_CHANNELMODEIS, LOBBY, "+t");
    void this.#exec({ type: "rooms" }, (reply) => {
      const key = nameKey(channel);
      const room = reply.ok ? reply.rooms?.find((r) => nameKey(r.room) === key) : undefined;
      if (!room) return this.#numeric(N.ERR_NOSUCHCHANNEL, channel, "No such channel");
      this.#numeric(N.RPL_CHANNELMODEIS, room.room, room.inviteOnly ? "+it" : "+t");
    });
  }

  #ison(command: string, p: string[]): void {
    const asked = p.flatMap((x) => x.split(" ")).filter((x) => x !== "");
    void this.#exec({ type: "who" }, (reply) => {
      const online = new Map((reply.ok ? reply.users ?? [] : []).map((u) => [nameKey(u.name), u]));
      const present = asked.filter((n) => online.has(nameKey(nameOf(n))));
      if (command === "ISON") return this.#numeric(N.RPL_ISON, present.join(" "));
      const hosts = present.slice(0, 5).map((n) => {
        const u = online.get(nameKey(nameOf(n)))!;
        return `${nickOf(u.name)}=+fastim@${hostOf(u.addr)}`;
      });
      this.#numeric(N.RPL_USERHOST, hosts.join(" "));
    });
  }

  // ---- requests and replies ----

  /** Carries out `request` through the gateway and hands its reply to `then`, in order. */
  #exec(request: Request, then: (reply: Reply) => void): Promise<void> | void {
    countRequest(request.type);
    return this.ctx.chat.execute(this, request, (reply) => {
      if (this.#life.closing) return;
      then(reply);
      if (reply.ok && (request.type === "rename" || request.type === "login")) this.#syncNick();
    });
  }

  /** Tells the client its new nick when its name changed (a rename, a login). */
  #syncNick(): void {
    if (!this.#registered) return;
    const nick = nickOf(this.user.name);
    if (nick === this.#nick) return;
    this.#send({
      tags: {},
      source: `${this.#nick}!fastim@${hostOf(this.addr)}`,
      command: "NICK",
      params: [nick],
    });
    this.#nick = nick;
  }

  /** The numeric for a failed request of `command` on `target` (`nick`: a user it named). */
  #fail(command: string, target: string, reply: Reply & { ok: false }, nick?: string): void {
    const [numeric, ...params] = errorNumeric(command, target, reply, nick);
    this.#numeric(numeric, ...params);
  }

  #limited(verdict: Exclude<Verdict, { action: "allow" }>): void {
    counters.rateLimited++;
    this.#send(this.#server("NOTICE", [this.#nick, verdict.message]));
    if (verdict.action === "disconnect") {
      this.ctx.log.warn("flood", { addr: this.addr, message: verdict.message });
      this.#send({ tags: {}, command: "ERROR", params: [`Excess Flood: ${verdict.message}`] });
      void this.close("rate_limited");
    }
  }

  // ---- output ----

  #render(event: ChatEvent): void {
    if (event.kind === "notice") {
      return void this.close(event.code === "shutdown" ? "shutdown" : "eof", event);
    }
    // Our name may have changed before its reply arrives (replies wait for the group commit).
    this.#syncNick();
    for (const line of renderEvent(event, this.#recipient())) this.#send(line);
    // Our own JOIN (a join, or a login's rooms coming back) is followed by the topic and names.
    if (
      event.kind === "room" && event.event === "joined" && event.name === this.user.name
    ) {
      this.#sendTopic(event.room);
      this.#names(event.room);
    }
  }

  #recipient(): Recipient {
    return { name: this.user.name, addr: this.addr, nick: this.#nick, caps: this.#caps };
  }

  #me(): string {
    return sourceOf(this.user.name, this.addr);
  }

  #server(command: string, params: string[]): IrcMessage {
    return { tags: {}, source: SERVER_NAME, command, params };
  }

  #numeric(numeric: string, ...params: string[]): void {
    this.#send(this.#server(numeric, [this.#nick, ...params]));
  }

  #send(message: IrcMessage): void {
    this.#life.outbox.push(encoder.encode(formatIrcLine(message) + "\r\n"));
  }
}
