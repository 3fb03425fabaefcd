/**
 * An edge's side of the bus (`--workers N`): a {@link ChatGateway} and a {@link Gate} whose answers
 * come from the hub in the main thread. Connections use them exactly as they use the local ones.
 * Each connection's user here is a copy: the hub's replies keep its name and account current.
 *
 * @module
 */

import { Batcher, type EdgeMessage, type HubMessage } from "./bus.ts";
import type { ChatGateway, Gate, Welcomed } from "../chat_gateway.ts";
import type { Requester } from "../../core/dispatcher.ts";
import { checksPassword } from "../../protocol/request_table.ts";
import type { PrivateEvent } from "../../protocol/events.ts";
import type { Hello } from "../../protocol/json_codec.ts";
import type { Admission } from "../rate_limit.ts";
import type { Reply, Request } from "../../protocol/requests.ts";
import { type Peer, User } from "../../core/user.ts";
import { EdgeBots } from "./edge_bots.ts";

/** A reply pending to a connection, in request order. */
interface PendingReply {
  answer: (reply: Reply) => void;
  /** Set once known: at once for a reply the edge decided, on arrival for the hub's. */
  reply?: Reply;
  /** Whether the hub answers it. */
  remote: boolean;
  /** Wakes a connection that stopped reading for this reply. */
  wake?: () => void;
}

/**
 * Requests one connection may have at the hub at once; past that it reads no more until half are
 * answered. This is the backpressure one thread gets for free: a fast sender cannot queue more
 * for the hub, or for its listeners, than this many lines ahead of what was answered.
 */
export const MAX_PENDING_REPLIES = 32;

/** One connection's state on the edge. */
interface ConnectionState {
  user: User;
  pending: PendingReply[];
  /** Resolves {@link EdgeGateway.joined}. */
  onJoined?: () => void;
  joined: Promise<void>;
  /** Wakes a connection that stopped reading at {@link MAX_PENDING_REPLIES}. */
  resume?: () => void;
  welcome?: (welcomed: Welcomed) => void;
  left?: Promise<void>;
  onLeft?: () => void;
}

/** What a hello waiting when its connection left gets: nothing, the connection is closing. */
const NO_WELCOME: Welcomed = { online: [], rooms: [], history: [] };

/**
 * The chat, in the hub, as an edge thread sees it.
 *
 * @example
 * ```ts
 * import { EdgeGateway } from "./edge.ts";
 * import { ChatServer } from "../listener.ts";
 * import { SERVER_DEFAULTS } from "../config.ts";
 * import { Logger } from "../../shared/log.ts";
 *
 * // The worker's global scope, as an edge thread sees it (see edge_thread.ts).
 * interface WorkerScope {
 *   postMessage(data: unknown): void;
 *   onmessage: ((e: MessageEvent) => void) | null;
 * }
 *
 * function startEdge(scope: WorkerScope): void {
 *   const chat = new EdgeGateway((items) => scope.postMessage(items));
 *   scope.onmessage = (e) => chat.receive(e.data);
 *   const config = { ...SERVER_DEFAULTS, port: 8888 };
 *   ChatServer.listen(config, new Logger("info"), { chat, gate: chat.gate }, { reusePort: true });
 * }
 * ```
 */
export class EdgeGateway implements ChatGateway {
  readonly #out: Batcher<EdgeMessage>;
  readonly #states = new Map<number, ConnectionState>();
  readonly #admissions = new Map<number, (admission: Admission) => void>();
  readonly #inboxes = new Map<number, (events: PrivateEvent[]) => void>();
  /** Inboxes that came with a login's reply, by account key, for the {@link inbox} that follows. */
  readonly #prefetched = new Map<string, PrivateEvent[]>();
  #nextUid = 1;
  #nextSeq = 1;
  /** Bans and connection limits, asked of the hub. */
  readonly gate: Gate;
  /** The bot API's sessions, in the hub. */
  readonly bots: EdgeBots;

