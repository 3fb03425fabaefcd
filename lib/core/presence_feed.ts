/**
 * Announcing who comes, goes and renames, to everyone online: at once while that is cheap, and
 * from a shared log when it is not.
 *
 * A connect storm announces each of n newcomers to everyone: n²/2 deliveries (50 million for
 * 10,000), far more work than taking the connections. Done inside each join, it holds up
 * accepting and serving everybody until the last announcement is queued. So past a budget of
 * deliveries per window, a presence event is appended to a log instead, and each user keeps its
 * position in that log:
 *
 * - a pump hands every user what it has not been given, in slices between other work, until
 *   everyone is at the end of the log, which is then emptied and announcing is immediate again;
 * - anything else for a user ({@link User.deliver}) and any request of its own
 *   ({@link PresenceFeed.catchUp}) first takes along what the log holds for it, so no user ever
 *   sees its events in another order than they happened, and none is lost.
 *
 * A newcomer starts at the end of the log, so it is given exactly the events after its joining
 * (its own `online` first), as it would have been at once.
 *
 * @module
 */

import type { ChatEvent } from "../protocol/events.ts";
import type { User } from "./user.ts";

/** Deliveries per window that are made at once; past them, events go through the log. */
export const IMMEDIATE_DELIVERIES = 100_000;
/** The window over which {@link IMMEDIATE_DELIVERIES} counts, in ms. */
export const WINDOW_MS = 100;
/** Deliveries per slice of the pump, between which other work (accepting, reading) runs. */
export const SLICE_DELIVERIES = 20_000;
/**
 * While announcements keep coming (one within this many ms), the pump's slices are a quarter:
 * what is still arriving (the rest of a storm's connections) is served first.
 */
export const BUSY_MS = 20;
/**
 * The most events the log holds. Joins and leaves that keep coming faster than the pump hands
 * them out would otherwise grow it without end: past this, everyone is caught up at once, in
 * that turn, as before the log existed.
 */
export const MAX_LOGGED = 50_000;

interface Entry {
  event: ChatEvent;
  /** A user this event is not for (the renamer of a rename). */
  except: User | undefined;
}

/** What the feed needs from the core and the runtime. */
export interface FeedOptions {
  /** The online users, in join order. */
  users: () => Iterable<User>;
  /** How many users are online. */
  count: () => number;
  /** The time in ms. */
  clock: () => number;
  /** Runs `fn` later, after pending I/O (default: `setTimeout(fn, 0)`). */
  later?: (fn: () => void) => void;
  immediateDeliveries?: number;
  sliceDeliveries?: number;
  maxLogged?: number;
}

/**
 * The presence announcements of one chat core.
 *
 * @example
 * ```ts
 * import { PresenceFeed } from "./presence_feed.ts";
 * import { User } from "./user.ts";
 *
 * const users: User[] = [];
 * const feed = new PresenceFeed({ users: () => users, count: () => users.length, clock: Date.now });
 * const u = new User(1, "127.0.0.1:5000", { deliver: (e) => console.log(e.kind), kick() {} });
 * users.push(u);
 * feed.joined(u);
 * feed.announce({ kind: "presence", msgId: 1, ts: 0, event: "online", name: u.name, addr: u.addr, wire: [] });
 * ```
 */
export class PresenceFeed {
  readonly #users: () => Iterable<User>;
  readonly #count: () => number;
  readonly #clock: () => number;
  readonly #later: (fn: () => void) => void;
  readonly #immediate: number;
  readonly #slice: number;
  readonly #maxLogged: number;
  /** The log: `#entries[i]` is event number `#base + i`. Empty while announcing at once. */
  #entries: Entry[] = [];
  #base = 0;
  #windowStart = -Infinity;
  #windowDeliveries = 0;
  #lastLogged = -Infinity;
  #pumpScheduled = false;
  /** The users still to visit in the pump's current pass. */
  #pass: Iterator<User> | undefined;
  /** {@link end} when the current pass began: nothing new since means everyone has it all. */
  #passEnd = 0;

  constructor(options: FeedOptions) {
    this.#users = options.users;
    this.#count = options.count;
    this.#clock = options.clock;
    this.#later = options.later ?? ((fn) => setTimeout(fn, 0));
    this.#immediate = options.immediateDeliveries ?? IMMEDIATE_DELIVERIES;
    this.#slice = options.sliceDeliveries ?? SLICE_DELIVERIES;
    this.#maxLogged = options.maxLogged ?? MAX_LOGGED;
  }

  /** The number the next logged event gets; a user at it has been given everything. */
  get end(): number {
    return this.#base + this.#entries.length;
  }

  /** Events in the log, waiting for some user. */
  get pending(): number {
    return this.#entries.length;
  }

  /** Places a newcomer at the end: it is given what is announced from now on. */
  joined(user: User): void {
    user.feedPos = this.end;
  }

  /** Announces `event` to every online user but `except`, in order with everything else. */
  announce(event: ChatEvent, except?: User): void {
    if (this.#entries.length === 0) {
      const count = this.#count();
      const now = this.#clock();
      if (now - this.#windowStart >= WINDOW_MS) {
        this.#windowStart = now;
        this.#windowDeliveries = 0;
      }
      if (this.#windowDeliveries + count <= this.#immediate) {
        this.#windowDeliveries += count;
        for (const user of this.#users()) if (user !== except) user.peer.deliver(event);
        return;
      }
    }
    this.#entries.push({ event, except });
    this.#lastLogged = this.#clock();
    if (this.#entries.length >= this.#maxLogged) return this.#drain();
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      this.#later(() => this.#pump());
    }
  }

  /**
   * Hands `user` what the log holds for it; returns how many events that was. Called before
   * anything else reaches the user, and before a request of its own is answered.
   */
  catchUp(user: User): number {
    const from = user.feedPos;
    // Fixed now: a delivery may end a connection, whose leaving is logged behind these.
    const to = this.end;
    if (from >= to) return 0;
    user.feedPos = to;
    // Both fixed too: a delivery that ends a connection may log its leaving, and a full log is
    // then emptied (#drain) before this loop is done.
    const entries = this.#entries;
    const base = this.#base;
    for (let seq = from; seq < to; seq++) {
      const entry = entries[seq - base];
      if (entry.except !== user) user.peer.deliver(entry.event);
    }
    return to - from;
  }

  /** Catches every user up now and empties the log (the pump, if scheduled, finds it done). */
  #drain(): void {
    for (const user of this.#users()) this.catchUp(user);
    this.#pass = undefined;
    this.#base = this.end;
    this.#entries = [];
  }

  /** One slice: catches users up until the slice's deliveries are spent or everyone is done. */
  #pump(): void {
    this.#pumpScheduled = false;
    const busy = this.#clock() - this.#lastLogged < BUSY_MS;
    let budget = busy ? this.#slice / 4 : this.#slice;
    while (budget > 0) {
      if (this.#pass === undefined) {
        this.#pass = this.#users()[Symbol.iterator]();
        this.#passEnd = this.end;
      }
      const next = this.#pass.next();
      if (next.done) {
        this.#pass = undefined;
        if (this.end === this.#passEnd) {
          // Everyone visited after the last event was logged has it all (a newcomer starts at
          // the end): the log is done with.
          this.#base = this.end;
          this.#entries = [];
          return;
        }
        continue;
      }
      // At least one per user, so that a pass over users already caught up ends too.
      budget -= Math.max(1, this.catchUp(next.value));
    }
    this.#pumpScheduled = true;
    this.#later(() => this.#pump());
  }
}
