/**
 * Slash commands, available in every chat mode. Each command is a small handler with its usage
 * and help text beside it, so `/help` is generated from this table.
 *
 * @example
 * ```ts
 * import { parseChatLine } from "./commands.ts";
 *
 * parseChatLine("/msg bob hi there"); // { kind: "command", name: "msg", args: "bob hi there" }
 * parseChatLine("//shrug");           // { kind: "text", text: "/shrug" }
 * ```
 * @module
 */

import { HISTORY_PAGE } from "./config.ts";
import { MAX_HISTORY_PAGE } from "../protocol/requests.ts";

/** What a command needs from the client; implemented by `Chat` (and fakes in tests). */
export interface ChatActions {
  /** Sends a message to the current room (the lobby unless one was joined); false if refused. */
  say(text: string): Promise<boolean>;
  /** Sends a private message; false if it was refused. */
  msg(to: string, text: string): Promise<boolean>;
  /** Prints who is online (in the current room). */
  who(): Promise<boolean>;
  /** Joins a room (or switches to one already joined, or to the lobby) and makes it current. */
  join(room: string): Promise<boolean>;
  /** Leaves `room`, or the current room. */
  part(room?: string): Promise<boolean>;
  /** Lists the rooms. */
  listRooms(): Promise<boolean>;
  /** Shows, or (with `text`) sets, the current room's topic. */
  topic(text?: string): Promise<boolean>;
  /** Invites a name to the current room. */
  invite(name: string): Promise<boolean>;
  /** Kicks a name from the current room (in the lobby: from the server). */
  kick(name: string, reason: string): Promise<boolean>;
  /** Makes a member of the current room an operator. */
  op(name: string): Promise<boolean>;
  /** Makes the current room invite-only, or open. */
  mode(inviteOnly: boolean): Promise<boolean>;
  /** Closes `room`, or the current room, for good (admins). */
  close(room?: string): Promise<boolean>;
  /** Renames; false if refused. */
  rename(name: string): Promise<boolean>;
  /** Prints up to `limit` public messages older than any shown so far. */
  history(limit: number): Promise<boolean>;
  /** Prints the newest messages holding every word of `query`; no query: the next older page. */
  search(query?: string): Promise<boolean>;
  /** Prints the newest messages naming you (a search for your name). */
  mentions(): Promise<boolean>;
  /** Registers the current name with `password`. */
  register(password: string): Promise<boolean>;
  /** Logs in as the registered `name`. */
  login(name: string, password: string): Promise<boolean>;
  /** Changes the password of the account logged in as. */
  passwd(old: string, next: string): Promise<boolean>;
  /** Whether {@linkcode askSecret} can ask: stdin is a terminal. */
  readonly canAsk: boolean;
  /** Asks for a password without echo; `null` when cancelled. */
  askSecret(prompt: string): Promise<string | null>;
  /** Prints a client note. */
  info(text: string): void;
  /** Prints a local error. */
  error(text: string): void;
}

/** What the chat loop does after a command. */
export type CommandOutcome = "stay" | "menu" | "quit";

/** One slash command. */
export interface Command {
  name: string;
  aliases?: string[];
  /** Argument synopsis for /help, e.g. `NAME TEXT`. */
  args?: string;
  help: string;
  /** Returns where the chat goes next; nothing means it stays. */
  run(chat: ChatActions, args: string): Promise<CommandOutcome | void> | CommandOutcome | void;
}

