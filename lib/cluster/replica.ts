/**
 * One node's replica of the cluster's chat: a `ChatCore`, `Dispatcher` and in-memory storage
 * that every node builds alike by applying the same log in the same order. Users of other nodes
 * are ghosts: their `Peer` receives nothing here, because their own node delivers to them from
 * its replica. So the single-server rules (unique names, who is online, rooms, bans, the offline
 * inbox) hold across nodes with no code of their own: the log's order decides every race, the
 * same way everywhere (of 100 renames to one name, the first in the log wins on every node).
 *
 * Applying must be deterministic: the clock is the entry's time, ids come from the replica's own
 * counters, and nothing here awaits.
 *
 * @module
 */

import type { ChatCore } from "../core/chat.ts";
import type { Dispatcher, Requester } from "../core/dispatcher.ts";
import { type Peer, User } from "../core/user.ts";
import type { RoomLimits } from "../core/rooms.ts";
import { type ChatEvent, fail } from "../protocol/events.ts";
import type { Reply, Request } from "../protocol/requests.ts";
import { sanitizeText } from "../shared/sanitize.ts";
import type { Logger } from "../shared/log.ts";
import { MemoryStorage } from "../store/memory.ts";
import { wireCore } from "../server/backend.ts";
import type { Welcomed } from "../server/chat_gateway.ts";
import type { LogCommand } from "./log.ts";

/** What the replica needs from the configuration (the same on every node of a cluster). */
export interface ReplicaConfig {
  historyOnJoin: number;
  admins: string[];
  maxQueueBytes: number;
  rooms?: RoomLimits;
}

/** What applying a command means for the connection that asked, on its own node. */
export interface Applied {
  reply: Reply;
  /** For a hello: the welcome. */
  welcome?: Welcomed;
  /** Events for the asker only, after the reply (a login's rooms). */
  after?: ChatEvent[];
}

/** A ghost: a user of another node. */
const GHOST: Peer = { deliver() {}, kick() {} };

/**
 * The chat as this node's replica of the log has it.
 *
 * @example
 * ```ts
 * import { Replica } from "./replica.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * const replica = new Replica("n1", { historyOnJoin: 50, admins: [], maxQueueBytes: 1 << 20 },
 *   new Logger("error"), () => undefined);
 * replica.apply({ op: "join", node: "n2", cid: 1, addr: "10.0.0.2:5000", ip: "10.0.0.2" }, 0);
 * replica.core.who().length; // 1
 * ```
 */
export class Replica {
  readonly store = new MemoryStorage();
  readonly core: ChatCore;
  readonly dispatcher: Dispatcher;
  /** The time of the entry being applied. */
  #now = 0;
  #nextUserId = 1;
  /** Every node's users, by `node/cid`. */
  readonly #users = new Map<string, Requester>();
  /** The connection ids of each node's users. */
  readonly #byNode = new Map<string, Set<number>>();

  constructor(
    readonly node: string,
    config: ReplicaConfig,
    log: Logger,
    /** This node's connection `cid`, while it is open. */
    readonly local: (cid: number) => Requester | undefined,
  ) {
    // The same wiring as a single server's (lib/server/backend.ts), on the log's clock so that
    // every node applies alike; logins are limited on this node's own time (gateway.ts).
    const { core, dispatcher } = wireCore(this.store, {
      historyOnJoin: config.historyOnJoin,
      replyBudgetBytes: Math.floor(config.maxQueueBytes / 4),
      admins: config.admins,
      rooms: config.rooms,
      clock: () => this.#now,
      loginClock: Date.now,
    }, log);
    this.core = core;
    this.dispatcher = dispatcher;
  }

