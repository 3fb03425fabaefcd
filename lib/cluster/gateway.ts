/**
 * The chat as a connection of a cluster node sees it: the same `ChatGateway` seam as one process
 * (`LocalGateway`) and `--workers` (`EdgeGateway`). A request that changes the chat is appended
 * to the cluster's log and answered when this node applies it, in log order: so its reply leaves
 * only after Redis has the entry (no ack for what was not stored), and after the events it caused,
 * which this node delivers from the log like every other node. Reads (`who`, `history`, `rooms`,
 * `ping`) are answered from the replica, in their turn. Each connection's replies leave in
 * request order whatever happens in between (a refusal while Redis is away, say).
 *
 * @module
 */

import type { Requester } from "../core/dispatcher.ts";
import type { Peer, User } from "../core/user.ts";
import { checkPassword, HashBusyError, hashPassword, verifyPassword } from "../core/accounts.ts";
import { type ChatEvent, fail, type PrivateEvent } from "../protocol/events.ts";
import type { Hello } from "../protocol/json_codec.ts";
import type { Reply, Request } from "../protocol/requests.ts";
import { addressKey } from "../shared/address.ts";
import { nameKey, validateName } from "../shared/names.ts";
import { sanitizeText } from "../shared/sanitize.ts";
import type { Logger } from "../shared/log.ts";
import type { ChatGateway, Welcomed } from "../server/chat_gateway.ts";
import { notice, type ServedConnection } from "../server/connection.ts";
import type { LogCommand } from "./log.ts";
import { type Applied, type Replica, toBase64 } from "./replica.ts";

/** Requests answered from the replica without the log: they change nothing. */
const READS: ReadonlySet<Request["type"]> = new Set([
  "who",
  "history",
  "rooms",
  "ping",
  "quit",
  "invalid",
]);
/** Replies a connection may await before it stops reading (as `--workers` edges do). */
export const MAX_PENDING_REPLIES = 32;
/** How long a logged request waits for its entry to come back before it is refused. */
export const APPLY_TIMEOUT_MS = 10_000;

const UNAVAILABLE: Applied = { reply: fail("unavailable") };

/** A reply in a connection's queue. */
interface Slot {
  reply?: Reply;
  /** A read, carried out when its turn comes (so it sees what the requests before it did). */
  read?: () => Reply;
  after?: ChatEvent[];
  answer: (reply: Reply) => void;
}

/** One connection of this node. */
interface Conn {
  requester?: Requester;
  readonly user: User;
  /** Whether its join is in the log (then its leave must be too). */
  logged: boolean;
  readonly slots: Slot[];
  /** Waiting for the slots to drain (to half, or to none). */
  waiters: { below: number; resolve: () => void }[];
  joined?: () => void;
}

/** What the gateway needs of its node. */
export interface NodeLink {
  readonly id: string;
  append(c: LogCommand): Promise<void>;
}

/**
 * A cluster node's chat.
 *
 * @example
 * ```ts
 * import { ClusterGateway } from "./gateway.ts";
 * import { Replica } from "./replica.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * const log = new Logger("error");
 * let chat: ClusterGateway | undefined;
 * const replica = new Replica("n1", { historyOnJoin: 50, admins: [], maxQueueBytes: 1 << 20 },
 *   log, (cid) => chat?.local(cid));
 * // Appends go to Redis in a real node (node.ts); here they are applied at once.
 * chat = new ClusterGateway(replica, log, {
 *   id: "n1",
 *   append: (c) => Promise.resolve(chat!.applied(c, replica.apply(c, Date.now()))),
 * });
 * ```
 */
