/**
 * One open `GET /api/stream` of the bot HTTP API (docs/BOTS.md), on the HTTP side: NDJSON lines,
 * the `api_connected` greeting, then the replayed buffer, then live messages. The HTTP server
 * takes lines off the stream's queue as the socket accepts them, and the replay is fed in only as
 * that queue drains. Live messages wait behind it up to `maxQueueBytes`; past that the reader is
 * too slow and the stream is ended with an error (the connection is cut), as a slow connection
 * is: never an unbounded buffer.
 *
 * @module
 */

import type { MatterbridgeMessage } from "../protocol/matterbridge.ts";
import type { BotSink } from "./bot_session.ts";

const encoder = new TextEncoder();

/**
 * A stream's body and the sink its session writes into.
 *
 * @example
 * ```ts
 * import { BotStream } from "./bot_stream.ts";
 * import { apiConnected } from "../protocol/matterbridge.ts";
 *
 * const stream = new BotStream(64 * 1024, apiConnected(new Date()), () => {});
 * stream.begin([]); // nothing buffered: live messages follow the greeting
 * const response = new Response(stream.body, { headers: { "content-type": "application/json" } });
 * ```
 */
export class BotStream implements BotSink {
  readonly body: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Buffered messages still to send, last first; undefined until {@link begin}. */
  #replay: MatterbridgeMessage[] | undefined;
  /** Live lines waiting behind the replay or a full queue, and their bytes. */
  readonly #live: Uint8Array[] = [];
  #liveBytes = 0;
  #closed = false;
  /** Called once when the stream ends, however it ends. */
  onEnd: () => void = () => {};

  constructor(
    readonly maxQueueBytes: number,
    greeting: MatterbridgeMessage,
    readonly onSlow: () => void,
  ) {
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        controller.enqueue(encodeLine(greeting));
      },
      pull: () => this.#feed(),
      cancel: () => this.#end(),
    }, new ByteLengthQueuingStrategy({ highWaterMark: maxQueueBytes }));
  }

  /** Sets the buffered messages to send first; live ones wait until then. */
  begin(replay: MatterbridgeMessage[]): void {
    this.#replay = replay.reverse();
    this.#feed();
  }

  /** Queues one live message; drops the stream when too much waits. */
  push(message: MatterbridgeMessage): void {
    if (this.#closed) return;
    const line = encodeLine(message);
    this.#live.push(line);
    this.#liveBytes += line.length;
    this.#feed();
    if (this.#liveBytes > this.maxQueueBytes) {
      this.onSlow();
      this.#end();
      this.#controller.error(new Error("slow reader: the stream's queue is full"));
    }
  }

  /** Ends the stream after what is queued (shutdown, the session ended). */
  close(): void {
    if (this.#closed) return;
    this.#feed();
    this.#end();
    this.#controller.close();
  }

  /** Moves lines into the stream's queue while it has room: the replay first, then live ones. */
  #feed(): void {
    if (this.#replay === undefined) return;
    while (!this.#closed && (this.#controller.desiredSize ?? 0) > 0) {
      const replayed = this.#replay.pop();
      if (replayed) {
        this.#controller.enqueue(encodeLine(replayed));
        continue;
      }
      const line = this.#live.shift();
      if (!line) return;
      this.#liveBytes -= line.length;
      this.#controller.enqueue(line);
    }
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#replay = [];
    this.#live.length = 0;
    this.onEnd();
  }
}

function encodeLine(message: MatterbridgeMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message) + "\n");
}
