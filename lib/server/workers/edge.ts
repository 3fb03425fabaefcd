/**
 * An edge's side of the bus (`--workers N`): a {@link ChatPort} and a {@link Gate} whose answers
 * come from the hub in the main thread. Connections use them exactly as they use the local ones.
 * Each connection's user here is a copy: the hub's replies keep its name and account current.
 *
 * @module
 */

import { Batcher, type EdgeMessage, type HubMessage } from "./bus.ts";
import type { ChatPort, Gate, Welcomed } from "../chat_port.ts";
import type { Session } from "../../core/dispatcher.ts";
import { checksPassword } from "../../protocol/request_table.ts";
import type { PrivateEvent } from "../../protocol/events.ts";
import type { Hello } from "../../protocol/json_codec.ts";
import type { Admission } from "../rate_limit.ts";
import type { Reply, Request } from "../../protocol/requests.ts";
import { type Peer, User } from "../../core/user.ts";

/** A reply owed to a connection, in request order. */
interface Owed {
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
export const MAX_OWED = 32;

/** One connection's state on the edge. */
interface EdgeSession {
  user: User;
  owed: Owed[];
  /** Resolves {@link EdgePort.joined}. */
  onJoined?: () => void;
  joined: Promise<void>;
  /** Wakes a connection that stopped reading at {@link MAX_OWED}. */
  resume?: () => void;
  welcome?: (welcomed: Welcomed) => void;
  left?: Promise<void>;
  onLeft?: () => void;
}

/** What a hello waiting when its connection left gets: nothing, the connection is closing. */
const NOBODY: Welcomed = { online: [], rooms: [], history: [] };

/**
 * The chat, in the hub, as an edge thread sees it.
 *
 * @example
 * ```ts
 * import { EdgePort } from "./edge.ts";
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
 *   const port = new EdgePort((items) => scope.postMessage(items));
 *   scope.onmessage = (e) => port.receive(e.data);
 *   const config = { ...SERVER_DEFAULTS, port: 8888 };
 *   ChatServer.listen(config, new Logger("info"), { port, gate: port.gate }, { reusePort: true });
 * }
 * ```
 */
export class EdgePort implements ChatPort {
  readonly #out: Batcher<EdgeMessage>;
  readonly #sessions = new Map<number, EdgeSession>();
  readonly #admissions = new Map<number, (admission: Admission) => void>();
  readonly #inboxes = new Map<number, (events: PrivateEvent[]) => void>();
  /** Inboxes that came with a login's reply, by account key, for the {@link inbox} that follows. */
  readonly #prefetched = new Map<string, PrivateEvent[]>();
  #nextUid = 1;
  #nextSeq = 1;
  /** Bans and connection limits, asked of the hub. */
  readonly gate: Gate;