/** The slash commands, in /help order. */
export const COMMANDS: readonly Command[] = [
  {
    name: "msg",
    aliases: ["m"],
    args: "NAME TEXT",
    help: "send a private message to NAME",
    async run(chat, args) {
      const { first: to, rest: text } = splitFirst(args);
      if (!to || !text) chat.error("usage: /msg NAME TEXT");
      else await chat.msg(to, text);
    },
  },
  {
    name: "who",
    aliases: ["w"],
    help: "list who is online (in a room: its members online)",
    async run(chat) {
      await chat.who();
    },
  },
  {
    name: "join",
    aliases: ["j"],
    args: "#ROOM",
    help: "join a room (made if new) or switch to one; your lines go to it (#lobby: everyone)",
    async run(chat, args) {
      const { first: room, rest } = splitFirst(args);
      if (!room || rest) chat.error("usage: /join #ROOM (room names have no spaces)");
      else await chat.join(room);
    },
  },
  {
    name: "part",
    aliases: ["leave"],
    args: "[#ROOM]",
    help: "leave the current room, or #ROOM",
    async run(chat, args) {
      const { first: room, rest } = splitFirst(args);
      if (rest) chat.error("usage: /part [#ROOM]");
      else await chat.part(room || undefined);
    },
  },
  {
    name: "rooms",
    help: "list the rooms you may join",
    async run(chat) {
      await chat.listRooms();
    },
  },
  {
    name: "topic",
    args: "[TEXT]",
    help: "show the current room's topic; operators: set it (/topic - clears it)",
    async run(chat, args) {
      await chat.topic(args === "" ? undefined : args === "-" ? "" : args);
    },
  },
  {
    name: "invite",
    args: "NAME",
    help: "operators: invite NAME to the current room",
    async run(chat, args) {
      const { first: name, rest } = splitFirst(args);
      if (!name || rest) chat.error("usage: /invite NAME");
      else await chat.invite(name);
    },
  },
  {
    name: "kick",
    args: "NAME [REASON]",
    help: "operators: remove NAME from the current room (admins, in the lobby: from the server)",
    async run(chat, args) {
      const { first: name, rest: reason } = splitFirst(args);
      if (!name) chat.error("usage: /kick NAME [REASON]");
      else await chat.kick(name, reason);
    },
  },
  {
    name: "op",
    args: "NAME",
    help: "operators: make NAME an operator of the current room",
    async run(chat, args) {
      const { first: name, rest } = splitFirst(args);
      if (!name || rest) chat.error("usage: /op NAME");
      else await chat.op(name);
    },
  },
  {
    name: "mode",
    args: "+i|-i",
    help: "operators: make the current room invite-only (+i) or open to everyone (-i)",
    async run(chat, args) {
      if (args === "+i" || args === "-i") await chat.mode(args === "+i");
      else chat.error("usage: /mode +i (invite-only) or /mode -i (open to everyone)");
    },
  },
  {
    name: "close",
    args: "[#ROOM]",
    help: "admins: close the current room, or #ROOM, for good",
    async run(chat, args) {
      const { first: room, rest } = splitFirst(args);
      if (rest) chat.error("usage: /close [#ROOM]");
      else await chat.close(room || undefined);
    },
  },
  {
    name: "nick",
    aliases: ["name"],
    args: "NAME",
    help: "change your name",
    async run(chat, args) {
      const { first: name, rest } = splitFirst(args);
      if (!name || rest) chat.error("usage: /nick NAME (names have no spaces)");
      else await chat.rename(name);
    },
  },
  {
    name: "history",
    args: "[N]",
    help: `show N (${HISTORY_PAGE}) older messages of the current room; repeat to page back`,
    async run(chat, args) {
      const n = args === "" ? HISTORY_PAGE : Number(args);
      if (!/^\d*$/.test(args) || n < 1 || n > MAX_HISTORY_PAGE) {
        chat.error(`usage: /history [N] (N from 1 to ${MAX_HISTORY_PAGE})`);
      } else await chat.history(n);
    },
  },
  {
    name: "search",
    args: "[WORDS]",
    help: "find messages you may read holding every word (word* for a prefix), newest first; " +
      "/search alone shows older results",
    async run(chat, args) {
      await chat.search(args.trim() === "" ? undefined : args.trim());
    },
  },
  {
    name: "mentions",
    help: "the newest messages naming you; /search alone shows older ones",
    async run(chat) {
      await chat.mentions();
    },
  },
  {
    name: "register",
    args: "[PASSWORD]",
    help: "claim your name; the password is asked for (twice) if left out",
    async run(chat, args) {
      if (args !== "") return void await chat.register(args);
      if (!chat.canAsk) return noTerminal(chat, "/register PASSWORD");
      const password = await askNewPassword(chat, "choose a password: ");
      if (password !== null) await chat.register(password);
    },
  },
  {
    name: "login",
    args: "NAME [PASSWORD]",
    help: "log in as NAME; the password is asked for if left out",
    async run(chat, args) {
      const { first: name, rest: password } = splitFirst(args);
      if (!name) return chat.error("usage: /login NAME [PASSWORD]");
      if (password !== "") return void await chat.login(name, password);
      if (!chat.canAsk) return noTerminal(chat, "/login NAME PASSWORD");
      const typed = await askPassword(chat, `password for ${name}: `);
      if (typed !== null) await chat.login(name, typed);
    },
  },
  {
    name: "passwd",
    args: "[OLD NEW]",
    help: "change your password; both are asked for if left out",
    async run(chat, args) {
      const { first: old, rest: next } = splitFirst(args);
      if (old && next) return void await chat.passwd(old, next);
      if (old || !chat.canAsk) return noTerminal(chat, "/passwd OLD NEW", old !== "");
      const current = await askPassword(chat, "old password: ");
      if (current === null) return;
      const password = await askNewPassword(chat, "new password: ");
      if (password !== null) await chat.passwd(current, password);
    },
  },
  {
    name: "menu",
    help: "back to the menu",
    run: () => "menu",
  },
  {
    name: "quit",
    aliases: ["q"],
    help: "leave FastIM",
    run: () => "quit",
  },
  {
    name: "help",
    aliases: ["h", "?"],
    help: "show this help",
    run(chat) {
      chat.info(helpText());
    },
  },
];

