/**
 * Catch-up and read markers: the requests about stored history (`catchup`, `mark`, `markers`).
 * A client says the last message id it saw in a target (`#lobby`, a room, or `private` for its
 * account's own private messages) and gets what came after, oldest first, a page at a time, so
 * a device that was away fetches exactly what it missed. Message ids only grow (one counter for
 * every message), so "after id N" has no gaps and no repeats whatever else was said elsewhere.
 *
 * Search finds the messages holding every word of a query among those the asker may read: the
 * lobby, the rooms it is a member of, and its account's own private messages; newest first.
 *
 * Read markers belong to the account: one connection moves a marker, the account's other
 * connections are told (a `marker` event), so every device shows the same unread counts.
 *
 * @module
 */

import { fail, type MarkerEvent, MAX_UNREAD_COUNT, type Result } from "../protocol/events.ts";
import type { MarkerInfo, Reply, Request } from "../protocol/requests.ts";
import { CATCHUP_PAGE, PRIVATE_TARGET, SEARCH_PAGE } from "../protocol/history_codec.ts";
import type { ChatCore } from "./chat.ts";
import { isLobby, LOBBY } from "./rooms.ts";
import type { ChatStorage, HistoryScope, SearchTerm, StoredMessage } from "./storage.ts";
import type { User } from "./user.ts";

/** What history requests need from the dispatcher. */
export interface HistoryContext {
  core: ChatCore;
  store: ChatStorage;
  /** The most bytes one reply may carry (a quarter of the asker's queue). */
  replyBudgetBytes: number;
}

/** A target the asker may read: where its messages are, its marker key and its display name. */
interface Target {
  scope: HistoryScope;
  key: string;
  name: string;
}

/**
 * Carries out `request` when it is a history request, or returns `undefined`.
 *
 * @example
 * ```ts
 * import { executeHistoryRequest } from "./history.ts";
 * import { ChatCore } from "./chat.ts";
 * import { MemoryStorage } from "../store/memory.ts";
 *
 * const core = new ChatCore();
 * const user = core.join({ deliver() {}, kick() {} }, "127.0.0.1:5000");
 * const ctx = { core, store: new MemoryStorage(), replyBudgetBytes: 65536 };
 * executeHistoryRequest(ctx, user, { type: "catchup", target: "#lobby", after: 0 });
 * // { ok: true, target: "#lobby", messages: [], more: false, last: 0 }
 * ```
 */
export function executeHistoryRequest(
  ctx: HistoryContext,
  user: User,
  request: Request,
): Reply | undefined {
  switch (request.type) {
    case "catchup":
      return catchup(ctx, user, request.target, request.after, request.limit ?? CATCHUP_PAGE);
    case "mark":
      return mark(ctx, user, request.target, request.msgId);
    case "markers":
      return markers(ctx, user);
    case "mentions":
      user.marksMentions = request.on;
      return { ok: true };
    case "search":
      return search(ctx, user, request.query, request.before, request.limit ?? SEARCH_PAGE);
    case "history":
      // `history` of the lobby and of rooms is the rooms' (lib/core/room_requests.ts).
      if (request.room !== PRIVATE_TARGET) return undefined;
      return privateHistory(ctx, user, request.limit ?? HISTORY_PAGE, request.before);
    default:
      return undefined;
  }
}

/** The target `raw` names, if `user` may read it. */
function resolve(ctx: HistoryContext, user: User, raw: string): Result<{ target: Target }> {
  if (raw === PRIVATE_TARGET) {
    if (user.account === undefined) {
      return fail("not_logged_in", "private history is kept only for registered names: log in");
    }
    const scope: HistoryScope = { kind: "private", account: user.account };
    return { ok: true, target: { scope, key: PRIVATE_TARGET, name: PRIVATE_TARGET } };
  }
  if (isLobby(raw)) {
    return { ok: true, target: { scope: { kind: "lobby" }, key: LOBBY, name: LOBBY } };
  }
  const who = ctx.core.rooms.who(user, raw); // members only, as for a room's `history`
  if (!who.ok) return who;
  const { key, name } = who.room;
  return { ok: true, target: { scope: { kind: "room", key }, key, name } };
}

/** Up to `limit` messages of `raw` after `after`, oldest first, that fit in one reply. */
function catchup(ctx: HistoryContext, user: User, raw: string, after: number, limit: number) {
  const r = resolve(ctx, user, raw);
  if (!r.ok) return r;
  const { scope, name } = r.target;
  const rows = ctx.store.messagesAfter(scope, after, limit + 1);
  let page = oldestFitting(rows.slice(0, limit), ctx.replyBudgetBytes);
  const more = rows.length > page.length;
  if (scope.kind === "room") page = page.map((m) => ({ ...m, room: name }));
  return {
    ok: true as const,
    target: name,
    messages: page,
    more,
    last: page.at(-1)?.msgId ?? after,
  };
}

/** Messages per `history` page when the request names no limit. */
const HISTORY_PAGE = 50;

/**
 * The account's own private messages (sent and received) before `before`, the newest `limit`
 * that fit in one reply, oldest first: what a page shows of its private conversations after a
 * reload, and pages back through.
 */
