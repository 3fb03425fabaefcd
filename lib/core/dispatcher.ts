/**
 * Carries out parsed requests against the chat core and the store. Dialect-independent: both
 * codecs' requests land here. Most requests are synchronous; those that hash a password return a
 * promise (the transport stops reading that connection until it settles, keeping order).
 *
 * @module
 */

import {
  checkPassword,
  HashBusyError,
  hashPassword,
  LoginLimiter,
  verifyPassword,
} from "./accounts.ts";
import { addressKey, ipOf } from "../shared/address.ts";
import { isTokenShaped, tokenDigest } from "./bot_tokens.ts";
import type { ChatCore } from "./chat.ts";
import { type ChatEvent, fail, type PrivateEvent, type PublicEvent } from "../protocol/events.ts";
import type { Logger } from "../shared/log.ts";
import { nameKey, validateName } from "../shared/names.ts";
import type { Reply, Request } from "../protocol/requests.ts";
import { sanitizeText } from "../shared/sanitize.ts";
import type { ChatStorage, StoredMessage } from "./storage.ts";
import { type Bans, banTarget } from "./bans.ts";
import { durationMs, UnitError } from "../shared/units.ts";
import type { User } from "./user.ts";
import { executeRoomRequest, type RoomContext } from "./room_requests.ts";
import { executeHistoryRequest, newestFitting } from "./history.ts";

/** One connection as the dispatcher sees it. */
export interface Requester {
  user: User;
  /** The client's IP address, for login throttling. */
  ip: string;
  /** Whether the client acknowledges offline messages (JSON) or takes delivery as written (text). */
  sendsAcks: boolean;
  /** True once the connection is closing; async requests check it after they wake. */
  readonly closing: boolean;
}

/** What the dispatcher works with. */
export interface DispatcherOptions {
  core: ChatCore;
  store: ChatStorage;
  log: Logger;
  /** Public messages sent to a JSON client when it joins. */
  historyOnJoin: number;
  /** The most bytes of history one reply carries, so it fits in the asker's queue. */
  replyBudgetBytes: number;
  /** Name keys of the registered accounts that may kick and ban. */
  admins: ReadonlySet<string>;
  bans: Bans;
  limiter?: LoginLimiter;
}

/**
 * Executes requests for requesters.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "./dispatcher.ts";
 * import { ChatCore } from "./chat.ts";
 * import { Bans } from "./bans.ts";
 * import type { ChatStorage } from "./storage.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * // The storage is any ChatStorage: lib/store/'s SQLite, or the one in memory.
 * async function who(store: ChatStorage): Promise<void> {
 *   const core = new ChatCore();
 *   const dispatcher = new Dispatcher({
 *     core,
 *     store,
 *     log: new Logger("info"),
 *     historyOnJoin: 50,
 *     replyBudgetBytes: 256 * 1024,
 *     admins: new Set(["alice"]),
 *     bans: new Bans(store),
 *   });
 *   const user = core.join({ deliver() {}, kick() {} }, "127.0.0.1:5000");
 *   const requester = { user, ip: "127.0.0.1", sendsAcks: true, closing: false };
 *   const reply = await dispatcher.execute(requester, { type: "who" }); // { ok: true, users: [...] }
 * }
 * ```
 */
export class Dispatcher {
  readonly core: ChatCore;
  readonly store: ChatStorage;
  readonly log: Logger;
  readonly historyOnJoin: number;
  readonly replyBudgetBytes: number;
  readonly admins: ReadonlySet<string>;
  readonly bans: Bans;
  readonly limiter: LoginLimiter;
  readonly #rooms: RoomContext;
  /** What each user who just logged in is owed from its rooms, sent after the login's reply. */
  readonly #backlogs = new WeakMap<User, ChatEvent[]>();

