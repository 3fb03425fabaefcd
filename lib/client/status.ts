/**
 * The status line a terminal shows above the input line: who you are, the current room, how many
 * are online, and the unread counts of the other rooms, kept up to date from the welcome and
 * events (no `/who` needed). Pure.
 *
 * @example
 * ```ts
 * import { OnlineNames, renderStatus } from "./status.ts";
 *
 * const online = new OnlineNames();
 * online.reset({ type: "welcome", online: [{ name: "alice" }, { name: "bob" }] });
 * online.apply({ type: "presence", event: "offline", name: "bob" }); // true: it changed
 * renderStatus({ name: "alice", online: online.count, connected: true }, false);
 * // " alice in #lobby · 1 online "
 * ```
 * @module
 */

import { type Frame, paint, safe } from "./render.ts";
import { LOBBY, type Unread } from "./rooms.ts";
import { nameKey } from "../shared/names.ts";

/** The names online, from the welcome's `online` list and the presence events after it. */
export class OnlineNames {
  readonly #names = new Set<string>();

  get count(): number {
    return this.#names.size;
  }

  /** Starts again from a welcome (at connection, and after each reconnect). */
  reset(welcome: Frame): void {
    this.#names.clear();
    const list = Array.isArray(welcome.online) ? welcome.online : [];
    for (const u of list) {
      const name = (u as Record<string, unknown> | null)?.name;
      if (typeof name === "string") this.#names.add(nameKey(name));
    }
  }

  /** Follows a presence event; returns whether the count may have changed. */
  apply(frame: Frame): boolean {
    if (frame.type !== "presence" || typeof frame.name !== "string") return false;
    const name = nameKey(frame.name);
    switch (frame.event) {
      case "online":
        this.#names.add(name);
        return true;
      case "offline":
        this.#names.delete(name);
        return true;
      case "renamed":
        if (typeof frame.old === "string") this.#names.delete(nameKey(frame.old));
        this.#names.add(name);
        return true;
      default:
        return false;
    }
  }
}

/** What the status line says. */
export interface StatusFacts {
  /** The client's current name. */
  name: string;
  /** How many are online (the last known count while reconnecting). */
  online: number;
  /** Whether a session is up. */
  connected: boolean;
  /** The current room; the lobby unless told. */
  room?: string;
  /** Other rooms with messages not seen yet. */
  unread?: readonly Unread[];
}

/** The status line, in reverse video when `color`. */
export function renderStatus(facts: StatusFacts, color: boolean): string {
  const where = `${safe(facts.name)} in ${safe(facts.room ?? LOBBY)}`;
  const state = facts.connected ? `${facts.online} online` : "reconnecting…";
  const unread = (facts.unread ?? []).map((u) => `${safe(u.room)} ${u.count}`).join(", ");
  return paint(` ${where} · ${state}${unread ? ` · unread ${unread}` : ""} `, "7", color);
}
