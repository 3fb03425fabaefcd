/**
 * Outgoing webhooks: `--webhook URL` POSTs each public message (lobby or room) that matches
 * `--webhook-room NAME` and `--webhook-prefix TEXT` (both optional; both must match when given)
 * to URL as one JSON object in Matterbridge's message shape (lib/protocol/matterbridge.ts), so a
 * receiver written for Matterbridge's api gateway reads it unchanged.
 *
 * Sending never holds up the chat: messages wait in a bounded queue and go one at a time, each
 * with a timeout (post_queue.ts); when the queue is full, or the receiver fails or is slow, the
 * message is dropped and counted in one log line (no retries: a webhook is a notification, not a
 * delivery promise).
 *
 * @module
 */

import { type FlagSpec, type FlagValues, httpUrlFlag, mainFlagGiven } from "../shared/cli.ts";
import { parseIntFlag } from "../shared/units.ts";
import type { Logger } from "../shared/log.ts";
import type { PublicEvent } from "../protocol/events.ts";
import { emptyMessage, type MatterbridgeMessage } from "../protocol/matterbridge.ts";
import { nameKey } from "../shared/names.ts";
import { PostQueue } from "./post_queue.ts";

/** One webhook's settings. */
export interface WebhookSettings {
  url: string;
  /** Only messages in this room ("lobby" for the lobby); absent: every room and the lobby. */
  room?: string;
  /** Only messages whose text starts with this. */
  prefix?: string;
  /** How long one POST may take, in milliseconds. */
  timeoutMs: number;
  /** Messages waiting to be sent; more are dropped. */
  queue: number;
}

/** The webhook flags, with their help. */
export const WEBHOOK_FLAGS: FlagSpec[] = [
  {
    name: "webhook",
    type: "string",
    value: "URL",
    doc: "POST matching public messages as JSON (Matterbridge's message shape) to URL " +
      "(docs/BOTS.md)",
  },
  {
    name: "webhook-room",
    type: "string",
    value: "NAME",
    doc: "only messages said in room NAME (lobby = the lobby); default every room and the lobby",
  },
  {
    name: "webhook-prefix",
    type: "string",
    value: "TEXT",
    doc: "only messages whose text starts with TEXT",
  },
  {
    name: "webhook-timeout",
    type: "string",
    value: "MS",
    default: "5000",
    doc: "how long one webhook POST may take before it is given up",
  },
];

/** Messages waiting for the webhook; past this they are dropped. */
export const WEBHOOK_QUEUE = 256;

/** Reads the webhook flags: `undefined` without `--webhook`; RangeError with one line when bad. */
export function parseWebhookFlags(v: FlagValues): WebhookSettings | undefined {
  if (!mainFlagGiven(v, "webhook", ["webhook-room", "webhook-prefix", "webhook-timeout"])) {
    return undefined;
  }
  const url = httpUrlFlag(v.webhook as string, "webhook");
  const settings: WebhookSettings = {
    url: url.href,
    timeoutMs: typeof v["webhook-timeout"] === "string"
      ? parseIntFlag(v["webhook-timeout"], "webhook-timeout", 100, 600_000)
      : 5000,
    queue: WEBHOOK_QUEUE,
  };
  if (typeof v["webhook-room"] === "string") {
    if (v["webhook-room"].trim() === "") throw new RangeError("--webhook-room expects a room name");
    settings.room = v["webhook-room"];
  }
  if (typeof v["webhook-prefix"] === "string") {
    if (v["webhook-prefix"] === "") throw new RangeError("--webhook-prefix expects some text");
    settings.prefix = v["webhook-prefix"];
  }
  return settings;
}

/** Whether `event` is one the webhook wants. Room names compare as names do (case-folded). */
export function webhookMatches(s: WebhookSettings, event: PublicEvent): boolean {
  if (s.room !== undefined) {
    const wanted = nameKey(s.room);
    const said = event.room === undefined ? "lobby" : nameKey(event.room);
    if (wanted !== said) return false;
  }
  return s.prefix === undefined || event.text.startsWith(s.prefix);
}

/** The JSON a webhook receives for `event`: Matterbridge's message, FastIM's values. */
export function webhookBody(event: PublicEvent): MatterbridgeMessage {
  return {
    ...emptyMessage(),
    text: event.text,
    channel: event.room ?? "lobby",
    username: event.from,
    userid: event.from,
    protocol: "fastim",
    timestamp: new Date(event.ts).toISOString(),
    id: String(event.msgId),
  };
}

/** Sends matching messages to one URL, one at a time, from a bounded queue (post_queue.ts). */
export class WebhookSender {
  readonly #queue: PostQueue;
  /** Messages dropped since the start. */
  #dropped = 0;

  constructor(readonly settings: WebhookSettings, readonly log: Logger) {
    this.#queue = new PostQueue(settings, { dropped: (reason) => this.#drop(reason) });
  }

  /** Offers a public message; sends it later when it matches. Never blocks, never throws. */
  offer(event: PublicEvent): void {
    if (event.history || !webhookMatches(this.settings, event)) return;
    this.#queue.send(webhookBody(event));
  }

  /** Stops sending: the queue is dropped and a POST under way is aborted. */
  close(): void {
    this.#queue.close();
  }

  #drop(reason: string): void {
    this.#dropped++;
    // A full queue logs its first drop and every hundredth, so a flood is one line, not a flood.
    if (reason !== "queue full" || this.#dropped % 100 === 1) {
      this.log.warn("webhook message dropped", {
        url: this.settings.url,
        reason,
        dropped: this.#dropped,
      });
    }
  }
}
