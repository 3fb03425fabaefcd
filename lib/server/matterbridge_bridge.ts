/**
 * The Matterbridge bridge (docs/BOTS.md, "Matterbridge"): `--matterbridge URL` connects FastIM's
 * lobby to a Matterbridge `api` gateway (github.com/42wim/matterbridge, bridge/api/api.go), which
 * Matterbridge serves for programs like this one, so that one Matterbridge config carries the
 * lobby to Slack, Discord, Matrix, Telegram, IRC and the rest.
 *
 * - The bridge is present in the chat as a bot account (`--matterbridge-bot NAME`, made with
 *   `--add-bot`), through the same sessions as the bot HTTP API (bot_sessions.ts), signed in by
 *   name since the operator named it (the token is not needed where the store is).
 * - Outbound: each live public message of the lobby the bot sees is POSTed to `URL/api/message`
 *   as Matterbridge's message, `username` the sender and `gateway` set, from the bounded queue
 *   the webhooks use (post_queue.ts). The bot's own posts never reach its session, so what came
 *   from Matterbridge is not sent back.
 * - Inbound: `GET URL/api/stream`, NDJSON read line by line with a bounded line, each message
 *   posted into the lobby as the bot as `<username> text`, sanitised and cut to `--max-line`.
 *   The stream is reopened with a bounded backoff when it fails or ends; an outage is logged once,
 *   and its end once.
 *
 * It runs where the chat core is (the main thread, also with --workers), like the webhooks.
 *
 * @module
 */

import { type FlagSpec, type FlagValues, httpUrlFlag, mainFlagGiven } from "../shared/cli.ts";
import type { Logger } from "../shared/log.ts";
import { lineBreaksToSpaces, sanitizeText } from "../shared/sanitize.ts";
import { LineSplitter } from "../protocol/line_splitter.ts";
import { EVENT_API_CONNECTED, type MatterbridgeMessage } from "../protocol/matterbridge.ts";
import type { BotService, BotSessions, BotWhere } from "./bot_sessions.ts";
import type { BotSink } from "./bot_session.ts";
import { PostQueue } from "./post_queue.ts";

/** The bridge's settings. */
export interface MatterbridgeSettings {
  /** The api gateway's base URL (its `BindAddress`), without a trailing slash. */
  url: string;
  /** Its `Token`, sent as `Authorization: Bearer`; none when Matterbridge has no Token. */
  token?: string;
  /** The bot account the bridge is present as. */
  bot: string;
  /** The `gateway` field of what it posts: the name of Matterbridge's `[[gateway]]`. */
  gateway: string;
}

/** The gateway name used when `--matterbridge-gateway` is not given. */
export const DEFAULT_GATEWAY = "fastim";
/** Lobby messages waiting to be POSTed to Matterbridge; more are dropped. */
export const MATTERBRIDGE_QUEUE = 256;
/** How long one POST to Matterbridge, or the stream's answer, may take. */
export const MATTERBRIDGE_TIMEOUT_MS = 10_000;
/** The longest stream line read; a longer one is refused and the stream reopened. */
export const STREAM_LINE_BYTES = 128 * 1024;
/** The first wait before the stream is reopened; it doubles up to {@link BACKOFF_MAX_MS}. */
export const BACKOFF_FIRST_MS = 500;
/** The longest wait between two tries. */
export const BACKOFF_MAX_MS = 30_000;

/** The bridge's flags, with their help. */
export const MATTERBRIDGE_FLAGS: FlagSpec[] = [
  {
    name: "matterbridge",
    type: "string",
    value: "URL",
    doc: "bridge the lobby to the Matterbridge api gateway at URL (its BindAddress, " +
      "e.g. http://127.0.0.1:4242; docs/BOTS.md)",
  },
  {
    name: "matterbridge-token",
    type: "string",
    value: "TOKEN",
    doc: "the api gateway's Token (sent as Authorization: Bearer)",
  },
  {
    name: "matterbridge-bot",
    type: "string",
    value: "NAME",
    doc: "the bot account (made with --add-bot) the bridge posts as; needed with --matterbridge",
  },
  {
    name: "matterbridge-gateway",
    type: "string",
    value: "NAME",
    default: DEFAULT_GATEWAY,
    doc: "the gateway field of the bridge's posts: the name of Matterbridge's [[gateway]]",
  },
];

