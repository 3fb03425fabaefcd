/**
 * The page's connection to `/ws`: the hello, requests with ids answered by their replies, and
 * reconnecting with backoff when the connection drops. What was missed meanwhile is fetched by
 * the app through `history` (message ids make that exact); this module only reconnects.
 *
 * @module
 */

/// <reference lib="dom" />

import type { Reply, ServerFrame, WelcomeFrame } from "./frames.ts";

/** The first wait before reconnecting; doubled at each failure up to {@link MAX_BACKOFF_MS}. */
export const FIRST_BACKOFF_MS = 500;
export const MAX_BACKOFF_MS = 15_000;

/**
 * The wait before reconnect attempt `attempt` (0-based): exponential, capped, with jitter so that
 * the pages of a restarted server do not all come back in the same instant.
 *
 * @example
 * ```ts
 * import { backoffMs } from "./chat_socket.ts";
 *
 * backoffMs(0, () => 0.5); // 500
 * backoffMs(10, () => 0.5); // 15000
 * ```
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt);
  return Math.round(base * (0.75 + random() / 2));
}

/**
 * Splits what one WebSocket message carries into frames: one JSON object per line. Lines that are
 * not JSON (the text dialect's greeting before the hello) are skipped.
 *
 * @example
 * ```ts
 * import { parseFrames } from "./chat_socket.ts";
 *
 * parseFrames('[1.2.3.4:5], x:online\n{"type":"ok","id":1}\n'); // [{ type: "ok", id: 1 }]
 * ```
 */
export function parseFrames(data: string): ServerFrame[] {
  const frames: ServerFrame[] = [];
  for (const line of data.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const frame = JSON.parse(line);
      if (frame && typeof frame.type === "string") frames.push(frame);
    } catch { /* not a frame of ours */ }
  }
  return frames;
}

/** What the chat socket tells the page. */
export interface ChatSocketEvents {
  /** Connected and welcomed (again, after a reconnect: `resumed` is true). */
  welcome(w: WelcomeFrame, resumed: boolean): void;
  /** An event frame: public, private, presence, notice, or an error without id. */
  frame(f: ServerFrame): void;
  /** The connection dropped; the next attempt is in `retryInMs` (undefined: not retrying). */
  down(reason: string, retryInMs: number | undefined): void;
}

/**
 * The page's link to the chat: a WebSocket that comes back after drops. (The terminal client's
 * counterpart is `ServerLink`, in lib/client/connection.ts.)
 *
 * @example
 * ```ts
 * import { ChatSocket, type ChatSocketEvents } from "./chat_socket.ts";
 *
 * async function sayHi(events: ChatSocketEvents): Promise<void> {
 *   const s = new ChatSocket(new URL("/ws", location.href), events);
 *   s.start({ name: "alice" });
 *   await s.request({ type: "say", text: "hi" });
 * }
 * ```
 */
export class ChatSocket {
  #socket: WebSocket | undefined;
  #hello: Record<string, unknown> = {};
  #nextId = 1;
  #waiting = new Map<number, (r: Reply) => void>();
  #attempt = 0;
  #welcomed = 0;
  #stopped = false;
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly url: URL, readonly events: ChatSocketEvents) {}

  /** True while connected and welcomed. */
  get online(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN && this.#welcomed > 0;
  }

  /** Connects with `hello` (`name`, `password`); reconnects use {@link setHello}'s latest. */
  start(hello: Record<string, unknown>): void {
    this.#hello = hello;
    this.#stopped = false;
    this.#connect();
  }

  /** What the next (re)connection says in its hello: the current name, say. */
  setHello(hello: Record<string, unknown>): void {
    this.#hello = hello;
  }

  /** Sends a request and resolves with its reply; rejects when the connection drops first. */
  request(frame: Record<string, unknown>): Promise<Reply> {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error("not connected"));
    }
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      socket.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Closes for good (no reconnect). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#socket?.close();
  }

  #connect(): void {
    const socket = new WebSocket(this.url);
    this.#socket = socket;
    let welcomed = false;
    socket.onopen = () => {
      socket.send(
        JSON.stringify({ type: "hello", version: 1, client: "fastim-web", ...this.#hello }),
      );
    };
    socket.onmessage = (e) => {
      for (const frame of parseFrames(String(e.data))) {
        if (frame.type === "welcome" && !welcomed) {
          welcomed = true;
          this.#attempt = 0;
          this.#startKeepalive(frame.limits.idleTimeoutMs);
          this.events.welcome(frame, this.#welcomed++ > 0);
        } else if ((frame.type === "ok" || frame.type === "error") && frame.id !== undefined) {
          const resolve = this.#waiting.get(frame.id);
          this.#waiting.delete(frame.id);
          resolve?.(frame);
        } else if (welcomed) {
          this.events.frame(frame);
        }
      }
    };
    socket.onclose = (e) => {
      if (this.#socket !== socket) return;
      clearInterval(this.#keepalive);
      const failed: Reply = { type: "error", code: "disconnected", message: "connection lost" };
      for (const resolve of this.#waiting.values()) resolve(failed);
      this.#waiting.clear();
      if (this.#stopped) return this.events.down("closed", undefined);
      const wait = backoffMs(this.#attempt++);
      this.events.down(e.reason || "connection lost", wait);
      this.#retry = setTimeout(() => this.#connect(), wait);
    };
  }

  /** Pings well inside the server's idle timeout, so an open page is not timed out. */
  #startKeepalive(idleTimeoutMs: number): void {
    clearInterval(this.#keepalive);
    if (idleTimeoutMs <= 0) return;
    const every = Math.max(1000, Math.min(25_000, idleTimeoutMs / 3));
    this.#keepalive = setInterval(() => void this.request({ type: "ping" }).catch(() => {}), every);
  }
}
