/**
 * Mentions: a public message (lobby or room) that names a user, as a word (`alice`, `@alice`,
 * `alice:`), is marked for that user. The shared event goes to everyone else untouched (encoded
 * once per dialect); the named users get one marked copy, so the hot path pays only for the
 * words of the text and one extra encoding when someone is named.
 *
 * @module
 */

import type { PublicEvent } from "../protocol/events.ts";
import { nameKey } from "../shared/names.ts";
import type { User } from "./user.ts";

/** The most words of one message looked at as names (a long paste is not a name list). */
const MAX_WORDS = 200;

/**
 * The name keys a text names: its words (runs of the characters names are made of), with a
 * leading `@` and trailing dots, dashes or underscores dropped.
 *
 * @example
 * ```ts
 * import { namedKeys } from "./mentions.ts";
 *
 * namedKeys("hey @Alice, and bob: see zoë."); // Set { "hey", "alice", "and", "bob", "see", "zoë" }
 * ```
 */
export function namedKeys(text: string): Set<string> {
  const keys = new Set<string>();
  const words = text.match(/[\p{L}\p{M}\p{N}_.\-]+/gu) ?? [];
  for (const word of words.slice(0, MAX_WORDS)) {
    const trimmed = word.replace(/[._\-]+$/u, "");
    if (trimmed !== "") keys.add(nameKey(trimmed));
  }
  return keys;
}

/**
 * Delivers `event` to `users`: a marked copy (`mention: true`) to those it names and who take
 * marks, the shared event to the rest.
 */
export function deliverMarked(users: Iterable<User>, event: PublicEvent): void {
  const named = namedKeys(event.text);
  let marked: PublicEvent | undefined;
  for (const user of users) {
    if (user.marksMentions && named.has(user.key) && user.name !== event.from) {
      user.deliver(marked ??= { ...event, mention: true, wire: [] });
    } else {
      user.deliver(event);
    }
  }
}