/** Reads the bridge's flags: `undefined` without `--matterbridge`; RangeError with one line. */
export function parseMatterbridgeFlags(v: FlagValues): MatterbridgeSettings | undefined {
  const dependents = ["matterbridge-token", "matterbridge-bot", "matterbridge-gateway"];
  if (!mainFlagGiven(v, "matterbridge", dependents)) return undefined;
  const url = httpUrlFlag(v.matterbridge as string, "matterbridge", true);
  const bot = v["matterbridge-bot"];
  if (typeof bot !== "string" || bot.trim() === "") {
    throw new RangeError(
      "--matterbridge needs --matterbridge-bot NAME (a bot made with --add-bot)",
    );
  }
  const settings: MatterbridgeSettings = {
    url: url.href.replace(/\/+$/, ""),
    bot: bot.trim(),
    gateway: DEFAULT_GATEWAY,
  };
  const token = v["matterbridge-token"];
  if (typeof token === "string") {
    // A header value cannot hold line breaks or control characters.
    if (token === "" || [...token].some((c) => c <= " " || c === "\x7f")) {
      throw new RangeError("--matterbridge-token expects the api gateway's Token, without spaces");
    }
    settings.token = token;
  }
  const gateway = v["matterbridge-gateway"];
  if (typeof gateway === "string") {
    if (gateway.trim() === "") throw new RangeError("--matterbridge-gateway expects a name");
    settings.gateway = gateway.trim();
  }
  return settings;
}

/** The bridge cannot start (its bot does not exist): one line for the operator. */
export class BridgeStartError extends Error {
  override name = "BridgeStartError";
}

/** What one stream message becomes: a line to post, nothing, or a bad line to log. */
export type Inbound =
  | { kind: "post"; text: string; cut: boolean }
  | { kind: "ignore" }
  | { kind: "bad"; reason: string };

/**
 * What the stream's message `value` (parsed JSON) posts into the lobby: `<username> text` (or
 * `* username text` for an action), on one line, sanitised like any input and cut to `maxBytes`
 * of UTF-8. The greeting, other events (joins, typing, deletions), empty texts and messages of
 * another gateway are ignored.
 *
 * @example
 * ```ts
 * import { inboundText } from "./matterbridge_bridge.ts";
 *
 * inboundText({ text: "hi", username: "alice", gateway: "fastim" }, "fastim", 8192);
 * // { kind: "post", text: "<alice> hi", cut: false }
 * ```
 */
export function inboundText(value: unknown, gateway: string, maxBytes: number): Inbound {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "bad", reason: "not a JSON object" };
  }
  const m = value as Record<string, unknown>;
  const event = typeof m.event === "string" ? m.event : "";
  // The greeting, and events that are not chat lines (joins, typing, deletions).
  if (event === EVENT_API_CONNECTED) return { kind: "ignore" };
  if (event !== "" && event !== "user_action") return { kind: "ignore" };
  if (typeof m.gateway === "string" && m.gateway !== "" && m.gateway !== gateway) {
    return { kind: "ignore" };
  }
  const text = oneLine(m.text);
  if (text === "") return { kind: "ignore" };
  const user = oneLine(m.username) || "?";
  const line = event === "user_action" ? `* ${user} ${text}` : `<${user}> ${text}`;
  const cut = cutToBytes(line, maxBytes);
  return { kind: "post", text: cut, cut: cut !== line };
}

/** A string field as one line of text: line breaks become spaces, escapes and controls go. */
function oneLine(field: unknown): string {
  if (typeof field !== "string") return "";
  return sanitizeText(lineBreaksToSpaces(field).replaceAll("\t", " ")).trim();
}

const encoder = new TextEncoder();
const ELLIPSIS = "…";

/** `s` cut, at a character boundary, to at most `maxBytes` of UTF-8 ending in "…". */
function cutToBytes(s: string, maxBytes: number): string {
  if (encoder.encode(s).length <= maxBytes) return s;
  let bytes = encoder.encode(ELLIPSIS).length;
  let out = "";
  for (const ch of s) {
    bytes += encoder.encode(ch).length;
    if (bytes > maxBytes) break;
    out += ch;
  }
  return out + ELLIPSIS;
}

/** One kind of failure that comes and goes: logged when it starts and once when it is over. */
class Outage {
  #down = false;
  #failures = 0;

  constructor(
    readonly log: Logger,
    readonly downEvent: string,
    readonly upEvent: string,
    readonly fields: Record<string, unknown>,
  ) {}

