/**
 * POSTs JSON bodies to one URL, one at a time and in order, from a bounded queue, each POST with a
 * timeout: what the outgoing webhooks (webhooks.ts) and the Matterbridge bridge
 * (matterbridge_bridge.ts) send with. Sending never holds up the caller: when the queue is full,
 * or the receiver fails or is slow, the body is dropped and the owner is told why (no retries:
 * the owner decides what a drop means and how loudly to log it).
 *
 * @module
 */

/** Where and how a {@link PostQueue} sends. */
export interface PostTarget {
  url: string;
  /** Headers besides `content-type: application/json` (an `Authorization`). */
  headers?: Record<string, string>;
  /** How long one POST may take, in milliseconds. */
  timeoutMs: number;
  /** Bodies waiting to be sent; more are dropped. */
  queue: number;
}

/** What a {@link PostQueue} tells its owner. */
export interface PostOutcomes {
  /** A body was dropped: `reason` is "queue full", "receiver answered N", "timed out" or the error. */
  dropped(reason: string): void;
  /** A POST was answered 2xx. */
  sent?(): void;
}

/**
 * One URL's queue of JSON bodies.
 *
 * @example
 * ```ts
 * import { PostQueue } from "./post_queue.ts";
 *
 * const queue = new PostQueue(
 *   { url: "http://127.0.0.1:9/hook", timeoutMs: 5000, queue: 256 },
 *   { dropped: (reason) => console.warn("dropped:", reason) },
 * );
 * queue.send({ text: "hello" });
 * queue.close();
 * ```
 */
export class PostQueue {
  readonly #queue: unknown[] = [];
  #sending = false;
  #closed = false;
  #inFlight?: AbortController;

  constructor(readonly target: PostTarget, readonly outcomes: PostOutcomes) {}

  /** Queues `body` to be POSTed as JSON. Never blocks, never throws. */
  send(body: unknown): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.target.queue) {
      this.outcomes.dropped("queue full");
      return;
    }
    this.#queue.push(body);
    if (!this.#sending) void this.#drain();
  }

  /** Stops sending: the queue is dropped and a POST under way is aborted. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#inFlight?.abort();
  }

  async #drain(): Promise<void> {
    this.#sending = true;
    while (!this.#closed) {
      if (this.#queue.length === 0) break;
      const body = this.#queue.shift();
      const abort = new AbortController();
      this.#inFlight = abort;
      const timer = setTimeout(() => abort.abort(), this.target.timeoutMs);
      try {
        const response = await fetch(this.target.url, {
          method: "POST",
          headers: { "content-type": "application/json", ...this.target.headers },
          body: JSON.stringify(body),
          signal: abort.signal,
        });
        // The answer is not used; reading it frees the connection for the next POST.
        await response.body?.cancel();
        if (!response.ok) this.outcomes.dropped(`receiver answered ${response.status}`);
        else this.outcomes.sent?.();
      } catch (error) {
        if (!this.#closed) {
          this.outcomes.dropped(abort.signal.aborted ? "timed out" : (error as Error).message);
        }
      } finally {
        clearTimeout(timer);
      }
    }
    this.#inFlight = undefined;
    this.#sending = false;
  }
}
