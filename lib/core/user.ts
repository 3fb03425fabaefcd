/**
 * A user of the chat: one connection's identity inside the core, and the {@link Peer} interface
 * through which the core hands it events without knowing anything about sockets.
 *
 * @module
 */

import type { ChatEvent, KickCode } from "../protocol/events.ts";
import { nameKey } from "../shared/names.ts";
import type { PresenceFeed } from "./presence_feed.ts";

/**
 * Whatever receives a user's events. A transport implements it; `deliver` must not block or
 * throw: it queues the event (or drops the connection if its queue is full).
 */
export interface Peer {
  deliver(event: ChatEvent): void;
  /** Ends the connection with a notice (for example, its name was taken over by its owner). */
  kick(code: KickCode, text: string): void;
}

/**
 * One online user.
 *
 * @example
 * ```ts
 * import { User } from "./user.ts";
 *
 * const u = new User(1, "127.0.0.1:5000", { deliver() {}, kick() {} });
 * u.name; // "127.0.0.1:5000"
 * ```
 */
export class User {
  /** The current display name; a new user is named after its address. */
  name: string;
  /** The name key of the account this user is logged in as, if any. */
  account?: string;
  /**
   * Whether public messages naming this user come marked as mentions (lib/core/mentions.ts):
   * JSON clients always; text clients when they ask (`mentions|on`), so the original's lines
   * stay as they were.
   */
  marksMentions = false;
  /**
   * Whether this user is a bot signed in with its token (the bot HTTP API, docs/BOTS.md): its
   * public messages carry the bot mark.
   */
  bot = false;

  /** Where this user is in its core's presence log (lib/core/presence_feed.ts). */
  feedPos = 0;
  /** The presence log of the core this user is online in; set when it joins. */
  feed: PresenceFeed | undefined;

  #keyOf = "";
  #key = "";

  /** {@link nameKey} of the current name, worked out once per name (read for every message). */
  get key(): string {
    if (this.#keyOf !== this.name) [this.#keyOf, this.#key] = [this.name, nameKey(this.name)];
    return this.#key;
  }

  /**
   * Hands `event` to the peer, after whatever presence announcements are still waiting for this
   * user in the log, so that the user gets everything in the order it happened. Everything but
   * the presence log itself reaches a user through this.
   */
  deliver(event: ChatEvent): void {
    if (this.feed !== undefined && this.feedPos !== this.feed.end) this.feed.catchUp(this);
    this.peer.deliver(event);
  }

  constructor(
    /** Unique for the life of the process. */
    readonly id: number,
    /** `IP:PORT` as the server sees it. */
    readonly addr: string,
    readonly peer: Peer,
  ) {
    this.name = addr;
  }
}