  failed(reason: string): void {
    this.#failures++;
    if (this.#down) return;
    this.#down = true;
    this.log.warn(this.downEvent, { ...this.fields, reason });
  }

  ok(): void {
    if (!this.#down) return;
    this.#down = false;
    this.log.info(this.upEvent, { ...this.fields, failures: this.#failures });
    this.#failures = 0;
  }
}

/**
 * The bridge between the lobby and one Matterbridge api gateway.
 *
 * @example
 * ```ts
 * import { MatterbridgeBridge } from "./matterbridge_bridge.ts";
 * import { BotSessions } from "./bot_sessions.ts";
 * import { openBackend } from "./backend.ts";
 * import { SERVER_DEFAULTS } from "./config.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * const log = new Logger("info");
 * const { chat } = openBackend({ ...SERVER_DEFAULTS, dbPath: ":memory:" }, log);
 * const bots = new BotSessions(chat, SERVER_DEFAULTS.flood, log);
 * const settings = { url: "http://127.0.0.1:4242", bot: "relay", gateway: "fastim" };
 * const bridge = new MatterbridgeBridge(settings, bots, 8192, log);
 * bridge.start(); // signs in as relay, opens the stream, and retries while either fails
 * bridge.close();
 * ```
 */
export class MatterbridgeBridge {
  readonly #stop = new AbortController();
  readonly #posts: PostQueue;
  readonly #auth: Record<string, string>;
  readonly #streamDown: Outage;
  readonly #where: BotWhere;
  /** The bot's name key once signed in. */
  #key?: string;

  constructor(
    readonly settings: MatterbridgeSettings,
    readonly bots: BotSessions,
    readonly maxLineBytes: number,
    readonly log: Logger,
  ) {
    this.#auth = settings.token ? { authorization: `Bearer ${settings.token}` } : {};
    const postsDown = new Outage(
      log,
      "matterbridge messages dropped",
      "matterbridge messages delivered again",
      { url: settings.url },
    );
    this.#posts = new PostQueue({
      url: `${settings.url}/api/message`,
      headers: this.#auth,
      timeoutMs: MATTERBRIDGE_TIMEOUT_MS,
      queue: MATTERBRIDGE_QUEUE,
    }, { dropped: (reason) => postsDown.failed(reason), sent: () => postsDown.ok() });
    this.#streamDown = new Outage(
      log,
      "matterbridge unreachable",
      "matterbridge reachable again",
      { url: settings.url },
    );
    const host = new URL(settings.url);
    this.#where = { addr: host.host, ip: host.hostname };
  }

  get #closed(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Starts both directions; each keeps trying until {@link close}. */
  start(): void {
    this.log.info("matterbridge bridge", {
      url: this.settings.url,
      bot: this.settings.bot,
      gateway: this.settings.gateway,
    });
    void this.#keepSession();
    void this.#keepStream();
  }

  /** Ends the stream and the POSTs at once and leaves the bot's session to the sweep. */
  close(): void {
    this.#stop.abort();
    this.#posts.close();
  }

  /** Keeps the bot signed in with a sink on its session: the lobby's messages go out from it. */
  async #keepSession(): Promise<void> {
    let delay = BACKOFF_FIRST_MS;
    let refused = "";
    while (!this.#closed) {
      const auth = await this.bots.signInByName(this.settings.bot, this.#where);
      if (this.#closed) return;
      if (!auth.ok) {
        // A removed or banned bot: said once, retried until it is back.
        if (auth.error !== refused) {
          this.log.warn("matterbridge bot not signed in", {
            bot: this.settings.bot,
            error: auth.error,
          });
        }
        refused = auth.error;
        await this.#sleep(delay);
        delay = Math.min(delay * 2, BACKOFF_MAX_MS);
        continue;
      }
      if (refused) this.log.info("matterbridge bot signed in again", { bot: auth.name });
      refused = "";
      delay = BACKOFF_FIRST_MS;
      this.#key = auth.key;
      let ended!: () => void;
      const over = new Promise<void>((resolve) => ended = resolve);
      const sink: BotSink = { push: (m) => this.#outbound(m), close: ended };
      // What the session buffered before is old news: only live messages cross.
      const subscription = await this.bots.subscribe(auth.key, Date.now(), sink);
      if (!subscription) {
        // The session ended between the sign-in and now: not a loop without a pause.
        await this.#sleep(BACKOFF_FIRST_MS);
        continue;
      }
      const stop = () => ended();
      this.#stop.signal.addEventListener("abort", stop);
      await over;
      this.#stop.signal.removeEventListener("abort", stop);
      subscription.unsubscribe();
      if (!this.#closed) {
        this.log.info("matterbridge bot session ended; signing in again", { bot: auth.name });
        await this.#sleep(BACKOFF_FIRST_MS);
      }
    }
  }

  /** A public message the bot saw: the lobby's go to Matterbridge. */
  #outbound(message: MatterbridgeMessage): void {
    if (message.channel !== "lobby") return;
    this.#posts.send({ ...message, gateway: this.settings.gateway });
  }

  /** Reads the stream, reopening it after a bounded backoff while the bridge runs. */
  async #keepStream(): Promise<void> {
    let delay = BACKOFF_FIRST_MS;
    while (!this.#closed) {
      const connected = await this.#readStream();
      if (this.#closed) return;
      if (connected) delay = BACKOFF_FIRST_MS;
      await this.#sleep(delay);
      delay = Math.min(delay * 2, BACKOFF_MAX_MS);
    }
  }

  /** Opens the stream and posts what it carries until it ends; says whether it was open. */
  async #readStream(): Promise<boolean> {
    const abort = new AbortController();
    const stop = () => abort.abort();
    this.#stop.signal.addEventListener("abort", stop);
    // Only the answer's headers are timed: the stream itself may be quiet for hours.
    const timer = setTimeout(stop, MATTERBRIDGE_TIMEOUT_MS);
    try {
      let response: Response;
      try {
        response = await fetch(`${this.settings.url}/api/stream`, {
          headers: this.#auth,
          signal: abort.signal,
        });
      } catch (error) {
        if (!this.#closed) {
          this.#streamDown.failed(abort.signal.aborted ? "timed out" : (error as Error).message);
        }
        return false;
      } finally {
        clearTimeout(timer);
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        this.#streamDown.failed(`GET /api/stream answered ${response.status}`);
        return false;
      }
      this.#streamDown.ok();
      this.log.info("matterbridge stream open", { url: this.settings.url });
      const reason = await this.#readLines(response.body);
      if (!this.#closed) this.#streamDown.failed(reason);
      return true;
    } finally {
      this.#stop.signal.removeEventListener("abort", stop);
    }
  }

  /** Posts each line's message in turn (a slow chat slows the reading); says why it ended. */
  async #readLines(body: ReadableStream<Uint8Array>): Promise<string> {
    const splitter = new LineSplitter(STREAM_LINE_BYTES);
    const reader = body.getReader();
    try {
      while (!this.#closed) {
        const { value, done } = await reader.read();
        if (done) return "the stream ended";
        for (const line of splitter.push(value)) {
          if (line.trim() !== "") await this.#inbound(line);
          if (this.#closed) return "closed";
        }
        if (splitter.overflowed) {
          // The rest of that line cannot be told from the next one: the stream is reopened.
          this.log.warn("matterbridge stream line too long", { limit: STREAM_LINE_BYTES });
          return `a line longer than ${STREAM_LINE_BYTES} bytes`;
        }
      }
      return "closed";
    } catch (error) {
      return (error as Error).message;
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  async #inbound(line: string): Promise<void> {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.log.warn("matterbridge stream line skipped", { reason: "not JSON" });
      return;
    }
    const inbound = inboundText(value, this.settings.gateway, this.maxLineBytes);
    if (inbound.kind === "bad") {
      this.log.warn("matterbridge stream line skipped", { reason: inbound.reason });
      return;
    }
    if (inbound.kind === "ignore") return;
    if (inbound.cut) {
      this.log.info("matterbridge message cut", { limit: this.maxLineBytes });
    }
    await this.#post(inbound.text);
  }

  /** Posts one line as the bot, waiting out the message rate rather than dropping. */
  async #post(text: string): Promise<void> {
    while (!this.#closed) {
      const key = this.#key;
      const outcome: Awaited<ReturnType<BotService["post"]>> = key
        ? await this.bots.post(key, text, undefined)
        : { ok: false, status: 503, error: "the bot is not signed in" };
      if (outcome.ok) return;
      if (outcome.status === 429 && outcome.retryAfterMs !== undefined) {
        await this.#sleep(outcome.retryAfterMs);
        continue;
      }
      this.log.warn("matterbridge message not posted", {
        status: outcome.status,
        error: outcome.error,
      });
      return;
    }
  }

  /** Waits `ms`, or less when the bridge closes. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#stop.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#stop.signal.addEventListener("abort", done);
    });
  }
}
