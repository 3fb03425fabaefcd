/**
 * A WebSocket adapted to the byte {@link Transport} a {@link ClientConnection} reads and writes, so that
 * a browser gets the very same framing, flood control, bounded outbox and chat as a TCP client.
 *
 * In: each text message is one line (the newline is added), so `--max-line` applies to it through
 * the connection's line splitter; a binary message is refused with {@link BadFrameError}. Out:
 * each write (what the outbox coalesced in one turn: one or more JSON lines, each ending in a
 * newline) becomes one text message.
 *
 * @module
 */

import { BadFrameError, type Transport } from "../connection.ts";
import { ChunkQueue } from "../../shared/bytes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A write resolves only once the socket's unsent bytes fall below this, so that a browser that
 * stops reading keeps its writes pending and its outbox fills up to `--max-queue`: the bounded
 * outbox rule drops it exactly as it drops a slow TCP reader.
 */
const HIGH_WATER_BYTES = 64 * 1024;
/** How often a write behind {@link HIGH_WATER_BYTES} looks again (WebSocket has no drain event). */
const DRAIN_POLL_MS = 10;

/**
 * Batches decoded, by buffer: in a broadcast the outboxes of many connections write the very same
 * buffer (shared by the outbox's flush), so it is turned into a string once, not once per socket.
 * Weak, so a batch's string goes when the batch does.
 */
const decoded = new WeakMap<Uint8Array, string>();

function decodeShared(bytes: Uint8Array): string {
  let text = decoded.get(bytes);
  if (text === undefined) {
    text = decoder.decode(bytes);
    decoded.set(bytes, text);
  }
  return text;
}

/**
 * A server-side WebSocket as a byte stream of lines.
 *
 * @example
 * ```ts
 * import { WebSocketTransport } from "./ws_transport.ts";
 * import { ClientConnection, type ServerContext } from "../connection.ts";
 *
 * // In a Deno.serve handler; `ctx` is the server (see ../listener.ts).
 * function upgrade(
 *   request: Request,
 *   info: Deno.ServeHandlerInfo<Deno.NetAddr>,
 *   ctx: ServerContext,
 * ): Response {
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   const transport = new WebSocketTransport(socket, info.remoteAddr, 1024 * 1024);
 *   socket.onopen = () => void new ClientConnection(transport, ctx).run();
 *   return response;
 * }
 * ```
 */
export class WebSocketTransport implements Transport {
  /** Messages received and not yet read, as bytes. */
  readonly #inbox = new ChunkQueue();
  #buffered = 0;
  #ended = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(
    readonly socket: WebSocket,
    readonly remoteAddr: Deno.NetAddr,
    /**
     * The most input held while the connection is not reading (it waits for a password check):
     * a browser cannot be made to wait, so past this the connection is closed.
     */
    readonly maxBufferedInput: number,
  ) {
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) => this.#receive(e.data);
    socket.onclose = () => this.#end();
    socket.onerror = () => this.#end();
  }

  #receive(data: unknown): void {
    if (this.#ended || this.#failure) return;
    if (typeof data !== "string") {
      return this.#fail(
        new BadFrameError(
          "binary WebSocket frames are not accepted: send each request as a text frame; closing the connection",
        ),
      );
    }
    const bytes = encoder.encode(data.endsWith("\n") ? data : data + "\n");
    if (this.#buffered + bytes.length > this.maxBufferedInput) {
      return this.#fail(
        new BadFrameError(
          `more than ${this.maxBufferedInput} bytes sent while earlier requests were pending; closing the connection`,
        ),
      );
    }
    this.#inbox.push(bytes);
    this.#buffered += bytes.length;
    this.#wakeReader();
  }

  #fail(error: Error): void {
    this.#failure = error;
    this.#wakeReader();
  }

  #end(): void {
    this.#ended = true;
    this.#wakeReader();
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#inbox.empty) {
      if (this.#failure) throw this.#failure;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    // Received messages are read before a failure is reported: the lines before it count.
    const n = this.#inbox.readInto(p);
    this.#buffered -= n;
    return n;
  }

  async write(p: Uint8Array): Promise<number> {
    if (this.socket.readyState !== WebSocket.OPEN) throw new Deno.errors.BrokenPipe("closed");
    this.socket.send(decodeShared(p));
    while (this.socket.bufferedAmount > HIGH_WATER_BYTES) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
      if (this.socket.readyState !== WebSocket.OPEN) throw new Deno.errors.BrokenPipe("closed");
    }
    return p.length;
  }

  close(): void {
    this.#end();
    try {
      this.socket.close(1000);
    } catch { /* already closed */ }
  }
}
