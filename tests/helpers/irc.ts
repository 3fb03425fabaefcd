/**
 * A raw IRC client for protocol tests: a {@link LineClient} that registers and waits for
 * numerics, so a test reads like the conversation it checks.
 *
 * @module
 */

import { LineClient } from "./lines.ts";

/**
 * One IRC connection.
 *
 * @example
 * ```ts
 * const alice = await IrcClient.register(6667, "alice");
 * await alice.send("JOIN #dev");
 * await alice.expect(/ 366 alice #dev /);
 * ```
 */
export class IrcClient {
  private constructor(readonly lines: LineClient, public nick: string) {}

  /** Connects without registering. */
  static async connect(port: number): Promise<IrcClient> {
    return new IrcClient(await LineClient.connect(port), "*");
  }

  /** Connects, sends `NICK`/`USER` (after `before`, e.g. PASS or CAP lines) and waits for 001 and the lobby's NAMES. */
  static async register(port: number, nick: string, before: string[] = []): Promise<IrcClient> {
    const c = await IrcClient.connect(port);
    for (const line of before) await c.send(line);
    await c.send(`NICK ${nick}`);
    await c.send(`USER ${nick} 0 * :${nick} in a test`);
    await c.welcomed(nick);
    return c;
  }

  /** Waits for the welcome (001) and the end of the lobby's NAMES that follows it. */
  async welcomed(nick: string): Promise<void> {
    await this.expect(new RegExp(`^:fastim 001 ${escape(nick)} `));
    this.nick = nick;
    await this.expect(new RegExp(` 366 ${escape(nick)} #lobby `));
  }

  /** Sends one line (CR LF). */
  send(line: string): Promise<void> {
    return this.lines.writeRaw(new TextEncoder().encode(line + "\r\n"));
  }

  /** Reads lines until one matches `re`, answering the server's PINGs; returns it. */
  expect(re: RegExp, timeoutMs = 3000): Promise<string> {
    return this.lines.readUntil((l) => re.test(l), timeoutMs);
  }

  /** Reads lines until end of stream. */
  readToEnd(timeoutMs = 3000): Promise<string[]> {
    return this.lines.readToEnd(timeoutMs);
  }

  /** Returns the next line that arrives within `ms`, or null. */
  quietFor(ms: number): Promise<string | null> {
    return this.lines.quietFor(ms);
  }

  close(): void {
    this.lines.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function escape(s: string): string {
  return s.replace(/[|^[\]\\{}.*+?()$]/g, "\\$&");
}
