/**
 * The bot HTTP API (docs/BOTS.md), in the shape of Matterbridge's api gateway: `POST
 * /api/message`, `GET /api/messages`, `GET /api/stream` and `GET /api/health`, each with
 * `Authorization: Bearer <token>`. This is the HTTP side: it reads requests and writes answers
 * and streams; the bots' sessions in the chat, and the token checks against the store on every
 * request, are behind {@link BotService} (bot_sessions.ts), in the chat core's thread.
 *
 * @module
 */

import type { ServerConfig } from "./config.ts";
import type { Logger } from "../shared/log.ts";
import { nameKey } from "../shared/names.ts";
import { concat } from "../shared/bytes.ts";
import { lineBreaksToSpaces } from "../shared/sanitize.ts";
import {
  afterSkip,
  apiConnected,
  parsePostedMessage,
  parseSkipBefore,
  postedReply,
} from "../protocol/matterbridge.ts";
import { bearerToken, unauthorized } from "./http/bearer.ts";
import type { BotRefusal, BotService } from "./bot_sessions.ts";
import { BotStream } from "./bot_stream.ts";
import { formatAddr } from "./connection.ts";

/** The largest `POST /api/message` body read; the text itself is held to `--max-line`. */
export const MAX_POST_BYTES = 64 * 1024;

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
  return new TextDecoder().decode(concat(chunks));
}

/**
 * Serves `/api/*` for one HTTP front.
 *
 * @example
 * ```ts
 * import { BotApi } from "./bot_api.ts";
 * import type { BotService } from "./bot_sessions.ts";
 * import { SERVER_DEFAULTS } from "./config.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * function serveBots(bots: BotService): (r: Request, remote: Deno.NetAddr) => Promise<Response> {
 *   const api = new BotApi(SERVER_DEFAULTS, new Logger("info"), bots);
 *   return (request, remote) => api.handle(request, remote);
 * }
 * ```
 */
export class BotApi {
  /** The streams open on this front, ended at shutdown (the HTTP server waits for them). */
  readonly #streams = new Set<BotStream>();
  #closed = false;

  constructor(
    readonly config: ServerConfig,
    readonly log: Logger,
    /** The bots' sessions; undefined in a cluster (--redis), where the API is not served. */
    readonly bots: BotService | undefined,
    readonly shuttingDown: () => boolean = () => false,
  ) {}

  /** Answers a request whose path starts with `/api/`. */
  async handle(request: Request, remote: Deno.NetAddr): Promise<Response> {
    const path = new URL(request.url).pathname;
    const method = ROUTES[path];
    if (method === undefined) return error(404, `no such endpoint: ${path.slice(0, 80)}`);
    if (request.method !== method) {
      return error(405, `${path} takes ${method}`, { allow: method });
    }
    if (!this.bots) return error(501, "the bot API is not served with --redis (docs/BOTS.md)");
    if (this.#closed || this.shuttingDown()) return error(503, "server is shutting down");
    const bearer = bearerToken(request.headers.get("authorization"));
    if (!bearer.ok) return unauthorized(bearer.error);
    const where = { addr: formatAddr(remote), ip: remote.hostname };
    const auth = await this.bots.authorize(bearer.token, where);
    if (!auth.ok) return auth.status === 401 ? unauthorized(auth.error) : refused(auth);
    switch (path) {
      case "/api/message":
        return this.#post(request, this.bots, auth.key, auth.name);
      case "/api/messages":
        return this.#messages(request, this.bots, auth.key);
      case "/api/stream":
        return this.#stream(request, this.bots, auth.key, auth.name);
      default:
        return new Response("OK", { headers: { "content-type": "text/plain; charset=utf-8" } });
    }
  }

  /** Ends the streams open on this front (shutdown): they never end by themselves. */
  close(): void {
    this.#closed = true;
    for (const stream of this.#streams) stream.close();
  }

  async #post(request: Request, bots: BotService, key: string, name: string): Promise<Response> {
    const body = await readBody(request, MAX_POST_BYTES);
    if (body === undefined) {
      return error(413, `body too long: the limit is ${MAX_POST_BYTES} bytes`);
    }
    const parsed = parsePostedMessage(body);
    if (!parsed.ok) return error(400, parsed.error);
    const posted = parsed.message;
    // A line break would end a text line: a multi-line message is posted as one line.
    const text = lineBreaksToSpaces(posted.text);
    const limit = this.config.maxLineBytes;
    if (encoder.encode(text).length > limit) {
      return error(413, `text too long: the limit is ${limit} bytes (--max-line)`);
    }
    const outcome = await bots.post(key, text, roomOf(posted.gateway));
    if (!outcome.ok) return refused(outcome);
    return json(200, postedReply(posted, `api.${name}`, new Date()));
  }

  async #messages(request: Request, bots: BotService, key: string): Promise<Response> {
    const skip = parseSkipBefore(request.headers.get("skip_before"));
    if (skip === null) return error(400, "skip_before is not an RFC 3339 time");
    const skipBots = parseSkipBots(request);
    if (skipBots === null) return error(400, SKIP_BOTS_ERROR);
    const messages = (await bots.take(key, skipBots)).filter((m) => afterSkip(m, skip));
    // Matterbridge answers with Go's JSONPretty and a one-space indent.
    return new Response(JSON.stringify(messages, null, " ") + "\n", {
      headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
    });
  }

  async #stream(request: Request, bots: BotService, key: string, name: string) {
    const skip = parseSkipBefore(request.headers.get("skip_before"));
    if (skip === null) return error(400, "skip_before is not an RFC 3339 time");
    const skipBots = parseSkipBots(request);
    if (skipBots === null) return error(400, SKIP_BOTS_ERROR);
    // As Matterbridge: the greeting, the buffered messages after skip_before, then each one.
    const stream = new BotStream(this.config.maxQueueBytes, apiConnected(new Date()), () => {
      this.log.warn("bot stream dropped", { name, reason: "slow_reader" });
    });
    const subscription = await bots.subscribe(key, skip, stream, skipBots);
    if (!subscription) {
      return error(503, "the bot's session ended meanwhile; try again");
    }
    this.#streams.add(stream);
    stream.onEnd = () => {
      this.#streams.delete(stream);
      subscription.unsubscribe();
    };
    stream.begin(subscription.replay);
    if (this.#closed) stream.close();
    return new Response(stream.body, {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  }
}

const SKIP_BOTS_ERROR = "skip_bots is true or false (or 1 or 0)";

/**
 * FastIM's one addition to Matterbridge's API: `?skip_bots=true` on `/api/messages` and
 * `/api/stream` leaves out what other bots said (buffered and live), so two bots that answer
 * messages cannot feed each other. `null` for a value that is neither.
 */
function parseSkipBots(request: Request): boolean | null {
  const value = new URL(request.url).searchParams.get("skip_bots");
  if (value === null || value === "false" || value === "0") return false;
  if (value === "true" || value === "1") return true;
  return null;
}

/** The endpoints and the method each takes. */
const ROUTES: Record<string, string> = {
  "/api/message": "POST",
  "/api/messages": "GET",
  "/api/stream": "GET",
  "/api/health": "GET",
};

function refused(refusal: BotRefusal): Response {
  const retry = refusal.retryAfterMs;
  if (retry === undefined) return error(refusal.status, refusal.error);
  return json(refusal.status, { error: refusal.error, retryAfterMs: retry }, {
    "retry-after": String(Math.max(1, Math.ceil(retry / 1000))),
  });
}
