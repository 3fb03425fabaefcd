/**
 * The bot HTTP API's sessions as an edge thread sees them (`--workers N`): a {@link BotService}
 * whose answers come from the hub's {@link BotSessions} over the bus, so a bot is one presence
 * with one buffer whichever edge answers its HTTP requests. A stream's messages come as
 * `bot_msg` items, into the edge's own bounded stream (lib/server/bot_stream.ts).
 *
 * @module
 */

import type { BotAnswer, EdgeMessage, HubMessage } from "./bus.ts";
import type {
  BotAuth,
  BotOutcome,
  BotService,
  BotSubscription,
  BotWhere,
} from "../bot_sessions.ts";
import type { BotSink } from "../bot_session.ts";
import type { MatterbridgeMessage } from "../../protocol/matterbridge.ts";

/** What an edge says when the hub could not answer (an internal error there). */
const HUB_FAILED = { ok: false, status: 503, error: "server error, try again" } as const;

/**
 * The hub's bot sessions, asked over the bus.
 *
 * @example
 * ```ts
 * import { EdgeBots } from "./edge_bots.ts";
 * import type { EdgeMessage } from "./bus.ts";
 *
 * function botsOverBus(send: (m: EdgeMessage) => void): EdgeBots {
 *   return new EdgeBots(send); // and hand it the hub's bot_* items: bots.receive(item)
 * }
 * ```
 */
export class EdgeBots implements BotService {
  #nextSeq = 1;
  #nextSid = 1;
  readonly #answers = new Map<number, (answer: BotAnswer) => void>();
  readonly #sinks = new Map<number, BotSink>();

  constructor(readonly send: (message: EdgeMessage) => void) {}

  async authorize(token: string, where: BotWhere): Promise<BotAuth> {
    const answer = await this.#ask((seq) => ({ kind: "bot_auth", seq, token, where }));
    return isRefusalOrAuth(answer) ? answer as BotAuth : HUB_FAILED;
  }

  async post(key: string, text: string, room: string | undefined): Promise<BotOutcome> {
    const answer = await this.#ask((seq) => ({ kind: "bot_post", seq, key, text, room }));
    return isRefusalOrAuth(answer) ? answer as BotOutcome : HUB_FAILED;
  }

  async take(key: string, skipBots = false): Promise<MatterbridgeMessage[]> {
    const answer = await this.#ask((seq) => ({ kind: "bot_take", seq, key, skipBots }));
    return Array.isArray(answer) ? answer : [];
  }

  async subscribe(
    key: string,
    skipBefore: number | undefined,
    sink: BotSink,
    skipBots = false,
  ): Promise<BotSubscription | undefined> {
    const sid = this.#nextSid++;
    // Registered first: the hub's first messages may follow its answer in the same batch.
    this.#sinks.set(sid, sink);
    const answer = await this.#ask((seq) => ({
      kind: "bot_sub",
      seq,
      key,
      skipBefore,
      sid,
      skipBots,
    }));
    if (answer === null || typeof answer !== "object" || !("replay" in answer)) {
      this.#sinks.delete(sid);
      return undefined;
    }
    return {
      replay: answer.replay,
      unsubscribe: () => {
        if (this.#sinks.delete(sid)) this.send({ kind: "bot_unsub", sid });
      },
    };
  }

  /** Takes the hub's `bot_*` items. */
  receive(item: Extract<HubMessage, { kind: "bot_answer" | "bot_msg" | "bot_end" }>): void {
    switch (item.kind) {
      case "bot_answer":
        this.#answers.get(item.seq)?.(item.answer);
        this.#answers.delete(item.seq);
        return;
      case "bot_msg":
        this.#sinks.get(item.sid)?.push(item.message);
        return;
      case "bot_end": {
        const sink = this.#sinks.get(item.sid);
        this.#sinks.delete(item.sid);
        sink?.close();
        return;
      }
    }
  }

  #ask(make: (seq: number) => EdgeMessage): Promise<BotAnswer> {
    const seq = this.#nextSeq++;
    this.send(make(seq));
    return new Promise((resolve) => this.#answers.set(seq, resolve));
  }
}

function isRefusalOrAuth(answer: BotAnswer): boolean {
  return answer !== null && typeof answer === "object" && "ok" in answer;
}
