/**
 * How long history is kept: `--retain-days` and `--retain-messages` (0 = no limit, the default),
 * parsed with the rest of the server's flags (config.ts), and the clean-up that applies them once
 * at start and then once a day. Deleting a message deletes it from search too (the store's
 * triggers); offline messages still waiting for their receiver are never deleted by it.
 *
 * @module
 */

import type { FlagSpec, FlagValues } from "../shared/cli.ts";
import { parseIntFlag } from "../shared/units.ts";
import type { HistoryStorage } from "../core/storage.ts";
import type { Logger } from "../shared/log.ts";

/** How much history to keep. */
export interface RetentionSettings {
  /** Delete messages older than this many days; 0 keeps them for ever. */
  days: number;
  /** Keep at most this many public and this many private messages, the newest; 0: no limit. */
  messages: number;
}

/** The defaults: keep everything. */
export const RETENTION_DEFAULTS: RetentionSettings = { days: 0, messages: 0 };

/** How often the clean-up runs. */
export const RETENTION_INTERVAL_MS = 24 * 60 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;

/** The retention flags, with their help. */
export const RETENTION_FLAGS: FlagSpec[] = [
  {
    name: "retain-days",
    type: "string",
    value: "N",
    default: "0",
    doc: "delete messages (public, rooms, private) older than N days, daily (0 = keep for ever)",
  },
  {
    name: "retain-messages",
    type: "string",
    value: "N",
    default: "0",
    doc: "keep only the newest N public and N private messages, cleaned daily (0 = no limit)",
  },
];

/**
 * Reads the retention flags; throws RangeError with one line on a bad value.
 *
 * @example
 * ```ts
 * import { parseRetentionFlags } from "./retention.ts";
 *
 * parseRetentionFlags({ "retain-days": "30" }); // { days: 30, messages: 0 }
 * ```
 */
export function parseRetentionFlags(v: FlagValues): RetentionSettings {
  const days = typeof v["retain-days"] === "string"
    ? parseIntFlag(v["retain-days"], "retain-days", 0, 100_000)
    : 0;
  const messages = typeof v["retain-messages"] === "string"
    ? parseIntFlag(v["retain-messages"], "retain-messages", 0, 1_000_000_000)
    : 0;
  return { days, messages };
}

/**
 * What a joining client is told about history, or `undefined` when nothing would be said.
 *
 * @example
 * ```ts
 * import { historyNotice } from "./retention.ts";
 *
 * historyNotice({ days: 30, messages: 0 });
 * // "messages are stored on this server and can be searched by those who may read them; kept 30 days"
 * ```
 */
export function historyNotice(r: RetentionSettings): string {
  const kept = [
    r.days > 0 ? `kept ${r.days} day${r.days === 1 ? "" : "s"}` : "",
    r.messages > 0 ? `at most the newest ${r.messages}` : "",
  ].filter((s) => s !== "");
  return "messages are stored on this server and can be searched by those who may read them; " +
    (kept.length > 0 ? kept.join(", ") : "kept until deleted by the operator");
}

/**
 * Runs the clean-up now and then every {@link RETENTION_INTERVAL_MS}; nothing when the settings
 * keep everything. Returns what stops it.
 */
export function startRetention(
  store: HistoryStorage,
  settings: RetentionSettings,
  log: Logger,
  clock: () => number = Date.now,
): () => void {
  if (settings.days === 0 && settings.messages === 0) return () => {};
  const run = () => {
    try {
      const cutoff = settings.days > 0 ? clock() - settings.days * DAY_MS : 0;
      const deleted = store.prune(cutoff, settings.messages);
      if (deleted > 0) log.info("history cleaned", { deleted, ...settings });
    } catch (e) {
      log.error("history clean-up failed", { error: e as Error });
    }
  };
  run();
  const timer = setInterval(run, RETENTION_INTERVAL_MS);
  Deno.unrefTimer(timer); // a daily chore never keeps the process alive
  return () => clearInterval(timer);
}
