/**
 * Carries out parsed requests against the chat core and the store. Dialect-independent: both
 * codecs' requests land here. Most requests are synchronous; those that hash a password return a
 * promise (the transport stops reading that connection until it settles, keeping order).
 *
 * @module
 */

import { checkPassword, hashPassword, LoginLimiter, verifyPassword } from "./accounts.ts";
import type { ChatCore } from "./chat_core.ts";
import { fail, type PublicEvent } from "./events.ts";
import type { Logger } from "./log.ts";
import { nameKey, validateName } from "./names.ts";
import type { Reply, Request } from "./requests.ts";
import { sanitizeText } from "./sanitize.ts";
import type { Store } from "./store.ts";
import { type Bans, banTarget } from "./bans.ts";
import { parseDuration } from "./units.ts";
import type { User } from "./user.ts";

/** One connection as the dispatcher sees it. */
export interface Session {
  user: User;
  /** The client's IP address, for login throttling. */
  ip: string;
  /** Whether the client acknowledges offline messages (JSON) or takes delivery as written (text). */
  acks: boolean;
  /** True once the connection is closing; async requests check it after they wake. */
  readonly closing: boolean;
}

/** The requests whose success depends on the group commit that follows them. */
const WRITES = new Set<Request["type"]>(["say", "msg", "register", "passwd", "ack"]);

/** Whether a failed commit turns `request`'s success into a `store_failed` error. */
export function writesToStore(request: Request): boolean {
  return WRITES.has(request.type);
}

/** What the dispatcher works with. */
export interface DispatcherOptions {
  core: ChatCore;
  store: Store;
  log: Logger;
  /** Public messages sent to a JSON client when it joins. */
  historyOnJoin: number;
  /** Name keys of the registered accounts that may kick and ban. */
  admins: ReadonlySet<string>;
  bans: Bans;
  limiter?: LoginLimiter;
}

/**
 * Executes requests for sessions.
 *
 * @example
 * ```ts
 * const dispatcher = new Dispatcher({ core, store, log, historyOnJoin: 50, admins, bans });
 * const reply = await dispatcher.execute(session, { type: "who" });
 * ```
 */
export class Dispatcher {
  readonly core: ChatCore;
  readonly store: Store;
  readonly log: Logger;
  readonly historyOnJoin: number;
  readonly admins: ReadonlySet<string>;
  readonly bans: Bans;
  readonly limiter: LoginLimiter;

  constructor(options: DispatcherOptions) {
    this.core = options.core;
    this.store = options.store;
    this.log = options.log;
    this.historyOnJoin = options.historyOnJoin;
    this.admins = options.admins;
    this.bans = options.bans;
    this.limiter = options.limiter ?? new LoginLimiter();
  }

  /** Executes `request` for `session`. */
  execute(session: Session, request: Request): Reply | Promise<Reply> {
    const { core, store } = this;
    const user = session.user;
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
          return fail("name_banned", "this name is banned from this server");
        }
        return core.rename(user, request.name);
      case "who":
        return { ok: true, users: core.who().map((u) => ({ name: u.name, addr: u.addr })) };
      case "history":
        return { ok: true, messages: store.recentPublic(request.limit ?? 50, request.before) };
      case "register":
        return this.#register(session, request.password);
      case "login":
        return this.#login(session, request.name, request.password);
      case "passwd":
        return this.#passwd(session, request.old, request.new);
      case "ack":
        if (user.account) store.removeFromInbox(user.account, request.msgIds);
        return { ok: true };
      case "kick":
        return this.#kick(session, request.name, request.reason);
      case "ban":
        return this.#ban(session, request.target, request.duration, request.reason);
      case "unban": {
        if (!this.#isAdmin(session)) return notAdmin();
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
    }
  }

  /** The public messages a joining JSON client is sent, oldest first, marked as history. */
  joinHistory(): PublicEvent[] {
    return this.store.recentPublic(this.historyOnJoin).map((m) => ({
      kind: "public",
      ...m,
      history: true,
      wire: [],
    }));
  }

  /**
   * Delivers what waited in the inbox of the account `session` is logged in as. Text clients
   * cannot acknowledge, so for them delivery is final once queued; JSON clients `ack`.
   */
  deliverInbox(session: Session): void {
    const key = session.user.account;
    if (!key) return;
    const waiting = this.store.inbox(key);
    for (const m of waiting) {
      session.user.peer.deliver({ kind: "private", ...m, fromAddr: "", offline: true, wire: [] });
    }
    if (!session.acks) this.store.removeFromInbox(key, waiting.map((m) => m.msgId));
  }