  constructor(options: DispatcherOptions) {
    this.core = options.core;
    this.store = options.store;
    this.log = options.log;
    this.historyOnJoin = options.historyOnJoin;
    this.replyBudgetBytes = options.replyBudgetBytes;
    this.admins = options.admins;
    this.bans = options.bans;
    this.limiter = options.limiter ?? new LoginLimiter();
    this.#rooms = {
      core: this.core,
      store: this.store,
      isAdmin: (user) => user.account !== undefined && this.admins.has(user.account),
      budgeted: (messages) => this.#budgeted(messages),
      replyBudgetBytes: this.replyBudgetBytes,
    };
  }

  /** Executes `request` for `requester`. */
  execute(requester: Requester, request: Request): Reply | Promise<Reply> {
    const { core, store } = this;
    const user = requester.user;
    // What was announced before this request reaches the user before its answer does.
    core.catchUp(user);
    // History first: `history` of `private` is the account's, any other `history` a room's.
    const history = executeHistoryRequest(this.#rooms, user, request);
    if (history) return history;
    const room = executeRoomRequest(this.#rooms, user, request);
    if (room) return room;
    switch (request.type) {
      case "say":
        return core.say(user, request.text);
      case "msg": {
        const sent = core.whisper(user, request.to, request.text);
        if (!sent.ok) return sent;
        return sent.stored ? { ...sent, to: sanitizeText(request.to).trim() } : sent;
      }
      case "rename":
        if (this.bans.find("name", nameKey(sanitizeText(request.name).trim()))) {
          return fail("name_banned");
        }
        return core.rename(user, request.name);
      case "who":
        return { ok: true, users: core.who().map((u) => ({ name: u.name, addr: u.addr })) };
      case "history":
        return {
          ok: true,
          messages: this.#budgeted(store.recentPublic(request.limit ?? 50, request.before)),
        };
      case "register":
        return this.#register(requester, request.password);
      case "login":
        return this.#login(requester, request.name, request.password, request.takeover);
      case "bot_login":
        return this.#botLogin(requester, request.token);
      case "passwd":
        return this.#passwd(requester, request.old, request.new);
      case "ack":
        if (user.account) store.removeFromInbox(user.account, request.msgIds);
        return { ok: true };
      case "kick":
        return this.#kick(requester, request.name, request.reason);
      case "ban":
        return this.#ban(requester, request.target, request.duration, request.reason);
      case "unban": {
        if (!this.#isAdmin(requester)) return notAdmin();
        const { target } = banTarget(sanitizeText(request.target));
        if (!this.bans.remove(target)) return fail("bad_request", `${target} is not banned`);
        this.log.warn("unban", { by: user.name, target });
        return { ok: true, name: target };
      }
      case "ping":
      case "quit":
        return { ok: true };
      case "invalid":
        return { ok: false, code: request.code, message: request.message };
      default:
        // Room requests were carried out above; a room request lands here only on a bug.
        return fail("bad_request", `${request.type} is not understood here`);
    }
  }

  /**
   * What `user`'s rooms owe it since it logged in (its `joined` lines and what was said while it
   * was away), once: sent after the login's reply or the welcome.
   */
  takeBacklog(user: User): ChatEvent[] {
    const events = this.#backlogs.get(user) ?? [];
    this.#backlogs.delete(user);
    return events;
  }

  /** The public messages a joining JSON client is sent, oldest first, marked as history. */
  joinHistory(): PublicEvent[] {
    return this.#budgeted(this.store.recentPublic(this.historyOnJoin)).map((m) => ({
      kind: "public",
      ...m,
      history: true,
      wire: [],
    }));
  }

  /** The private messages waiting for the account `key`, oldest first, marked offline. */
  inbox(key: string): PrivateEvent[] {
    return this.store.inbox(key).map((m) => ({
      kind: "private",
      ...m,
      fromAddr: "",
      offline: true,
      wire: [],
    }));
  }

  /** The newest of `messages` that fit in {@link replyBudgetBytes}, oldest first. */
  #budgeted(messages: StoredMessage[]): StoredMessage[] {
    return newestFitting(messages, this.replyBudgetBytes);
  }

  #isAdmin(requester: Requester): boolean {
    return requester.user.account !== undefined && this.admins.has(requester.user.account);
  }

  #kick(requester: Requester, name: string, reason = ""): Reply {
    if (!this.#isAdmin(requester)) return notAdmin();
    // Every connection of the name: kicking one of an account's devices would leave it online.
    const targets = [...this.core.findAll(sanitizeText(name).trim())];
    if (targets.length === 0) {
      return fail("not_online", `${sanitizeText(name).trim()} is not online`);
    }
    const why = sanitizeText(reason).trim();
    this.log.warn("kick", { by: requester.user.name, name: targets[0].name, reason: why });
    const text = `you were kicked by ${requester.user.name}${why ? `: ${why}` : ""}`;
    for (const target of targets) target.peer.kick("kicked", text);
    return { ok: true, name: targets[0].name };
  }

  #ban(requester: Requester, rawTarget: string, duration = "", reason = ""): Reply {
    if (!this.#isAdmin(requester)) return notAdmin();
    const { kind, target } = banTarget(sanitizeText(rawTarget));
    if (target === "") return fail("bad_request", "ban needs a name or an IP address");
    let until: number | null = null;
    if (duration.trim() !== "" && duration.trim() !== "0") {
      try {
        until = this.bans.clock() + durationMs(duration.trim());
      } catch (e) {
        if (e instanceof UnitError) return fail("bad_request", `ban duration: ${e.message}`);
        throw e;
      }
    }
    const why = sanitizeText(reason).trim();
    this.bans.add({ kind, target, until, reason: why });
    this.log.warn("ban", { by: requester.user.name, kind, target, until: until ?? "forever" });
    const text = "you are banned from this server";
    for (const u of this.core.connections()) {
      const hit = kind === "ip" ? ipOf(u.addr) === target : nameKey(u.name) === target;
      if (hit && u !== requester.user) u.peer.kick("banned", text);
    }
    return { ok: true, name: target };
  }

  /** Refuses a password check while the address has failed too often. */
  #throttled(requester: Requester): Reply | undefined {
    const wait = this.limiter.waitMs(addressKey(requester.ip));
    if (wait <= 0) return undefined;
    const message = `too many failed logins: try again in ${Math.ceil(wait / 1000)} s`;
    return { ...fail("rate_limited", message), retryAfterMs: wait };
  }

  async #register(requester: Requester, password: string): Promise<Reply> {
    const claim = this.core.claimable(requester.user);
    if (!claim.ok) return claim;
    const weak = checkPassword(password);
    if (weak) return weak;
    let salt: Uint8Array, hash: Uint8Array;
    try {
      ({ salt, hash } = await hashPassword(password));
    } catch (e) {
      if (e instanceof HashBusyError) return busy();
      throw e;
    }
    // The world may have moved while hashing: check again.
    const still = this.core.claimable(requester.user);
    if (!still.ok) return still;
    if (requester.closing) return fail("connection_closed");
    this.store.putAccount({ key: still.key, name: requester.user.name, salt, hash });
    requester.user.account = still.key;
    this.core.rooms.registered(requester.user);
    this.log.info("register", { name: requester.user.name, ip: requester.ip });
    return { ok: true, name: requester.user.name };
  }

  async #login(
    requester: Requester,
    name: string,
    password: string,
    takeover = false,
  ): Promise<Reply> {
    if (this.bans.find("name", nameKey(sanitizeText(name).trim()))) {
      return fail("name_banned");
    }
    const throttled = this.#throttled(requester);
    if (throttled) return throttled;
    const valid = validateName(sanitizeText(name));
    const account = valid.ok ? this.store.account(nameKey(valid.name)) : undefined;
    // Hash even for an unknown name, so timing does not tell which names exist.
    let matches: boolean;
    try {
      matches = account
        ? await verifyPassword(password, account.salt, account.hash)
        : (await hashPassword(password), false);
    } catch (e) {
      if (e instanceof HashBusyError) return busy();
      throw e;
    }
    if (!account || !matches) {
      this.limiter.failed(addressKey(requester.ip));
      this.log.warn("login failed", { ip: requester.ip, name: sanitizeText(name).slice(0, 40) });
      return fail("login_failed");
    }
    // Failures are not forgiven by a success: they age out, so logging in to an account of
    // one's own between guesses does not reset the count.
    if (requester.closing) return fail("connection_closed");
    const signed = this.core.signIn(requester.user, account.key, account.name, takeover);
    this.#backlogs.set(requester.user, this.core.rooms.rejoin(requester.user));
    this.log.info("login", { name: account.name, ip: requester.ip, takeover });
    return signed;
  }

  /**
   * Signs a bot API session in as the bot whose token it holds. The token was checked by the
   * HTTP front already; it is checked again here, where the store is, since it may have been
   * revoked meanwhile (with --workers the front is in another thread).
   */
  #botLogin(requester: Requester, token: string): Reply {
    const bot = this.botByToken(token);
    if (!bot) return fail("login_failed", "unknown or revoked bot token");
    return this.signInBot(requester, bot);
  }

  /** The bot whose token this is, if the store knows it (a revoked one it does not). */
  botByToken(token: string): { key: string; name: string } | undefined {
    return isTokenShaped(token) ? this.store.botByDigest(tokenDigest(token)) : undefined;
  }

  /**
   * Signs `requester` in as the bot `bot` without its token. Not a request, so no client can
   * reach it: the server's own bridges use it (lib/server/matterbridge_bridge.ts), as the
   * operator named the bot on the command line. The bot must still exist and not be banned.
   */
  signInBot(requester: Requester, bot: { key: string; name: string }): Reply {
    if (this.store.botName(bot.key) === undefined) return fail("login_failed", "no such bot");
    if (this.bans.find("name", bot.key)) return fail("name_banned");
    if (requester.closing) return fail("connection_closed");
    this.log.info("bot signed in", { name: bot.name, ip: requester.ip });
    return this.core.signInBot(requester.user, bot.key, bot.name);
  }

  async #passwd(requester: Requester, old: string, next: string): Promise<Reply> {
    const key = requester.user.account;
    if (!key) return fail("not_logged_in");
    const weak = checkPassword(next);
    if (weak) return weak;
    const throttled = this.#throttled(requester);
    if (throttled) return throttled;
    const account = this.store.account(key);
    let salt: Uint8Array, hash: Uint8Array;
    try {
      if (!account || !(await verifyPassword(old, account.salt, account.hash))) {
        this.limiter.failed(addressKey(requester.ip));
        return fail("login_failed", "wrong password");
      }
      ({ salt, hash } = await hashPassword(next));
    } catch (e) {
      if (e instanceof HashBusyError) return busy();
      throw e;
    }
    this.store.putAccount({ ...account, salt, hash });
    this.log.info("password changed", { name: account.name });
    return { ok: true };
  }
}

function busy(): Reply {
  return { ...fail("busy"), retryAfterMs: 1000 };
}

function notAdmin(): Reply {
  return fail("not_admin");
}
