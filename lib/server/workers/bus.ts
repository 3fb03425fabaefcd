/**
 * The bus between the hub (the chat core, in the main thread) and its edges (the threads that own
 * sockets) with `--workers N`: the typed messages, and a batcher that sends everything one thread
 * produced in one turn as one `postMessage`. Structured clone keeps an event that goes to several
 * users one object on the other side, so an edge still encodes it once per dialect. The same
 * messages, as NDJSON over a socket, are how several machines will share one hub
 * (docs/SCALING.md).
 *
 * @module
 */

import type { Welcomed } from "../chat_gateway.ts";
import type { BotAuth, BotOutcome, BotWhere } from "../bot_sessions.ts";
import type { MatterbridgeMessage } from "../../protocol/matterbridge.ts";
import type { ChatEvent, KickCode, PrivateEvent } from "../../protocol/events.ts";
import type { Hello } from "../../protocol/json_codec.ts";
import type { Admission } from "../rate_limit.ts";
import type { Reply, Request } from "../../protocol/requests.ts";
import type { ServerConfig } from "../config.ts";

/**
 * Edge to hub. `uid` numbers a connection within its edge; `seq` matches an answer to its
 * question.
 */
export type EdgeMessage =
  | { kind: "admit"; seq: number; ip: string }
  | { kind: "release"; key: string }
  | { kind: "join"; uid: number; addr: string; ip: string }
  | { kind: "req"; uid: number; request: Request }
  | { kind: "hello"; uid: number; hello: Hello }
  | { kind: "inbox"; seq: number; key: string }
  | { kind: "delivered"; key: string; msgIds: number[] }
  | { kind: "leave"; uid: number; silent: boolean }
  // The bot HTTP API (edge_bots.ts): `sid` numbers a stream within its edge.
  | { kind: "bot_auth"; seq: number; token: string; where: BotWhere }
  | { kind: "bot_post"; seq: number; key: string; text: string; room?: string }
  | { kind: "bot_take"; seq: number; key: string; skipBots: boolean }
  | {
    kind: "bot_sub";
    seq: number;
    key: string;
    skipBefore?: number;
    sid: number;
    skipBots: boolean;
  }
  | { kind: "bot_unsub"; sid: number };

/**
 * Hub to edge. A reply carries the user's name and account after the request, which is how the
 * edge's copy of the user learns of renames and logins.
 */
export type HubMessage =
  | { kind: "admitted"; seq: number; admission: Admission }
  | { kind: "joined"; uid: number }
  | { kind: "events"; event: ChatEvent; uids: number[] }
  | { kind: "reply"; uid: number; reply: Reply; name: string; account?: string; inbox?: Inbox }
  | {
    kind: "welcomed";
    uid: number;
    welcomed: Welcomed;
    name: string;
    account?: string;
    inbox?: Inbox;
  }
  | { kind: "inbox"; seq: number; events: PrivateEvent[] }
  | { kind: "kick"; uid: number; code: KickCode; text: string }
  | { kind: "left"; uid: number }
  | { kind: "bot_answer"; seq: number; answer: BotAnswer }
  | { kind: "bot_msg"; sid: number; message: MatterbridgeMessage }
  | { kind: "bot_end"; sid: number };

/**
 * The hub's answer to a `bot_*` question: to `bot_auth` a {@link BotAuth}, to `bot_post` a
 * {@link BotOutcome}, to `bot_take` the messages, to `bot_sub` the replay (null: no session).
 */
export type BotAnswer =
  | BotAuth
  | BotOutcome
  | MatterbridgeMessage[]
  | { replay: MatterbridgeMessage[] }
  | null;

/**
 * The private messages waiting for an account, sent along with the reply that logged it in, so
 * they follow that reply at once as they do in one thread.
 */
export interface Inbox {
  key: string;
  events: PrivateEvent[];
}

/** The hub's orders to an edge thread, sent on their own, not batched. */
export type HubControl =
  | { kind: "start"; index: number; config: ServerConfig }
  | { kind: "shutdown" };

/** An edge thread's state changes, sent on their own, not batched. */
export type EdgeControl =
  | { kind: "listening" }
  | { kind: "failed"; message: string }
  | { kind: "finished" };

/**
 * Collects items and posts them as one array at the end of the current microtask run.
 *
 * @example
 * ```ts
 * import { Batcher, type EdgeMessage } from "./bus.ts";
 *
 * function toHub(worker: Worker): void {
 *   const out = new Batcher<EdgeMessage>((items) => worker.postMessage(items));
 *   out.push({ kind: "release", key: "127.0.0.1" });
 * }
 * ```
 */
export class Batcher<T> {
  #items: T[] = [];

  constructor(readonly post: (items: T[]) => void) {}

  /** Queues `item`; the first item of a batch schedules its posting. */
  push(item: T): void {
    if (this.#items.length === 0) queueMicrotask(this.#flush);
    this.#items.push(item);
  }

  /** The item queued last in the batch not yet posted, to add to it. */
  get last(): T | undefined {
    return this.#items[this.#items.length - 1];
  }

  #flush = (): void => {
    const items = this.#items;
    this.#items = [];
    this.post(items);
  };
}
