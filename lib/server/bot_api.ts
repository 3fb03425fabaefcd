/**
 * The bot HTTP API (docs/BOTS.md), in the shape of Matterbridge's api gateway: `POST
 * /api/message`, `GET /api/messages`, `GET /api/stream` and `GET /api/health`, each with
 * `Authorization: Bearer <token>`. A valid token makes the bot present in the chat under its name
 * through a {@link BotSession}, one per bot in this thread, kept while it is used; every request
 * checks the token again with the store, so a revoked token stops working at once.
 *
 * @module
 */

import type { ChatGateway } from "./chat_gateway.ts";
import type { ServerConfig } from "./config.ts";
import type { Logger } from "../shared/log.ts";
import { nameKey } from "../shared/names.ts";
import {
  afterSkip,
  apiConnected,
  parsePostedMessage,
  parseSkipBefore,
  postedReply,
} from "../protocol/matterbridge.ts";
import type { Reply } from "../protocol/requests.ts";
import { bearerToken, unauthorized } from "./http/bearer.ts";
import { BotSession } from "./bot_session.ts";

/** The largest `POST /api/message` body read; the text itself is held to `--max-line`. */
export const MAX_POST_BYTES = 64 * 1024;
/** A session no request has used for this long, with no stream open, leaves the chat. */
export const BOT_SESSION_IDLE_MS = 10 * 60_000;
/** How often idle sessions are looked for. */
const SWEEP_MS = 30_000;

const encoder = new TextEncoder();

/** A JSON answer; errors are `{"error": "..."}` with a one-line message. */
function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
  });
}

function error(status: number, message: string, headers?: Record<string, string>): Response {
  return json(status, { error: message }, headers);
}

/** The HTTP status for a chat request's error code. */
function statusOf(reply: Extract<Reply, { ok: false }>): number {
  switch (reply.code) {
    case "rate_limited":
      return 429;
    case "name_banned":
    case "invite_only":
    case "not_in_room":
      return 403;
    case "no_such_room":
      return 404;
    case "busy":
    case "store_failed":
      return 503;
    default:
      return 400;
  }
}

/**
 * Where a posted message goes: Matterbridge's `gateway` field names the room (with or without
 * its `#`); empty or `lobby` is the lobby. Undefined: the lobby.
 */
export function roomOf(gateway: string): string | undefined {
  const name = gateway.trim();
  if (name === "" || nameKey(name) === "lobby" || nameKey(name) === "#lobby") return undefined;
  return name.startsWith("#") ? name : `#${name}`;
}

/** Reads a body of at most `max` bytes; undefined when it is longer. */
async function readBody(request: Request, max: number): Promise<string | undefined> {
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(all);
}

/**
 * Serves `/api/*` for one HTTP front.
 *
 * @example
 * ```ts
 * import { BotApi } from "./bot_api.ts";
 * import type { ChatGateway } from "./chat_gateway.ts";
 * import { SERVER_DEFAULTS } from "./config.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * function serveBots(chat: ChatGateway): (r: Request, remote: Deno.NetAddr) => Promise<Response> {
 *   const api = new BotApi(SERVER_DEFAULTS, new Logger("info"), chat);
 *   return (request, remote) => api.handle(request, remote);
 * }
 * ```
 */