function privateHistory(
  ctx: HistoryContext,
  user: User,
  limit: number,
  before: number | undefined,
): Reply {
  const r = resolve(ctx, user, PRIVATE_TARGET);
  if (!r.ok) return r;
  const rows = ctx.store.messagesBefore(r.target.scope, before, limit);
  return { ok: true, messages: newestFitting(rows, ctx.replyBudgetBytes) };
}

/** The most bytes `m` takes in a reply: 3 per UTF-16 unit of its text, plus the frame around it. */
function replyBytes(m: StoredMessage): number {
  return m.text.length * 3 + 200;
}

/**
 * The last of `messages` that fit in `budget` bytes (at least one, so paging always moves), oldest
 * first: pages that go back (`history`, the lobby's on joining, private history).
 */
export function newestFitting(messages: StoredMessage[], budget: number): StoredMessage[] {
  let total = 0;
  let first = messages.length;
  while (first > 0) {
    total += replyBytes(messages[first - 1]);
    if (total > budget && first < messages.length) break;
    first--;
  }
  return messages.slice(first);
}

/**
 * The first of `messages` that fit in `budget` bytes (at least one, so paging always moves):
 * pages go one way (catch-up forward, search back), so what does not fit is asked for next.
 */
function oldestFitting(messages: StoredMessage[], budget: number): StoredMessage[] {
  let total = 0;
  let n = 0;
  for (const m of messages) {
    total += replyBytes(m);
    if (total > budget && n > 0) break;
    n++;
  }
  return messages.slice(0, n);
}

/** Moves the account's marker of `raw` forward to `msgId` and tells its other connections. */
function mark(ctx: HistoryContext, user: User, raw: string, msgId: number): Reply {
  const account = user.account;
  if (account === undefined) {
    return fail("not_logged_in", "read markers are kept only for registered names: log in");
  }
  const r = resolve(ctx, user, raw);
  if (!r.ok) return r;
  const { scope, key, name } = r.target;
  const current = ctx.store.markers(account).find((m) => m.target === key)?.msgId ?? 0;
  // Never backwards: a device that read less than another does not undo what that one read.
  const marked = Math.max(current, msgId);
  const unread = ctx.store.countAfter(scope, marked, MAX_UNREAD_COUNT);
  if (marked !== current) {
    ctx.store.putMarker(account, key, marked);
    const event: MarkerEvent = { kind: "marker", target: name, msgId: marked, unread, wire: [] };
    for (const other of ctx.core.findAll(user.name)) {
      if (other !== user && other.account === account) other.deliver(event);
    }
  }
  return { ok: true, target: name, msgId: marked, unread };
}

/** The account's markers of targets it may still read, with their unread counts. */
function markers(ctx: HistoryContext, user: User): Reply {
  const account = user.account;
  if (account === undefined) {
    return fail("not_logged_in", "read markers are kept only for registered names: log in");
  }
  const out: MarkerInfo[] = [];
  for (const { target: key, msgId } of ctx.store.markers(account)) {
    // A room's key is its name case-folded, which names it as well as its display name does.
    const r = resolve(ctx, user, key);
    if (!r.ok) continue; // a room left or closed since
    const unread = ctx.store.countAfter(r.target.scope, msgId, MAX_UNREAD_COUNT);
    out.push({ target: r.target.name, msgId, unread });
  }
  return { ok: true, markers: out };
}

/** The most words one search looks for. */
const MAX_SEARCH_TERMS = 8;

/**
 * The words of a query: split at spaces, quotes dropped, `word*` a prefix; words with no letter
 * or digit are left out (they would match nothing).
 *
 * @example
 * ```ts
 * import { searchTerms } from "./history.ts";
 *
 * searchTerms('deplo* "friday"'); // [{ text: "deplo", prefix: true }, { text: "friday", prefix: false }]
 * ```
 */
export function searchTerms(query: string): SearchTerm[] {
  const terms: SearchTerm[] = [];
  for (const raw of query.normalize("NFC").replaceAll('"', " ").split(/\s+/u)) {
    const prefix = raw.endsWith("*");
    const text = raw.replace(/\*+$/u, "");
    if (/[\p{L}\p{N}]/u.test(text)) terms.push({ text, prefix });
  }
  return terms.slice(0, MAX_SEARCH_TERMS);
}

/** A page of what `user` may read holding every word of `query`, newest first. */
function search(
  ctx: HistoryContext,
  user: User,
  query: string,
  before: number | undefined,
  limit: number,
): Reply {
  const terms = searchTerms(query);
  if (terms.length === 0) {
    return fail("bad_request", "search needs a word to look for (letters or digits)");
  }
  const rooms = ctx.core.rooms.of(user);
  const scope = { rooms: rooms.map((r) => r.key), account: user.account };
  const rows = ctx.store.search(terms, scope, before ?? Number.MAX_SAFE_INTEGER, limit + 1);
  const page = oldestFitting(rows.slice(0, limit), ctx.replyBudgetBytes);
  const names = new Map(rooms.map((r) => [r.key, r.name]));
  const messages = page.map((m) =>
    m.room === undefined ? m : { ...m, room: names.get(m.room) ?? m.room }
  );
  return {
    ok: true,
    query: terms.map((t) => t.text + (t.prefix ? "*" : "")).join(" "),
    messages,
    more: rows.length > page.length,
    last: page.at(-1)?.msgId ?? before ?? 0,
  };
}
