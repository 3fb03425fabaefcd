/**
 * The hub's side of the bus (`--workers N`): the one chat core, dispatcher, store and gate, in the
 * main thread, serving the connections of every edge thread. Each remote connection is a
 * {@link Peer} here whose events go into its edge's batch for this turn, so a broadcast to a
 * thousand users on two edges is two messages, and each edge writes its own sockets.
 *
 * @module
 */

import type { EdgeMessage, HubMessage, Inbox } from "./bus.ts";
import { Batcher } from "./bus.ts";
import type { Gate, LocalGateway } from "../chat_gateway.ts";
import type { Requester } from "../../core/dispatcher.ts";
import type { ChatEvent, KickCode } from "../../protocol/events.ts";
import type { Logger } from "../../shared/log.ts";
import type { Admission } from "../rate_limit.ts";
import type { Peer, User } from "../../core/user.ts";
import type { BotService, BotSubscription } from "../bot_sessions.ts";
import type { BotSink } from "../bot_session.ts";
import type { BotAnswer } from "./bus.ts";

/** The answer to a bot question the hub could not serve. */
const BOT_FAILED: BotAnswer = { ok: false, status: 503, error: "server error, try again" };

/** One edge thread as the hub sees it. */
export class EdgeLink {
  readonly connections = new Map<number, RemoteConnection>();
  readonly out: Batcher<HubMessage>;
  /** Gate keys admitted for this edge and not yet released, to release if the edge fails. */
  readonly keys: string[] = [];
  /** The bot API streams open on this edge, by its stream number. */
  readonly botStreams = new Map<number, BotSubscription>();

  constructor(readonly index: number, post: (items: HubMessage[]) => void) {
    this.out = new Batcher(post);
  }

  /** Adds `uid` to the batch's delivery of `event`, or starts one. */
  event(event: ChatEvent, uid: number): void {
    const last = this.out.last;
    if (last?.kind === "events" && last.event === event) last.uids.push(uid);
    else this.out.push({ kind: "events", event, uids: [uid] });
  }
}

/** A connection of an edge, as the core and the dispatcher see it. */
class RemoteConnection implements Requester, Peer {
  user!: User;
  sendsAcks = false;
  closing = false;

  constructor(readonly link: EdgeLink, readonly uid: number, readonly ip: string) {}

  deliver(event: ChatEvent): void {
    this.link.event(event, this.uid);
  }

  kick(code: KickCode, text: string): void {
    this.link.out.push({ kind: "kick", uid: this.uid, code, text });
  }

  /** Queues the final reply to a request, with who the user is now. */
  reply(message: Omit<Extract<HubMessage, { kind: "reply" }>, "name" | "account">): void {
    this.link.out.push({ ...message, name: this.user.name, account: this.user.account });
  }

  /** What waits for the account this connection just logged in as, to send with the reply. */
  inbox(chat: LocalGateway): Inbox | undefined {
    const key = this.user.account;
    return key === undefined ? undefined : { key, events: chat.inbox(key) };
  }
}

/**
 * Serves edges' requests from the local chat.
 *
 * @example
 * ```ts
 * import { Hub } from "./hub.ts";
 * import { openBackend } from "../backend.ts";
 * import { SERVER_DEFAULTS } from "../config.ts";
 * import { Logger } from "../../shared/log.ts";
 *
 * function serveEdge(worker: Worker): void {
 *   const config = { ...SERVER_DEFAULTS, dbPath: ":memory:" };
 *   const log = new Logger("info");
 *   const backend = openBackend(config, log);
 *   const hub = new Hub(backend.chat, backend.gate, log);
 *   const link = hub.attach(0, (items) => worker.postMessage(items));
 *   worker.onmessage = (e) => hub.receive(link, e.data);
 * }
 * ```
 */
export class Hub {
  constructor(
    readonly chat: LocalGateway,
    readonly gate: Gate,
    readonly log: Logger,
    /** The bot API's sessions (none in tests that do not need them). */
    readonly bots?: BotService,
  ) {}

  /** A link for edge number `index`, whose batches `post` sends. */
  attach(index: number, post: (items: HubMessage[]) => void): EdgeLink {
    return new EdgeLink(index, post);
  }

  /** Handles a batch from `link`'s edge. */
  receive(link: EdgeLink, items: EdgeMessage[]): void {
    for (const item of items) {
      try {
        this.#handle(link, item);
      } catch (error) {
        this.log.error("hub failed E_HUB", { edge: link.index, message: item.kind, error });
        this.#recover(link, item);
      }
    }
  }

  /** Takes the users of an edge that failed offline and frees their connection slots. */
  detach(link: EdgeLink): void {
    for (const remote of link.connections.values()) {
      remote.closing = true;
      void this.chat.leave(remote, false);
    }
    link.connections.clear();
    for (const key of link.keys.splice(0)) this.gate.release(key);
    for (const stream of link.botStreams.values()) stream.unsubscribe();
    link.botStreams.clear();
  }