  constructor(post: (items: EdgeMessage[]) => void) {
    this.#out = new Batcher(post);
    this.gate = {
      admit: (ip) => {
        const seq = this.#nextSeq++;
        this.#out.push({ t: "admit", seq, ip });
        return new Promise((resolve) => this.#admissions.set(seq, resolve));
      },
      release: (key) => this.#out.push({ t: "release", key }),
      // The hub prunes its own limiter.
      prune: () => {},
    };
  }

  /** How many connections the hub knows of from this edge. */
  get size(): number {
    return this.#sessions.size;
  }

  join(peer: Peer, addr: string, ip: string): User {
    const user = new User(this.#nextUid++, addr, peer);
    let onJoined!: () => void;
    const joined = new Promise<void>((resolve) => onJoined = resolve);
    this.#sessions.set(user.id, { user, owed: [], joined, onJoined });
    this.#out.push({ t: "join", uid: user.id, addr, ip });
    return user;
  }

  joined(session: Session): Promise<void> | undefined {
    return this.#sessions.get(session.user.id)?.joined;
  }

  execute(
    session: Session,
    request: Request,
    answer: (reply: Reply) => void,
  ): Promise<void> | void {
    const s = this.#sessions.get(session.user.id);
    if (!s) return;
    const owed: Owed = { answer, remote: true };
    s.owed.push(owed);
    this.#out.push({ t: "req", uid: s.user.id, request });
    if (checksPassword(request)) return new Promise((wake) => owed.wake = wake);
    if (s.owed.length >= MAX_OWED) return new Promise((resume) => s.resume = resume);
  }

  respond(session: Session, _request: Request, reply: Reply, answer: (reply: Reply) => void): void {
    const s = this.#sessions.get(session.user.id);
    if (!s) return;
    s.owed.push({ answer, reply, remote: false });
    this.#settle(s);
  }

  hello(session: Session, hello: Hello): Promise<Welcomed> {
    const s = this.#sessions.get(session.user.id);
    if (!s) return Promise.resolve(NOBODY);
    this.#out.push({ t: "hello", uid: s.user.id, hello });
    return new Promise((resolve) => s.welcome = resolve);
  }

  inbox(key: string): PrivateEvent[] | Promise<PrivateEvent[]> {
    const prefetched = this.#prefetched.get(key);
    if (prefetched) {
      this.#prefetched.delete(key);
      return prefetched;
    }
    const seq = this.#nextSeq++;
    this.#out.push({ t: "inbox", seq, key });
    return new Promise((resolve) => this.#inboxes.set(seq, resolve));
  }

  delivered(key: string, msgIds: number[]): void {
    this.#out.push({ t: "delivered", key, msgIds });
  }

  leave(session: Session, silent: boolean): Promise<void> {
    const s = this.#sessions.get(session.user.id);
    if (!s) return Promise.resolve();
    s.left ??= new Promise((resolve) => {
      s.onLeft = resolve;
      this.#out.push({ t: "leave", uid: s.user.id, silent });
    });
    return s.left;
  }

  /** Handles a batch from the hub. */
  receive(items: HubMessage[]): void {
    for (const item of items) {
      switch (item.t) {
        case "events":
          for (const uid of item.uids) this.#sessions.get(uid)?.user.peer.deliver(item.event);
          break;
        case "reply": {
          const s = this.#update(item);
          if (!s) break;
          const owed = s.owed.find((o) => o.remote && o.reply === undefined);
          if (owed) owed.reply = item.reply;
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
          this.#sessions.get(item.uid)?.user.peer.kick(item.code, item.text);
          break;
        case "left":
          this.#left(item.uid);
          break;
        case "joined": {
          const s = this.#sessions.get(item.uid);
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
      }
    }
  }

  /**
   * Brings the connection's copy of its user up to date from a reply or welcome, and keeps the
   * inbox that came with a login for the {@link inbox} call that follows.
   */
  #update(item: Extract<HubMessage, { t: "reply" | "welcomed" }>): EdgeSession | undefined {
    const s = this.#sessions.get(item.uid);
    if (!s) return undefined;
    s.user.name = item.name;
    s.user.account = item.account;
    if (item.inbox) this.#prefetched.set(item.inbox.key, item.inbox.events);
    return s;
  }

  /** Answers the owed replies that are known, in order, up to the first still awaited. */
  #settle(s: EdgeSession): void {
    while (s.owed.length > 0 && s.owed[0].reply !== undefined) {
      const owed = s.owed.shift()!;
      owed.answer(owed.reply!);
      owed.wake?.();
    }
    if (s.resume && s.owed.length <= MAX_OWED / 2) {
      s.resume();
      s.resume = undefined;
    }
  }

  /** The hub has forgotten the connection: nothing more will come for it. */
  #left(uid: number): void {
    const s = this.#sessions.get(uid);
    if (!s) return;
    this.#sessions.delete(uid);
    if (s.user.account !== undefined) this.#prefetched.delete(s.user.account);
    // A password check still running in the hub answers nobody now; wake whoever waits for one.
    for (const owed of s.owed) owed.wake?.();
    s.resume?.();
    s.onJoined?.();
    s.welcome?.(NOBODY);
    s.onLeft?.();
  }
}