  #isAdmin(session: Session): boolean {
    return session.user.account !== undefined && this.admins.has(session.user.account);
  }

  #kick(session: Session, name: string, reason = ""): Reply {
    if (!this.#isAdmin(session)) return notAdmin();
    const target = this.core.find(sanitizeText(name).trim());
    if (!target) return fail("not_online", "the receiver is not online");
    const why = sanitizeText(reason).trim();
    this.log.warn("kick", { by: session.user.name, name: target.name, reason: why });
    target.peer.kick("kicked", `you were kicked by ${session.user.name}${why ? `: ${why}` : ""}`);
    return { ok: true, name: target.name };
  }

  #ban(session: Session, rawTarget: string, duration = "", reason = ""): Reply {
    if (!this.#isAdmin(session)) return notAdmin();
    const { kind, target } = banTarget(sanitizeText(rawTarget));
    if (target === "") return fail("bad_request", "ban needs a name or an IP address");
    let until: number | null = null;
    if (duration.trim() !== "" && duration.trim() !== "0") {
      try {
        until = this.bans.clock() + parseDuration(duration.trim(), "ban duration");
      } catch (e) {
        return fail("bad_request", (e as Error).message.replace("--ban duration", "the duration"));
      }
    }
    const why = sanitizeText(reason).trim();
    this.bans.add({ kind, target, until, reason: why });
    this.log.warn("ban", { by: session.user.name, kind, target, until: until ?? "forever" });
    const text = "you are banned from this server";
    for (const u of this.core.who()) {
      const hit = kind === "ip" ? ipOf(u.addr) === target : nameKey(u.name) === target;
      if (hit && u !== session.user) u.peer.kick("banned", text);
    }
    return { ok: true, name: target };
  }

  async #register(session: Session, password: string): Promise<Reply> {
    const claim = this.core.claimable(session.user);
    if (!claim.ok) return claim;
    const weak = checkPassword(password);
    if (weak) return weak;
    const { salt, hash } = await hashPassword(password);
    // The world may have moved while hashing: check again.
    const still = this.core.claimable(session.user);
    if (!still.ok) return still;
    if (session.closing) return fail("not_logged_in", "the connection closed");
    this.store.putAccount({ key: still.key, name: session.user.name, salt, hash });
    session.user.account = still.key;
    this.log.info("register", { name: session.user.name, ip: session.ip });
    return { ok: true, name: session.user.name };
  }

  async #login(session: Session, name: string, password: string): Promise<Reply> {
    if (this.bans.find("name", nameKey(sanitizeText(name).trim()))) {
      return fail("name_banned", "this name is banned from this server");
    }
    const wait = this.limiter.waitMs(session.ip);
    if (wait > 0) {
      const message = `too many failed logins: try again in ${Math.ceil(wait / 1000)} s`;
      return { ...fail("rate_limited", message), retryAfterMs: wait };
    }
    const valid = validateName(sanitizeText(name));
    const account = valid.ok ? this.store.account(nameKey(valid.name)) : undefined;
    // Hash even for an unknown name, so timing does not tell which names exist.
    const matches = account
      ? await verifyPassword(password, account.salt, account.hash)
      : (await hashPassword(password), false);
    if (!account || !matches) {
      this.limiter.failed(session.ip);
      this.log.warn("login failed", { ip: session.ip, name: sanitizeText(name).slice(0, 40) });
      return fail("login_failed", "wrong name or password");
    }
    this.limiter.succeeded(session.ip);
    if (session.closing) return fail("login_failed", "the connection closed");
    const signed = this.core.signIn(session.user, account.key, account.name);
    this.log.info("login", { name: account.name, ip: session.ip });
    return signed;
  }

  async #passwd(session: Session, old: string, next: string): Promise<Reply> {
    const key = session.user.account;
    if (!key) return fail("not_logged_in", "log in first");
    const weak = checkPassword(next);
    if (weak) return weak;
    const account = this.store.account(key);
    if (!account || !(await verifyPassword(old, account.salt, account.hash))) {
      this.limiter.failed(session.ip);
      return fail("login_failed", "wrong password");
    }
    const { salt, hash } = await hashPassword(next);
    this.store.putAccount({ ...account, salt, hash });
    this.log.info("password changed", { name: account.name });
    return { ok: true };
  }
}

function notAdmin(): Reply {
  return fail("not_admin", "only operators (--admin, logged in) may do that");
}

/**
 * The IP part of an `IP:PORT` or `[IPv6]:PORT` address.
 *
 * @example
 * ```ts
 * ipOf("[::1]:5000"); // "::1"
 * ```
 */
export function ipOf(addr: string): string {
  const colon = addr.lastIndexOf(":");
  return addr.slice(0, colon).replace(/^\[|\]$/g, "").toLowerCase();
}