  constructor(post: (items: EdgeMessage[]) => void) {
    this.#out = new Batcher(post);
    this.bots = new EdgeBots((message) => this.#out.push(message));
    this.gate = {
      admit: (ip) => {
        const seq = this.#nextSeq++;
        this.#out.push({ kind: "admit", seq, ip });
        return new Promise((resolve) => this.#admissions.set(seq, resolve));
      },
      release: (key) => this.#out.push({ kind: "release", key }),
      // The hub prunes its own limiter.
      prune: () => {},
    };
  }

  /** How many connections the hub knows of from this edge. */
  get size(): number {
    return this.#states.size;
  }

  join(peer: Peer, addr: string, ip: string): User {
    const user = new User(this.#nextUid++, addr, peer);
    let onJoined!: () => void;
    const joined = new Promise<void>((resolve) => onJoined = resolve);
    this.#states.set(user.id, { user, pending: [], joined, onJoined });
    this.#out.push({ kind: "join", uid: user.id, addr, ip });
    return user;
  }

  joined(requester: Requester): Promise<void> | undefined {
    return this.#states.get(requester.user.id)?.joined;
  }

  execute(
    requester: Requester,
    request: Request,
    answer: (reply: Reply) => void,
  ): Promise<void> | void {
    const s = this.#states.get(requester.user.id);
    if (!s) return;
    const pending: PendingReply = { answer, remote: true };
    s.pending.push(pending);
    this.#out.push({ kind: "req", uid: s.user.id, request });
    if (checksPassword(request)) return new Promise((wake) => pending.wake = wake);
    if (s.pending.length >= MAX_PENDING_REPLIES) return new Promise((resume) => s.resume = resume);
  }

  respond(
    requester: Requester,
    _request: Request,
    reply: Reply,
    answer: (reply: Reply) => void,
  ): void {
    const s = this.#states.get(requester.user.id);
    if (!s) return;
    s.pending.push({ answer, reply, remote: false });
    this.#settle(s);
  }

  hello(requester: Requester, hello: Hello): Promise<Welcomed> {
    const s = this.#states.get(requester.user.id);
    if (!s) return Promise.resolve(NO_WELCOME);
    this.#out.push({ kind: "hello", uid: s.user.id, hello });
    return new Promise((resolve) => s.welcome = resolve);
  }

  inbox(key: string): PrivateEvent[] | Promise<PrivateEvent[]> {
    const prefetched = this.#prefetched.get(key);
    if (prefetched) {
      this.#prefetched.delete(key);
      return prefetched;
    }
    const seq = this.#nextSeq++;
    this.#out.push({ kind: "inbox", seq, key });
    return new Promise((resolve) => this.#inboxes.set(seq, resolve));
  }

  delivered(key: string, msgIds: number[]): void {
    this.#out.push({ kind: "delivered", key, msgIds });
  }

  leave(requester: Requester, silent: boolean): Promise<void> {
    const s = this.#states.get(requester.user.id);
    if (!s) return Promise.resolve();
    s.left ??= new Promise((resolve) => {
      s.onLeft = resolve;
      this.#out.push({ kind: "leave", uid: s.user.id, silent });
    });
    return s.left;
  }

  /** Handles a batch from the hub. */
  receive(items: HubMessage[]): void {
    for (const item of items) {
      switch (item.kind) {
        case "events":
          for (const uid of item.uids) this.#states.get(uid)?.user.deliver(item.event);
          break;
        case "reply": {
          const s = this.#update(item);
          if (!s) break;
          const pending = s.pending.find((o) => o.remote && o.reply === undefined);
          if (pending) pending.reply = item.reply;
          this.#settle(s);
          break;
        }
        case "welcomed": {
          const s = this.#update(item);
          if (!s) break;
          s.welcome?.(item.welcomed);
          s.welcome = undefined;
          break;
        }
        case "kick":
          this.#states.get(item.uid)?.user.peer.kick(item.code, item.text);
          break;
        case "left":
          this.#left(item.uid);
          break;
        case "joined": {
          const s = this.#states.get(item.uid);
          s?.onJoined?.();
          if (s) s.onJoined = undefined;
          break;
        }
        case "admitted":
          this.#admissions.get(item.seq)?.(item.admission);
          this.#admissions.delete(item.seq);
          break;
        case "inbox":
          this.#inboxes.get(item.seq)?.(item.events);
          this.#inboxes.delete(item.seq);
          break;
        case "bot_answer":
        case "bot_msg":
        case "bot_end":
          this.bots.receive(item);
          break;
      }
    }
  }

  /**
   * Brings the connection's copy of its user up to date from a reply or welcome, and keeps the
   * inbox that came with a login for the {@link inbox} call that follows.
   */
  #update(item: Extract<HubMessage, { kind: "reply" | "welcomed" }>): ConnectionState | undefined {
    const s = this.#states.get(item.uid);
    if (!s) return undefined;
    s.user.name = item.name;
    s.user.account = item.account;
    if (item.inbox) this.#prefetched.set(item.inbox.key, item.inbox.events);
    return s;
  }

  /** Answers the pending replies that are known, in order, up to the first still awaited. */
  #settle(s: ConnectionState): void {
    while (s.pending.length > 0 && s.pending[0].reply !== undefined) {
      const pending = s.pending.shift()!;
      pending.answer(pending.reply!);
      pending.wake?.();
    }
    if (s.resume && s.pending.length <= MAX_PENDING_REPLIES / 2) {
      s.resume();
      s.resume = undefined;
    }
  }

  /** The hub has forgotten the connection: nothing more will come for it. */
  #left(uid: number): void {
    const s = this.#states.get(uid);
    if (!s) return;
    this.#states.delete(uid);
    if (s.user.account !== undefined) this.#prefetched.delete(s.user.account);
    // A password check still running in the hub answers nobody now; wake whoever waits for one.
    for (const pending of s.pending) pending.wake?.();
    s.resume?.();
    s.onJoined?.();
    s.welcome?.(NO_WELCOME);
    s.onLeft?.();
  }
}
