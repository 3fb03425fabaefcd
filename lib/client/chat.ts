/**
 * The chat actions (say, msg, who, rename, history, accounts) over a {@linkcode ServerLink},
 * reporting each outcome as display lines. The menu, the slash commands and the scripting modes
 * all go through here. Passwords are sent, never printed.
 *
 * @example
 * ```ts
 * import { Chat } from "./chat.ts";
 * import type { ServerLink } from "./connection.ts";
 *
 * async function greetBob(link: ServerLink): Promise<void> {
 *   const print = (line: string) => console.log(line);
 *   const chat = new Chat(link, { event: print, reply: print, status: print, problem: print }, false);
 *   await chat.msg("bob", "hi"); // prints "12:03 [you -> bob] hi" or "! could not send to bob: …"
 * }
 * ```
 * @module
 */

import type { ChatActions } from "./commands.ts";
import {
  DisconnectedError,
  type Frame,
  ServerError,
  type ServerLink,
  TooLongError,
} from "./connection.ts";
import {
  renderError,
  renderFrame,
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

/** The line after a run of history (the backlog on joining, a `/history` page). */
export const END_OF_HISTORY = "-- end of history --";

/** Asks for a password without echo; resolves with `null` when the user cancels. */
export type AskSecret = (prompt: string) => Promise<string | null>;

/**
 * Chat actions that print their outcome; implements the slash commands' {@linkcode ChatActions}.
 */
export class Chat implements ChatActions {
  /** Errors so far: refused or lost requests, bad commands (the scripting modes' exit status). */
  failures = 0;
  /** The oldest public message shown so far: `/history` pages back from it. */
  #oldestShown: number | undefined;

  /** `ask`: how to ask for a password (only when stdin is a terminal). */
  constructor(
    readonly link: ServerLink,
    readonly out: Output,
    readonly color: boolean,
    readonly ask?: AskSecret,
  ) {}

  get canAsk(): boolean {
    return this.ask !== undefined;
  }

  askSecret(prompt: string): Promise<string | null> {
    return this.ask ? this.ask(prompt) : Promise.resolve(null);
  }

  /** Notes an event that was printed, so that `/history` continues before it. */
  shown(frame: Frame): void {
    const id = frame.msgId;
    if (frame.type !== "public" || typeof id !== "number" || !Number.isSafeInteger(id)) return;
    if (this.#oldestShown === undefined || id < this.#oldestShown) this.#oldestShown = id;
  }

  /** The viewer for rendering: the current name and the colour setting. */
  get view(): View {
    return { me: this.link.name, color: this.color };
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

  /** Prints up to `limit` public messages older than any shown so far, marked as history. */
  history(limit: number): Promise<boolean> {
    const before = this.#oldestShown;
    return this.#request(
      { type: "history", limit, ...(before === undefined ? {} : { before }) },
      "could not fetch the history",
      (ok) => {
        const messages = Array.isArray(ok.messages) ? ok.messages : [];
        if (messages.length === 0) {
          this.info(before === undefined ? "no messages yet" : "no older messages");
        }
        for (const m of messages) {
          if (m === null || typeof m !== "object") continue;
          const frame: Frame = { ...m, type: "public", history: true };
          this.out.reply(renderFrame(frame, this.view)!);
          this.shown(frame);
        }
        if (messages.length > 0) this.info(END_OF_HISTORY);
      },
    );
  }

  register(password: string): Promise<boolean> {
    return this.#request(
      { type: "register", password },
      "could not register",
      (ok) => this.out.reply(renderInfo(`you registered ${safe(ok.name)}`, this.view)),
      { retry: false },
    );
  }

  login(name: string, password: string): Promise<boolean> {
    return this.#request(
      { type: "login", name, password },
      `could not log in as ${name}`,
      (ok) => this.out.reply(renderInfo(`you are logged in as ${safe(ok.name)}`, this.view)),
      { retry: false },
    );
  }

  /**
   * Logs in as `name` with a password asked for (at start, when `--name` is registered), up to
   * `attempts` times. Resolves with why it failed, or `null` once logged in.
   */
  async loginAsking(name: string, attempts = 3): Promise<string | null> {
    for (let attempt = 1;; attempt++) {
      const password = await this.askSecret(`password for ${safe(name)}: `);
      if (password === null || password === "") return "cancelled";
      try {
        await this.link.request({ type: "login", name, password });
        return null;
      } catch (e) {
        if (e instanceof DisconnectedError) return e.message;
        if (!(e instanceof ServerError)) throw e;
        if (e.code !== "login_failed" || attempt >= attempts) return describeRefusal(e.frame);
        this.out.problem(renderError(`${e.message}; try again`, this.view));
      }
    }
  }

  passwd(old: string, next: string): Promise<boolean> {
    return this.#request(
      { type: "passwd", old, new: next },
      "could not change the password",
      () => this.out.reply(renderInfo("your password was changed", this.view)),
      { retry: false },
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
    opts: { retry?: boolean } = {},
  ): Promise<boolean> {
    for (let attempt = 1;; attempt++) {
      // Not for accounts: a failed-login limit is minutes long, and the user should know.
      const retry = (reply: Frame) =>
        opts.retry !== false && reply.code === "rate_limited" && attempt < RATE_LIMIT_ATTEMPTS;
      try {
        // Printed from the reply hook so the outcome appears in order with the events around it.
        await this.link.request(frame, (reply) => {
          if (reply.type === "ok") onOk(reply);
          else if (!retry(reply)) this.error(`${failure}: ${describeRefusal(reply)}`);
        });
        return true;
      } catch (e) {
        if (e instanceof ServerError && retry(e.frame)) {
          // A refused request was not carried out, so sending it again is safe.
          await new Promise((r) => setTimeout(r, retryDelayMs(e.frame)));
          continue;
        }
        if (e instanceof ServerError) return false; // already reported by the hook
        if (e instanceof TooLongError) {
          this.error(e.message);
          return false;
        }
        if (!(e instanceof DisconnectedError)) throw e;
        this.error(`${failure}: ${e.message}`);
        return false;
      }
    }
  }
}

/** How often a request refused for a rate limit is tried before the refusal is shown. */
export const RATE_LIMIT_ATTEMPTS = 8;

/**
 * How long to wait before retrying a `rate_limited` request: the server's `retryAfterMs` if it
 * sends one, else the wait its message names ("… try again in 0.4 s"), else one second.
 */
export function retryDelayMs(error: Frame): number {
  if (typeof error.retryAfterMs === "number" && error.retryAfterMs >= 0) {
    return Math.min(error.retryAfterMs, 60_000);
  }
  const m = /try again in (\d+(?:\.\d+)?) ?(ms|s|min)\b/.exec(safe(error.message));
  if (!m) return 1000;
  const ms = Number(m[1]) * (m[2] === "min" ? 60_000 : m[2] === "s" ? 1000 : 1);
  return Math.min(Math.max(ms, 50), 60_000);
}

/**
 * The server's reason for refusing a request, in this client's terms where the server's message
 * names a text-dialect command (`login|NAME|PASSWORD`) the user cannot type here.
 */
export function describeRefusal(error: Frame): string {
  switch (error.code) {
    case "name_registered":
      return "this name is registered (if it is yours: /login NAME)";
    case "name_required":
      return "choose a name first (/nick NAME), then /register";
    case "not_logged_in":
      return "log in first (/login NAME)";
    default:
      return new ServerError(error).message;
  }
}

function tsOf(frame: Frame): number {
  return typeof frame.ts === "number" && Number.isFinite(frame.ts) ? frame.ts : Date.now();
}
