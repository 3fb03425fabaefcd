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
import type { Gate, LocalPort } from "../chat_port.ts";
import type { Session } from "../../core/dispatcher.ts";
import type { ChatEvent, KickCode } from "../../protocol/events.ts";
import type { Logger } from "../../shared/log.ts";
import type { Admission } from "../rate_limit.ts";
import type { Peer, User } from "../../core/user.ts";

/** One edge thread as the hub sees it. */
export class EdgeLink {
  readonly sessions = new Map<number, RemoteSession>();
  readonly out: Batcher<HubMessage>;
  /** Gate keys admitted for this edge and not yet released, to release if the edge fails. */
  readonly keys: string[] = [];

  constructor(readonly index: number, post: (items: HubMessage[]) => void) {
    this.out = new Batcher(post);
  }

  /** Adds `uid` to the batch's delivery of `event`, or starts one. */
  event(event: ChatEvent, uid: number): void {
    const last = this.out.last;
    if (last?.t === "events" && last.event === event) last.uids.push(uid);
    else this.out.push({ t: "events", event, uids: [uid] });
  }
}

/** A connection of an edge, as the core and the dispatcher see it. */
class RemoteSession implements Session, Peer {
  user!: User;
  acks = false;
  closing = false;

  constructor(readonly link: EdgeLink, readonly uid: number, readonly ip: string) {}

  deliver(event: ChatEvent): void {
    this.link.event(event, this.uid);
  }

  kick(code: KickCode, text: string): void {
    this.link.out.push({ t: "kick", uid: this.uid, code, text });
  }

  /** Queues the final reply to a request, with who the user is now. */
  reply(message: Omit<Extract<HubMessage, { t: "reply" }>, "name" | "account">): void {
    this.link.out.push({ ...message, name: this.user.name, account: this.user.account });
  }

  /** What waits for the account this session just logged in as, to send with the reply. */
  inbox(port: LocalPort): Inbox | undefined {
    const key = this.user.account;
    return key === undefined ? undefined : { key, events: port.inbox(key) };
  }
}

/**
 * Serves edges' requests from the local chat.
 *
 * @example
 * ```ts
 * import { Hub } from "./hub.ts";
 * import { openServices } from "../services.ts";
 * import { SERVER_DEFAULTS } from "../config.ts";
 * import { Logger } from "../../shared/log.ts";
 *
 * function serveEdge(worker: Worker): void {
 *   const config = { ...SERVER_DEFAULTS, dbPath: ":memory:" };
 *   const log = new Logger("info");
 *   const services = openServices(config, log);
 *   const hub = new Hub(services.port, services.gate, log);
 *   const link = hub.attach(0, (items) => worker.postMessage(items));
 *   worker.onmessage = (e) => hub.receive(link, e.data);
 * }
 * ```
 */
export class Hub {
  constructor(readonly port: LocalPort, readonly gate: Gate, readonly log: Logger) {}

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
        this.log.error("hub failed E_HUB", { edge: link.index, message: item.t, error });
        this.#recover(link, item);
      }
    }
  }

  /** Takes the users of an edge that failed offline and frees their connection slots. */
  detach(link: EdgeLink): void {
    for (const session of link.sessions.values()) {
      session.closing = true;
      void this.port.leave(session, false);
    }
    link.sessions.clear();
    for (const key of link.keys.splice(0)) this.gate.release(key);
  }

  #handle(link: EdgeLink, item: EdgeMessage): void {
    const { port } = this;
    switch (item.t) {
      case "admit": {
        const admission = this.gate.admit(item.ip, Date.now());
        if (admission instanceof Promise) throw new Error("the hub's gate must answer at once");
        if (admission.ok) link.keys.push(admission.key);
        link.out.push({ t: "admitted", seq: item.seq, admission });
        return;
      }
      case "release": {
        const at = link.keys.indexOf(item.key);
        if (at >= 0) link.keys.splice(at, 1);
        this.gate.release(item.key);
        return;
      }
      case "join": {
        const session = new RemoteSession(link, item.uid, item.ip);
        link.sessions.set(item.uid, session);
        session.user = port.join(session, item.addr);
        link.out.push({ t: "joined", uid: item.uid });
        return;
      }
      case "req": {
        const session = link.sessions.get(item.uid);
        if (!session) return;
        const uid = item.uid;
        const pending = port.execute(
          session,
          item.request,
          (reply) => {
            const login = reply.ok && item.request.type === "login";
            session.reply({
              t: "reply",
              uid,
              reply,
              inbox: login ? session.inbox(port) : undefined,
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
        const session = link.sessions.get(item.uid);
        if (!session) return;
        session.acks = true;
        const uid = item.uid;
        port.hello(session, item.hello).then((welcomed) => {
          link.out.push({
            t: "welcomed",
            uid,
            welcomed,
            name: session.user.name,
            account: session.user.account,
            inbox: session.inbox(port),
          });
        }, (error) => {
          this.log.error("hello failed E_HUB", { edge: link.index, error });
          this.#fault(link, uid);
        });
        return;
      }
      case "inbox": {
        link.out.push({ t: "inbox", seq: item.seq, events: port.inbox(item.key) });
        return;
      }
      case "delivered":
        port.delivered(item.key, item.msgIds);
        return;
      case "leave": {
        const session = link.sessions.get(item.uid);
        if (!session || session.closing) return;
        session.closing = true;
        const uid = item.uid;
        port.leave(session, item.silent).then(() => {
          link.sessions.delete(uid);
          link.out.push({ t: "left", uid });
        });
        return;
      }
    }
  }

  /** Answers what `item` waits for after an internal error, so no edge waits forever. */
  #recover(link: EdgeLink, item: EdgeMessage): void {
    if (item.t === "inbox") link.out.push({ t: "inbox", seq: item.seq, events: [] });
    else if (item.t === "admit") {
      const admission: Admission = {
        ok: false,
        reason: "server_full",
        message: "server error, try again",
      };
      link.out.push({ t: "admitted", seq: item.seq, admission });
    } else if ("uid" in item) this.#fault(link, item.uid);
  }

  /** An internal error while serving `uid`: end that connection, never the hub. */
  #fault(link: EdgeLink, uid: number): void {
    link.out.push({ t: "kick", uid, code: "kicked", text: "internal server error" });
  }
}
