/**
 * A WebSocket to the server's `/ws` with the byte-stream face of a TCP connection (`read`,
 * `write`, `close`), so the load generator drives the `ws` dialect (JSON over a WebSocket) with
 * the same loops as TCP. Each message received is handed out as its bytes; each write is one
 * message.
 *
 * @module
 */

import { ChunkQueue } from "../../lib/shared/bytes.ts";
import { closeQuietly } from "../../lib/shared/close_quietly.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the generator's loops need of a connection: TCP sockets and {@link WsConn} both fit. */
export interface ByteConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** One WebSocket as a byte stream. */
export class WsConn implements ByteConn {
  readonly #inbox = new ChunkQueue();
  #ended = false;
  #wake: (() => void) | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.onmessage = (e) => {
      this.#inbox.push(encoder.encode(String(e.data)));
      this.#wakeReader();
    };
    socket.onclose = () => {
      this.#ended = true;
      this.#wakeReader();
    };
  }

  /** Opens `ws://host:port/ws`; throws when the upgrade fails. */
  static async open(host: string, port: number): Promise<WsConn> {
    const socket = new WebSocket(`ws://${host}:${port}/ws`);
    const conn = new WsConn(socket);
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error("WebSocket upgrade failed"));
    });
    return conn;
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#inbox.empty) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    return this.#inbox.readInto(p);
  }

  write(p: Uint8Array): Promise<number> {
    if (this.socket.readyState !== WebSocket.OPEN) return Promise.reject(new Error("closed"));
    this.socket.send(decoder.decode(p));
    return Promise.resolve(p.length);
  }

  close(): void {
    closeQuietly(this.socket);
  }
}
