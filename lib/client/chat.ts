/**
 * The chat actions (say, msg, who, rename) over a {@linkcode Connection}, reporting each outcome
 * as display lines. The menu, the slash commands and the scripting modes all go through here.
 *
 * @example
 * ```ts
 * const chat = new Chat(conn, { event: print, reply: print, status: print, problem: print }, false);
 * await chat.msg("bob", "hi"); // prints "12:03 [you -> bob] hi" or "! could not send to bob: …"
 * ```
 * @module
 */

import type { ChatActions } from "./commands.ts";
import { type Connection, DisconnectedError, type Frame, ServerError } from "./connection.ts";
import {
  renderError,
  renderInfo,
  renderSentPrivate,
  renderWho,
  safe,
  type View,
} from "./render.ts";

/** Where display lines go; each mode routes them (screen, stdout, stderr or nowhere). */
export interface Output {
  /** An incoming event (public, private, presence, notice). */
  event(line: string): void;
  /** The result of the user's own request (who list, sent private message, new name). */
  reply(line: string): void;
  /** A note from the client itself (connected, reconnecting, help). */
  status(line: string): void;
  /** A refused request or another error. */
  problem(line: string): void;
}

/** Chat actions that print their outcome; implements the slash commands' {@linkcode ChatActions}. */
export class Chat implements ChatActions {
  /** Errors so far: refused or lost requests, bad commands (the scripting modes' exit status). */
  failures = 0;

  constructor(
    readonly conn: Connection,
    readonly out: Output,
    readonly color: boolean,
  ) {}

  /** The viewer for rendering: the current name and the colour setting. */
  get view(): View {
    return { me: this.conn.name, color: this.color };
  }

  say(text: string): Promise<boolean> {
    // The server echoes public messages to their sender, so success prints nothing here.
    return this.#request({ type: "say", text }, "could not send", () => {});
  }

  msg(to: string, text: string): Promise<boolean> {
    return this.#request(
      { type: "msg", to, text },
      `could not send to ${to}`,
      (ok) => this.out.reply(renderSentPrivate(to, text, tsOf(ok), this.view, ok.stored === true)),
    );
  }

  who(): Promise<boolean> {
    return this.#request(
      { type: "who" },
      "could not list who is online",
      (ok) => this.out.reply(renderWho(ok.users, this.view)),
    );
  }

  rename(name: string): Promise<boolean> {
    return this.#request(
      { type: "rename", name },
      `could not rename to ${name}`,
      (ok) => this.out.reply(renderInfo(`you are now ${safe(ok.name)}`, this.view)),
    );
  }

  info(text: string): void {
    this.out.status(renderInfo(text, this.view));
  }

  error(text: string): void {
    this.failures++;
    this.out.problem(renderError(text, this.view));
  }

  async #request(
    frame: Record<string, unknown> & { type: string },
    failure: string,
    onOk: (ok: Frame) => void,
  ): Promise<boolean> {
    try {
      // Printed from the reply hook so the outcome appears in order with the events around it.
      await this.conn.request(frame, (reply) => {
        if (reply.type === "ok") onOk(reply);
        else this.error(`${failure}: ${new ServerError(reply).message}`);
      });
      return true;
    } catch (e) {
      if (e instanceof ServerError) return false; // already reported by the hook
      if (!(e instanceof DisconnectedError)) throw e;
      this.error(`${failure}: ${e.message}`);
      return false;
    }
  }
}

function tsOf(frame: Frame): number {
  return typeof frame.ts === "number" && Number.isFinite(frame.ts) ? frame.ts : Date.now();
}
