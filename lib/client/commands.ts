/**
 * Slash commands, available in every chat mode. Each command is a small handler with its usage
 * and help text beside it, so `/help` is generated from this table.
 *
 * @example
 * ```ts
 * parseChatLine("/msg bob hi there"); // { kind: "command", name: "msg", args: "bob hi there" }
 * parseChatLine("//shrug");           // { kind: "text", text: "/shrug" }
 * ```
 * @module
 */

/** What a command needs from the client; implemented by `Chat` (and fakes in tests). */
export interface ChatActions {
  /** Sends a public message; false if it was refused. */
  say(text: string): Promise<boolean>;
  /** Sends a private message; false if it was refused. */
  msg(to: string, text: string): Promise<boolean>;
  /** Prints who is online. */
  who(): Promise<boolean>;
  /** Renames; false if refused. */
  rename(name: string): Promise<boolean>;
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
    help: "list who is online",
    async run(chat) {
      await chat.who();
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

/** The /help text, generated from {@linkcode COMMANDS}. */
export function helpText(): string {
  const rows = COMMANDS.map((c) => {
    const left = `/${c.name}${c.args ? ` ${c.args}` : ""}`;
    const aliases = c.aliases?.length ? ` (also ${c.aliases.map((a) => `/${a}`).join(", ")})` : "";
    return `  ${left.padEnd(16)} ${c.help}${aliases}`;
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
