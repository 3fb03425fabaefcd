/**
 * The part of a served connection's life that does not depend on its protocol, written once for
 * {@link ClientConnection} (text and JSON, connection.ts) and `IrcConnection` (irc/): the outbox
 * and what its failure means, closing (leave the chat, a last word, a bounded drain, the socket),
 * finishing (logged once, the server told), and delivering an account's waiting private messages.
 *
 * @module
 */

import type { Requester } from "../core/dispatcher.ts";
import type { User } from "../core/user.ts";
import type { ChatEvent, NoticeEvent } from "../protocol/events.ts";
import { closeQuietly } from "../shared/close_quietly.ts";
import { within } from "../shared/deadline.ts";
import type { CloseReason, ServedConnection, ServerContext, Transport } from "./connection.ts";
import { counters } from "./http/metrics.ts";
import { Outbox } from "./outbox.ts";

/** What the lifecycle needs of the connection that owns it. */
export interface LifecycleOwner extends Requester, ServedConnection {
  readonly addr: string;
  readonly user: User;
  /** Queues one event in the connection's own encoding. */
  deliver(event: ChatEvent): void;
}

/**
 * One connection's outbox and closing, shared by every protocol's connection class.
 *
 * @example
 * ```ts
 * import { ConnectionLifecycle } from "./connection_lifecycle.ts";
 *
 * // Inside a connection's constructor (`this` is the connection, `ctx` the server):
 * // this.#life = new ConnectionLifecycle(this, conn, ctx, (last) => this.#sendLast(last));
 * // ...and when it ends: await this.#life.close("eof");
 * ```
 */
export class ConnectionLifecycle {
  readonly outbox: Outbox;
  /** Why the connection ended, as its disconnect line says. */
  reason: CloseReason = "eof";
  #closing = false;
  /** Settles once {@link close} has drained and closed the socket. */
  #closed: Promise<void> | undefined;
  #finished = false;

  constructor(
    readonly owner: LifecycleOwner,
    readonly conn: Transport,
    readonly ctx: ServerContext,
    /** Queues a closing notice in the connection's own form. */
    readonly lastWord: (last: NoticeEvent) => void,
  ) {
    this.outbox = new Outbox(conn, ctx.config.maxQueueBytes, (why, error) => {
      this.reason = why === "overflow" ? "slow_reader" : "write_error";
      if (why === "overflow") {
        counters.slowConsumersDropped++;
        ctx.log.warn("slow reader dropped", { addr: owner.addr, queue: ctx.config.maxQueueBytes });
      } else {
        ctx.log.debug("write failed", { addr: owner.addr, error });
      }
      this.closeSocket();
    });
  }

  /** True once the connection is closing. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Settles once a {@link close} has finished (undefined if none began). */
  get closed(): Promise<void> | undefined {
    return this.#closed;
  }

  /**
   * Ends the connection: stops reading, leaves the chat, queues `last` if given, waits (at most
   * the shutdown grace) for the queue to drain, then closes the socket.
   */
  close(reason: CloseReason, last?: NoticeEvent): Promise<void> {
    if (this.#closing) return this.#closed ?? Promise.resolve();
    this.#closing = true;
    this.#closed = this.#drainAndClose(reason, last);
    return this.#closed;
  }

  async #drainAndClose(reason: CloseReason, last?: NoticeEvent): Promise<void> {
    this.reason = reason;
    // Replies still waiting for the group commit go out before the last word and the close.
    await this.ctx.chat.leave(this.owner, this.ctx.shuttingDown);
    if (last) this.lastWord(last);
    await within(this.outbox.drained(), this.ctx.config.shutdownGraceMs);
    this.closeSocket();
  }

  /** Closes the socket now, dropping what is queued. */
  closeSocket(): void {
    this.#closing = true;
    this.outbox.close();
    closeQuietly(this.conn);
  }

  /** Once, when the connection's run ends: leaves the chat, closes, logs, tells the server. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    void this.ctx.chat.leave(this.owner, this.ctx.shuttingDown);
    this.closeSocket();
    this.ctx.log.info("disconnect", {
      addr: this.owner.addr,
      name: this.owner.user.name,
      reason: this.reason,
    });
    this.ctx.onClosed(this.owner);
  }

  /**
   * Delivers the private messages that waited for the owner's account, a part of the queue at a
   * time so a full inbox never overflows it. A connection that cannot acknowledge (text, IRC)
   * counts a message written as delivered; JSON clients `ack`.
   */
  async deliverInbox(): Promise<void> {
    const { owner } = this;
    const key = owner.user.account;
    if (!key) return;
    const { chat, config } = this.ctx;
    const delivered: number[] = [];
    const waiting = chat.inbox(key);
    for (const event of Array.isArray(waiting) ? waiting : await waiting) {
      if (this.outbox.queued > config.maxQueueBytes / 2) await this.outbox.drained();
      if (this.#closing || owner.user.account !== key) break;
      owner.deliver(event);
      delivered.push(event.msgId);
    }
    if (owner.sendsAcks) return;
    // Written, not merely queued: a connection lost before that gets them again next login.
    await this.outbox.drained();
    if (!this.#closing) chat.delivered(key, delivered);
  }
}