/** Commands whose arguments may hold a password: such lines are never kept or echoed. */
const PASSWORD_COMMANDS: Record<string, (args: string) => boolean> = {
  register: (args) => args !== "",
  login: (args) => splitFirst(args).rest !== "",
  passwd: (args) => args !== "",
};

/**
 * Whether a typed line carries a password (`/login bob PASSWORD`), so the line editor keeps it
 * out of its Up/Down history and off the screen.
 *
 * @example
 * ```ts
 * import { holdsPassword } from "./commands.ts";
 *
 * holdsPassword("/login bob hunter22"); // true
 * holdsPassword("/login bob");          // false: the password will be asked for
 * ```
 */
export function holdsPassword(line: string): boolean {
  const parsed = parseChatLine(line);
  if (parsed.kind !== "command") return false;
  const name = findCommand(parsed.name)?.name;
  return name !== undefined && (PASSWORD_COMMANDS[name]?.(parsed.args) ?? false);
}

/** Asks for a password; `null` (after saying so) when the user cancels or enters nothing. */
async function askPassword(chat: ChatActions, prompt: string): Promise<string | null> {
  const password = await chat.askSecret(prompt);
  if (password === null || password === "") {
    chat.info("cancelled");
    return null;
  }
  return password;
}

/** Asks for a new password twice; `null` when cancelled or the two differ. */
async function askNewPassword(chat: ChatActions, prompt: string): Promise<string | null> {
  const first = await askPassword(chat, prompt);
  if (first === null) return null;
  const again = await askPassword(chat, "again: ");
  if (again === null) return null;
  if (again !== first) {
    chat.error("the two passwords differ; nothing was changed");
    return null;
  }
  return first;
}

/** A password left out where it cannot be asked for (stdin is not a terminal). */
function noTerminal(chat: ChatActions, usage: string, partial = false): void {
  chat.error(
    partial
      ? `usage: ${usage}`
      : `usage: ${usage} (stdin is not a terminal, so no password prompt)`,
  );
}

/** The /help text, generated from {@linkcode COMMANDS}. */
export function helpText(): string {
  const rows = COMMANDS.map((c) => {
    const left = `/${c.name}${c.args ? ` ${c.args}` : ""}`;
    const aliases = c.aliases?.length ? ` (also ${c.aliases.map((a) => `/${a}`).join(", ")})` : "";
    return `  ${left.padEnd(22)} ${c.help}${aliases}`;
  });
  return ["commands:", ...rows, "  a line starting with // sends a literal /"].join("\n");
}

/** A typed chat line: a command, or text to send. */
export type ChatLine =
  | { kind: "command"; name: string; args: string }
  | { kind: "text"; text: string }
  | { kind: "empty" };

/** Classifies a line typed in a chat mode. `//text` sends `/text`. */
export function parseChatLine(line: string): ChatLine {
  if (line.trim() === "") return { kind: "empty" };
  if (line.startsWith("//")) return { kind: "text", text: line.slice(1) };
  if (!line.startsWith("/")) return { kind: "text", text: line };
  const { first, rest } = splitFirst(line.slice(1));
  return { kind: "command", name: first.toLowerCase(), args: rest };
}

/** Finds a command by name or alias. */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

/** The closest command name (edit distance at most 2), for the unknown-command hint. */
export function suggestCommand(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of COMMANDS) {
    for (const candidate of [c.name, ...(c.aliases ?? [])]) {
      const d = editDistance(name, candidate);
      if (d < bestDistance) [best, bestDistance] = [c.name, d];
    }
  }
  return best;
}

/** Runs a parsed command, or prints a hint for an unknown one. */
export async function runCommand(
  chat: ChatActions,
  name: string,
  args: string,
): Promise<CommandOutcome> {
  const command = findCommand(name);
  if (command) return (await command.run(chat, args)) ?? "stay";
  const guess = suggestCommand(name);
  chat.error(
    `unknown command /${name}${guess ? `: did you mean /${guess}?` : ""} (type /help for the list)`,
  );
  return "stay";
}

/** Splits off the first space-separated word; `rest` keeps its inner spacing. */
export function splitFirst(s: string): { first: string; rest: string } {
  const trimmed = s.replace(/^\s+/, "");
  const m = /^(\S*)\s*([\s\S]*)$/.exec(trimmed)!;
  return { first: m[1], rest: m[2].replace(/\s+$/, "") };
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