  /** A user for a connection of this node, not in the chat until its `join` is applied. */
  newUser(addr: string, peer: Peer): User {
    return new User(this.#nextUserId++, sanitizeText(addr), peer);
  }

  /** The nodes that have users in the chat. */
  nodes(): string[] {
    return [...this.#byNode.keys()];
  }

  /** Applies one command of the log, written at `ts`; says what it means for a local asker. */
  apply(c: LogCommand, ts: number): Applied | undefined {
    this.#now = ts;
    switch (c.op) {
      case "join":
        return this.#join(c.node, c.cid, c.addr, c.ip);
      case "leave": {
        const r = this.#take(c.node, c.cid);
        if (r) this.core.leave(r.user, c.silent);
        return undefined;
      }
      case "down": {
        for (const cid of this.#byNode.get(c.node) ?? []) {
          const r = this.#take(c.node, cid);
          if (r) this.core.leave(r.user);
        }
        return undefined;
      }
      case "delivered":
        this.store.removeFromInbox(c.key, c.msgIds);
        return undefined;
      default: {
        const r = this.#users.get(`${c.node}/${c.cid}`);
        if (!r) return { reply: fail("connection_closed") };
        const applied = c.op === "req"
          ? this.#request(r, c.request)
          : c.op === "signin"
          ? this.#signIn(r, c.key, c.takeover)
          : this.#account(r, c.kind, c.salt, c.hash);
        // Only the asker's node answers the hello: the others need not read the history.
        if (c.hello && c.node === this.node) {
          applied.welcome = this.welcome(r.user, applied.after ?? []);
        }
        return applied;
      }
    }
  }

  /** What a hello is answered with, as the chat is now. */
  welcome(user: User, backlog: ChatEvent[] = []): Welcomed {
    // A hello is JSON, whose clients read mention marks (lib/core/mentions.ts).
    user.marksMentions = true;
    this.core.catchUp(user);
    return {
      online: this.core.who().map((u) => ({ name: u.name, addr: u.addr })),
      rooms: this.core.rooms.snapshot(user),
      history: [...this.dispatcher.joinHistory(), ...backlog],
    };
  }

  #join(node: string, cid: number, addr: string, ip: string): undefined {
    const mine = node === this.node ? this.local(cid) : undefined;
    const requester: Requester = mine ??
      { user: this.newUser(addr, GHOST), ip, sendsAcks: false, closing: false };
    this.#users.set(`${node}/${cid}`, requester);
    let cids = this.#byNode.get(node);
    if (!cids) this.#byNode.set(node, cids = new Set());
    cids.add(cid);
    this.core.add(requester.user);
    return undefined;
  }

  #take(node: string, cid: number): Requester | undefined {
    const key = `${node}/${cid}`;
    const r = this.#users.get(key);
    this.#users.delete(key);
    const cids = this.#byNode.get(node);
    cids?.delete(cid);
    if (cids?.size === 0) this.#byNode.delete(node);
    return r;
  }

  #request(r: Requester, request: Request): Applied {
    const reply = this.dispatcher.execute(r, request);
    // Password requests are logged as their outcome (signin, account), never as themselves.
    if (reply instanceof Promise) return { reply: fail("bad_request") };
    return { reply };
  }

  #signIn(r: Requester, key: string, takeover: boolean): Applied {
    if (this.dispatcher.bans.find("name", key)) return { reply: fail("name_banned") };
    const account = this.store.account(key);
    if (!account) return { reply: fail("login_failed") };
    const reply = this.core.signIn(r.user, key, account.name, takeover);
    return { reply, after: this.core.rooms.rejoin(r.user) };
  }

  #account(r: Requester, kind: "register" | "passwd", salt: string, hash: string): Applied {
    const bytes = { salt: fromBase64(salt), hash: fromBase64(hash) };
    if (kind === "passwd") {
      const account = r.user.account ? this.store.account(r.user.account) : undefined;
      if (!account) return { reply: fail("not_logged_in") };
      this.store.putAccount({ ...account, ...bytes });
      return { reply: { ok: true } };
    }
    // The chat may have moved since the origin checked: check again, here as everywhere.
    const claim = this.core.claimable(r.user);
    if (!claim.ok) return { reply: claim };
    this.store.putAccount({ key: claim.key, name: r.user.name, ...bytes });
    r.user.account = claim.key;
    this.core.rooms.registered(r.user);
    return { reply: { ok: true, name: r.user.name } };
  }
}

/** Bytes as base64, for the log. */
export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
}