  #handle(link: EdgeLink, item: EdgeMessage): void {
    const { chat } = this;
    switch (item.kind) {
      case "admit": {
        const admission = this.gate.admit(item.ip, Date.now());
        if (admission instanceof Promise) throw new Error("the hub's gate must answer at once");
        if (admission.ok) link.keys.push(admission.key);
        link.out.push({ kind: "admitted", seq: item.seq, admission });
        return;
      }
      case "release": {
        const at = link.keys.indexOf(item.key);
        if (at >= 0) link.keys.splice(at, 1);
        this.gate.release(item.key);
        return;
      }
      case "join": {
        const remote = new RemoteConnection(link, item.uid, item.ip);
        link.connections.set(item.uid, remote);
        remote.user = chat.join(remote, item.addr);
        link.out.push({ kind: "joined", uid: item.uid });
        return;
      }
      case "req": {
        const remote = link.connections.get(item.uid);
        if (!remote) return;
        const uid = item.uid;
        const pending = chat.execute(
          remote,
          item.request,
          (reply) => {
            const login = reply.ok && item.request.type === "login";
            remote.reply({
              kind: "reply",
              uid,
              reply,
              inbox: login ? remote.inbox(chat) : undefined,
            });
          },
        );
        pending?.catch((error) => {
          this.log.error("request failed E_HUB", { edge: link.index, error });
          this.#fault(link, uid);
        });
        return;
      }
      case "hello": {
        const remote = link.connections.get(item.uid);
        if (!remote) return;
        remote.sendsAcks = true;
        const uid = item.uid;
        chat.hello(remote, item.hello).then((welcomed) => {
          link.out.push({
            kind: "welcomed",
            uid,
            welcomed,
            name: remote.user.name,
            account: remote.user.account,
            inbox: remote.inbox(chat),
          });
        }, (error) => {
          this.log.error("hello failed E_HUB", { edge: link.index, error });
          this.#fault(link, uid);
        });
        return;
      }
      case "inbox": {
        link.out.push({ kind: "inbox", seq: item.seq, events: chat.inbox(item.key) });
        return;
      }
      case "delivered":
        chat.delivered(item.key, item.msgIds);
        return;
      case "bot_auth":
      case "bot_post":
      case "bot_take":
      case "bot_sub":
      case "bot_unsub":
        return this.#bot(link, item);
      case "leave": {
        const remote = link.connections.get(item.uid);
        if (!remote || remote.closing) return;
        remote.closing = true;
        const uid = item.uid;
        chat.leave(remote, item.silent).then(() => {
          link.connections.delete(uid);
          link.out.push({ kind: "left", uid });
        });
        return;
      }
    }
  }

  /** Serves an edge's bot API question from the hub's bot sessions. */
  #bot(
    link: EdgeLink,
    item: Extract<EdgeMessage, { kind: `bot_${string}` }>,
  ): void {
    const bots = this.bots;
    if (item.kind === "bot_unsub") {
      link.botStreams.get(item.sid)?.unsubscribe();
      link.botStreams.delete(item.sid);
      return;
    }
    const answer = (seq: number) => (value: BotAnswer) =>
      link.out.push({ kind: "bot_answer", seq, answer: value });
    const failed = (seq: number) => (error: unknown) => {
      this.log.error("bot request failed E_HUB", { edge: link.index, error });
      answer(seq)(BOT_FAILED);
    };
    if (!bots) return answer(item.seq)(BOT_FAILED);
    switch (item.kind) {
      case "bot_auth":
        bots.authorize(item.token, item.where).then(answer(item.seq), failed(item.seq));
        return;
      case "bot_post":
        bots.post(item.key, item.text, item.room).then(answer(item.seq), failed(item.seq));
        return;
      case "bot_take":
        bots.take(item.key, item.skipBots).then(answer(item.seq), failed(item.seq));
        return;
      case "bot_sub": {
        const sid = item.sid;
        const sink: BotSink = {
          push: (message) => link.out.push({ kind: "bot_msg", sid, message }),
          close: () => {
            link.botStreams.delete(sid);
            link.out.push({ kind: "bot_end", sid });
          },
        };
        bots.subscribe(item.key, item.skipBefore, sink, item.skipBots).then((subscription) => {
          if (!subscription) return answer(item.seq)(null);
          link.botStreams.set(sid, subscription);
          answer(item.seq)({ replay: subscription.replay });
        }, failed(item.seq));
        return;
      }
    }
  }

  /** Answers what `item` waits for after an internal error, so no edge waits forever. */
  #recover(link: EdgeLink, item: EdgeMessage): void {
    if (item.kind === "inbox") link.out.push({ kind: "inbox", seq: item.seq, events: [] });
    else if ("seq" in item && item.kind.startsWith("bot_")) {
      link.out.push({ kind: "bot_answer", seq: item.seq, answer: BOT_FAILED });
    } else if (item.kind === "admit") {
      const admission: Admission = {
        ok: false,
        reason: "server_full",
        message: "server error, try again",
      };
      link.out.push({ kind: "admitted", seq: item.seq, admission });
    } else if ("uid" in item) this.#fault(link, item.uid);
  }

  /** An internal error while serving `uid`: end that connection, never the hub. */
  #fault(link: EdgeLink, uid: number): void {
    link.out.push({ kind: "kick", uid, code: "kicked", text: "internal server error" });
  }
}
