/**
 * Each request type's facts in one table, as Ergo's `commands.go` keeps each command's: whether
 * its success waits for the group commit, whether it checks a password (and so is answered
 * later), and which rate class the flood guard charges it to. The dispatcher and the flood guard
 * read this table instead of keeping their own lists, so a new request type is added in one place
 * and the compiler asks for its row.
 *
 * @module
 */

import type { Request } from "./requests.ts";

/**
 * Which flood-guard buckets a request costs: `message` one message token; `rename` and `who` one
 * message token and one of their own (they are costly to everyone online); `free` nothing.
 */
export type RateClass = "message" | "rename" | "who" | "free";

/** What the server needs to know about a request type before carrying it out. */
export interface RequestFacts {
  /** Its success depends on the group commit that follows it (a failed commit is `store_failed`). */
  writes: boolean;
  /** It checks a password: answered later, and its connection reads on only once answered. */
  checksPassword: boolean;
  /** The flood-guard buckets it is charged to. */
  rate: RateClass;
}

/**
 * Every request type's facts.
 *
 * @example
 * ```ts
 * import { REQUESTS } from "./request_table.ts";
 *
 * REQUESTS.say.writes; // true
 * REQUESTS.login.checksPassword; // true
 * REQUESTS.who.rate; // "who"
 * ```
 */
export const REQUESTS: Readonly<Record<Request["type"], Readonly<RequestFacts>>> = Object.freeze({
  say: { writes: true, checksPassword: false, rate: "message" },
  msg: { writes: true, checksPassword: false, rate: "message" },
  who: { writes: false, checksPassword: false, rate: "who" },
  rename: { writes: false, checksPassword: false, rate: "rename" },
  ping: { writes: false, checksPassword: false, rate: "message" },
  quit: { writes: false, checksPassword: false, rate: "free" },
  history: { writes: false, checksPassword: false, rate: "message" },
  register: { writes: true, checksPassword: true, rate: "message" },
  login: { writes: false, checksPassword: true, rate: "message" },
  passwd: { writes: true, checksPassword: true, rate: "message" },
  ack: { writes: true, checksPassword: false, rate: "message" },
  kick: { writes: false, checksPassword: false, rate: "message" },
  ban: { writes: true, checksPassword: false, rate: "message" },
  unban: { writes: true, checksPassword: false, rate: "message" },
  invalid: { writes: false, checksPassword: false, rate: "message" },
  // The bot API's sign-in (its own limits are the HTTP API's, lib/server/http/bot_api.ts).
  bot_login: { writes: false, checksPassword: false, rate: "free" },
  // Rooms (lib/core/rooms.ts): what changes a stored room waits for the group commit.
  join: { writes: true, checksPassword: false, rate: "message" },
  part: { writes: true, checksPassword: false, rate: "message" },
  rooms: { writes: false, checksPassword: false, rate: "who" },
  topic: { writes: true, checksPassword: false, rate: "message" },
  invite: { writes: true, checksPassword: false, rate: "message" },
  mode: { writes: true, checksPassword: false, rate: "message" },
  op: { writes: true, checksPassword: false, rate: "message" },
  close: { writes: true, checksPassword: false, rate: "message" },
  // History (lib/core/history.ts): a marker is stored, so `mark` waits for the commit.
  catchup: { writes: false, checksPassword: false, rate: "message" },
  mark: { writes: true, checksPassword: false, rate: "message" },
  markers: { writes: false, checksPassword: false, rate: "who" },
  mentions: { writes: false, checksPassword: false, rate: "message" },
  // A search reads an index: charged like `who`, which is costly too.
  search: { writes: false, checksPassword: false, rate: "who" },
});

/**
 * Whether a failed commit turns `request`'s success into a `store_failed` error.
 *
 * @example
 * ```ts
 * import { writesToStore } from "./request_table.ts";
 *
 * writesToStore({ type: "say", text: "hi" }); // true
 * writesToStore({ type: "who" }); // false
 * ```
 */
export function writesToStore(request: Request): boolean {
  return REQUESTS[request.type].writes;
}

/**
 * Whether `request` checks a password (and its connection should read on only once answered).
 *
 * @example
 * ```ts
 * import { checksPassword } from "./request_table.ts";
 *
 * checksPassword({ type: "login", name: "tom", password: "secret123" }); // true
 * ```
 */
export function checksPassword(request: Request): boolean {
  return REQUESTS[request.type].checksPassword;
}