export class ClusterGateway implements ChatGateway {
  readonly #conns = new Map<number, Conn>();
  readonly #waiting = new Map<number, (applied: Applied) => void>();
  #seq = 0;
  /** Leaves Redis did not take yet: retried, or the others would see ghosts forever. */
  readonly #leaves: LogCommand[] = [];
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly replica: Replica, readonly log: Logger, readonly node: NodeLink) {}

  /** This node's open connection `cid`, for the replica. */
  local(cid: number): Requester | undefined {
    return this.#conns.get(cid)?.requester;
  }

  /** Hears of an entry of this node's (or about it) being applied. */
  applied(c: LogCommand, applied: Applied | undefined): void {
    if (c.op === "join") this.#conns.get(c.cid)?.joined?.();
    if ("seq" in c) {
      const wake = this.#waiting.get(c.seq);
      this.#waiting.delete(c.seq);
      wake?.(applied ?? UNAVAILABLE);
    }
    if (c.op === "down" && c.node === this.node.id) this.#cutOff();
  }

  join(peer: Peer, addr: string): User {
    const user = this.replica.newUser(addr, peer);
    this.#conns.set(user.id, { user, logged: false, slots: [], waiters: [] });
    return user;
  }

  /** Logs the join; the connection reads once it is applied here (its own `online` first). */
  joined(requester: Requester): Promise<void> {
    const conn = this.#conns.get(requester.user.id);
    if (!conn) return Promise.resolve();
    conn.requester = requester;
    const { promise, resolve } = Promise.withResolvers<void>();
    conn.joined = resolve;
    conn.logged = true;
    const addr = requester.user.addr;
    this.node.append({ op: "join", node: this.node.id, cid: conn.user.id, addr, ip: requester.ip })
      .catch(() => {
        conn.logged = false;
        conn.joined = undefined;
        resolve();
        // Not in the chat: it cannot stay. A closing connection is not told twice.
        if (closable(requester) && !requester.closing) {
          void requester.close(
            "shutdown",
            notice("shutdown", "the chat cannot reach its shared store right now; try again"),
          );
        }
      });
    return promise;
  }

  execute(
    requester: Requester,
    request: Request,
    answer: (reply: Reply) => void,
  ): Promise<void> | void {
    const conn = this.#conns.get(requester.user.id);
    if (!conn) return answer(fail("connection_closed"));
    const slot: Slot = { answer };
    conn.slots.push(slot);
    const cid = conn.user.id;
    const node = this.node.id;
    if (READS.has(request.type)) {
      slot.read = () => this.replica.dispatcher.execute(requester, request) as Reply;
      this.#flush(conn);
      return;
    }
    const settle = (a: Applied) => {
      slot.reply = a.reply;
      slot.after = a.after;
      this.#flush(conn);
    };
    if (request.type === "login" || request.type === "register" || request.type === "passwd") {
      // Hashing runs first; the connection reads on once answered, so nothing overtakes it.
      return this.#passworded(requester, request).then((c) =>
        "op" in c ? this.#ask(c).then(settle) : settle({ reply: c })
      );
    }
    void this.#ask({ op: "req", node, cid, seq: 0, request }).then(settle);
    if (conn.slots.length >= MAX_PENDING_REPLIES) return this.#below(conn, MAX_PENDING_REPLIES / 2);
  }

  respond(
    requester: Requester,
    _request: Request,
    reply: Reply,
    answer: (reply: Reply) => void,
  ): void {
    const conn = this.#conns.get(requester.user.id);
    if (!conn) return answer(reply);
    conn.slots.push({ reply, answer });
    this.#flush(conn);
  }

  async hello(requester: Requester, hello: Hello): Promise<Welcomed> {
    const node = this.node.id;
    const cid = requester.user.id;
    let named: Reply | undefined;
    let command: LogCommand | undefined;
    if (hello.name !== undefined && hello.password !== undefined) {
      const checked = await this.#passworded(requester, {
        type: "login",
        name: hello.name,
        password: hello.password,
        ...(hello.takeover ? { takeover: true } : {}),
      });
      if ("op" in checked) command = { ...checked, hello: true } as LogCommand;
      else named = checked;
    } else if (hello.name !== undefined) {
      const request: Request = { type: "rename", name: hello.name };
      command = { op: "req", node, cid, seq: 0, request, hello: true };
    }
    if (command) {
      const applied = await this.#ask(command);
      named = applied.reply;
      if (applied.welcome) return { named, ...applied.welcome };
    }
    return { named, ...this.replica.welcome(requester.user) };
  }

  inbox(key: string): PrivateEvent[] {
    return this.replica.dispatcher.inbox(key);
  }

  delivered(key: string, msgIds: number[]): void {
    // Lost while Redis is away: they are delivered again at the next login, never lost.
    this.node.append({ op: "delivered", node: this.node.id, key, msgIds }).catch(() => {});
  }

  leave(requester: Requester, silent: boolean): Promise<void> {
    const conn = this.#conns.get(requester.user.id);
    if (!conn) return Promise.resolve();
    this.#conns.delete(requester.user.id);
    conn.joined?.();
    if (conn.logged) {
      conn.logged = false;
      this.#leave({ op: "leave", node: this.node.id, cid: conn.user.id, silent });
    }
    return this.#below(conn, 1);
  }

  /** Appends `c` (its `seq` filled in) and resolves with what applying it meant here. */
  #ask(c: LogCommand): Promise<Applied> {
    const seq = ++this.#seq;
    const { promise, resolve } = Promise.withResolvers<Applied>();
    // Stored but not seen back in time (Redis went away meanwhile): refused, never acknowledged.
    const timer = setTimeout(() => this.#waiting.get(seq)?.(UNAVAILABLE), APPLY_TIMEOUT_MS);
    this.#waiting.set(seq, (applied) => {
      clearTimeout(timer);
      this.#waiting.delete(seq);
      resolve(applied);
    });
    this.node.append({ ...c, seq } as LogCommand).catch(() =>
      this.#waiting.get(seq)?.(UNAVAILABLE)
    );
    return promise;
  }

  /**
   * Checks or hashes the password of a login, register or passwd here, where the connection is:
   * the log gets the outcome, never the password. Returns the command to log, or the refusal.
   */
  async #passworded(
    requester: Requester,
    request: Extract<Request, { type: "login" | "register" | "passwd" }>,
  ): Promise<LogCommand | Reply> {
    const { dispatcher, core, store } = this.replica;
    const user = requester.user;
    const base = { node: this.node.id, cid: user.id, seq: 0 };
    const throttled = () => {
      const wait = dispatcher.limiter.waitMs(addressKey(requester.ip));
      if (wait <= 0) return undefined;
      const message = `too many failed logins: try again in ${Math.ceil(wait / 1000)} s`;
      return { ...fail("rate_limited", message), retryAfterMs: wait };
    };
    try {
      if (request.type === "register") {
        const claim = core.claimable(user);
        if (!claim.ok) return claim;
        const weak = checkPassword(request.password);
        if (weak) return weak;
        const { salt, hash } = await hashPassword(request.password);
        return {
          ...base,
          op: "account",
          kind: "register",
          salt: toBase64(salt),
          hash: toBase64(hash),
        };
      }
      if (request.type === "passwd") {
        const account = user.account ? store.account(user.account) : undefined;
        if (!account) return fail("not_logged_in");
        const weak = checkPassword(request.new);
        if (weak) return weak;
        const limited = throttled();
        if (limited) return limited;
        if (!(await verifyPassword(request.old, account.salt, account.hash))) {
          dispatcher.limiter.failed(addressKey(requester.ip));
          return fail("login_failed", "wrong password");
        }
        const { salt, hash } = await hashPassword(request.new);
        return {
          ...base,
          op: "account",
          kind: "passwd",
          salt: toBase64(salt),
          hash: toBase64(hash),
        };
      }
      const name = sanitizeText(request.name);
      if (dispatcher.bans.find("name", nameKey(name.trim()))) return fail("name_banned");
      const limited = throttled();
      if (limited) return limited;
      const valid = validateName(name);
      const account = valid.ok ? store.account(nameKey(valid.name)) : undefined;
      // Hash even for an unknown name, so timing does not tell which names exist.
      const matches = account
        ? await verifyPassword(request.password, account.salt, account.hash)
        : (await hashPassword(request.password), false);
      if (!account || !matches) {
        dispatcher.limiter.failed(addressKey(requester.ip));
        this.log.warn("login failed", { ip: requester.ip, name: name.slice(0, 40) });
        return fail("login_failed");
      }
      if (requester.closing) return fail("connection_closed");
      return { ...base, op: "signin", key: account.key, takeover: request.takeover === true };
    } catch (e) {
      if (e instanceof HashBusyError) return { ...fail("busy"), retryAfterMs: 1000 };
      throw e;
    }
  }

  /** Answers the connection's replies that are ready, in order. */
  #flush(conn: Conn): void {
    while (conn.slots.length > 0) {
      const slot = conn.slots[0];
      if (slot.reply === undefined && slot.read === undefined) break;
      conn.slots.shift();
      slot.answer(slot.reply ?? slot.read!());
      for (const event of slot.after ?? []) conn.user.deliver(event);
    }
    const left = conn.slots.length;
    conn.waiters = conn.waiters.filter((w) => left < w.below ? (w.resolve(), false) : true);
  }

  /** Resolves once fewer than `below` replies of `conn` are pending. */
  #below(conn: Conn, below: number): Promise<void> {
    if (conn.slots.length < below) return Promise.resolve();
    return new Promise((resolve) => conn.waiters.push({ below, resolve }));
  }

  /** Logs a leave, retrying until Redis takes it. */
  #leave(c: LogCommand): void {
    this.node.append(c).catch(() => {
      this.#leaves.push(c);
      this.#retry ??= setTimeout(() => {
        this.#retry = undefined;
        for (const leave of this.#leaves.splice(0)) this.#leave(leave);
      }, 1_000);
    });
  }

  /**
   * The others declared this node gone (it was cut off from Redis longer than its lease): its
   * users are out of the chat everywhere, so their connections are closed, and the clients
   * reconnect.
   */
  #cutOff(): void {
    for (const conn of [...this.#conns.values()]) {
      const r = conn.requester;
      if (r && closable(r) && !r.closing) {
        void r.close("shutdown", notice("shutdown", "this server lost the cluster; reconnect"));
      }
    }
  }
}

/** Whether `r` is a served connection (TCP, WebSocket or IRC), which the gateway may close. */
function closable(r: Requester): r is Requester & ServedConnection {
  return typeof (r as Partial<ServedConnection>).close === "function";
}