export class BotApi {
  /** Each bot's session in this thread, by name key, or its sign-in under way. */
  readonly #sessions = new Map<string, Promise<BotSession | Response>>();
  readonly #sweep: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(
    readonly config: ServerConfig,
    readonly log: Logger,
    readonly chat: ChatGateway,
    readonly shuttingDown: () => boolean = () => false,
  ) {
    this.#sweep = setInterval(() => this.#sweepIdle(Date.now()), SWEEP_MS);
    Deno.unrefTimer(this.#sweep);
  }

  /** Answers a request whose path starts with `/api/`. */
  async handle(request: Request, remote: Deno.NetAddr): Promise<Response> {
    const path = new URL(request.url).pathname;
    const routes: Record<string, string> = {
      "/api/message": "POST",
      "/api/messages": "GET",
      "/api/stream": "GET",
      "/api/health": "GET",
    };
    const method = routes[path];
    if (method === undefined) return error(404, `no such endpoint: ${path.slice(0, 80)}`);
    if (request.method !== method) {
      return error(405, `${path} takes ${method}`, { allow: method });
    }
    if (this.config.redisUrl !== undefined) {
      return error(501, "the bot API is not served with --redis (docs/BOTS.md)");
    }
    if (this.#closed || this.shuttingDown()) return error(503, "server is shutting down");
    const session = await this.#authorize(request, remote);
    if (session instanceof Response) return session;
    session.lastUsedAt = Date.now();
    switch (path) {
      case "/api/message":
        return this.#post(request, session);
      case "/api/messages":
        return this.#messages(request, session);
      case "/api/stream":
        return this.#stream(request, session);
      default:
        return new Response("OK", { headers: { "content-type": "text/plain; charset=utf-8" } });
    }
  }

  /** Ends every session and stream (shutdown): open streams must end for the server to stop. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweep);
    const sessions = await Promise.all(this.#sessions.values());
    this.#sessions.clear();
    await Promise.all(
      sessions.map((s) => s instanceof BotSession ? s.close(true) : undefined),
    );
  }

  /** The bot's session for the request's token, signed in now if need be; or the 401/403. */
  async #authorize(request: Request, remote: Deno.NetAddr): Promise<BotSession | Response> {
    const bearer = bearerToken(request.headers.get("authorization"));
    if (!bearer.ok) return unauthorized(bearer.error);
    const bot = await this.chat.bot(bearer.token);
    if (!bot) return unauthorized("unknown or revoked bot token");
    const existing = this.#sessions.get(bot.key);
    if (existing) {
      const session = await existing;
      if (session instanceof BotSession && !session.closing) return session;
      // It ended or failed meanwhile: sign in afresh, once however many requests wait here.
      if (this.#sessions.get(bot.key) === existing) this.#sessions.delete(bot.key);
    }
    let pending = this.#sessions.get(bot.key);
    if (!pending) {
      pending = this.#signIn(bot.key, bearer.token, remote);
      this.#sessions.set(bot.key, pending);
    }
    return await pending;
  }

  async #signIn(key: string, token: string, remote: Deno.NetAddr): Promise<BotSession | Response> {
    const addr = remote.hostname.includes(":")
      ? `[${remote.hostname}]:${remote.port}`
      : `${remote.hostname}:${remote.port}`;
    const session = new BotSession(this.chat, this.config.flood, this.log, {
      addr,
      ip: remote.hostname,
    });
    const reply = await session.signIn(token);
    if (!reply.ok) {
      this.#sessions.delete(key);
      await session.close(true);
      if (reply.code === "login_failed") return unauthorized(reply.message);
      return error(statusOf(reply), reply.message);
    }
    session.onEnd = () => {
      // Only this session's entry: a newer one may have taken its place.
      void this.#sessions.get(key)?.then((s) => {
        if (s === session) this.#sessions.delete(key);
      });
    };
    this.log.info("bot session", { name: reply.name, addr });
    return session;
  }

  async #post(request: Request, session: BotSession): Promise<Response> {
    const body = await readBody(request, MAX_POST_BYTES);
    if (body === undefined) {
      return error(413, `body too long: the limit is ${MAX_POST_BYTES} bytes`);
    }
    const parsed = parsePostedMessage(body);
    if (!parsed.ok) return error(400, parsed.error);
    const posted = parsed.message;
    // A line break would end a text line: a multi-line message is posted as one line.
    const text = posted.text.replace(/\r\n|\r|\n/g, " ");
    const limit = this.config.maxLineBytes;
    if (encoder.encode(text).length > limit) {
      return error(413, `text too long: the limit is ${limit} bytes (--max-line)`);
    }
    const verdict = session.guard.check("say", Date.now());
    if (verdict.action !== "allow") {
      const waitMs = verdict.action === "reject" ? Math.ceil(verdict.waitMs) : 1000;
      return json(429, { error: verdict.message, retryAfterMs: waitMs }, {
        "retry-after": String(Math.max(1, Math.ceil(waitMs / 1000))),
      });
    }
    const room = roomOf(posted.gateway);
    let reply = await session.request({ type: "say", text, ...(room ? { room } : {}) });
    if (!reply.ok && reply.code === "not_in_room" && room !== undefined) {
      // The bot joins a room the first time it posts there (and after it was made to leave).
      const joined = await session.request({ type: "join", room });
      if (!joined.ok) return error(statusOf(joined), joined.message);
      reply = await session.request({ type: "say", text, room });
    }
    if (!reply.ok) return error(statusOf(reply), reply.message);
    return json(200, postedReply(posted, `api.${session.user.name}`, new Date()));
  }

  #messages(request: Request, session: BotSession): Response {
    const skip = parseSkipBefore(request.headers.get("skip_before"));
    if (skip === null) return error(400, "skip_before is not an RFC 3339 time");
    const messages = session.takeBuffer().filter((m) => afterSkip(m, skip));
    // Matterbridge answers with Go's JSONPretty and a one-space indent.
    return new Response(JSON.stringify(messages, null, " ") + "\n", {
      headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
    });
  }

  #stream(request: Request, session: BotSession): Response {
    const skip = parseSkipBefore(request.headers.get("skip_before"));
    if (skip === null) return error(400, "skip_before is not an RFC 3339 time");
    // As Matterbridge: the greeting, the buffered messages after skip_before, then each one.
    const stream = session.openStream(
      this.config.maxQueueBytes,
      apiConnected(new Date()),
      (m) => afterSkip(m, skip),
    );
    return new Response(stream.body, {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  }

  #sweepIdle(now: number): void {
    for (const pending of this.#sessions.values()) {
      void pending.then((s) => {
        if (
          s instanceof BotSession && s.streams === 0 && now - s.lastUsedAt > BOT_SESSION_IDLE_MS
        ) {
          this.log.info("bot session idle", { name: s.user.name });
          void s.close(false);
        }
      });
    }
  }
}
