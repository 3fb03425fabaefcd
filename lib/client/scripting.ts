/**
 * The modes for scripts: `--send TEXT [--to NAME]` (one message, exit status says whether the
 * server accepted it) and line mode (stdin not a terminal: every line is sent, as public text or
 * as a slash command; after end of input the client waits for every reply, then exits).
 *
 * @example
 * ```ts
 * import { runLines } from "./scripting.ts";
 * import type { Chat } from "./chat.ts";
 * import type { LineInput } from "./line_editor.ts";
 *
 * async function script(chat: Chat, input: LineInput): Promise<number> {
 *   return await runLines(chat, input); // 0 if every request was accepted
 * }
 * ```
 * @module
 */

import type { Chat } from "./chat.ts";
import { findCommand, parseChatLine, runCommand } from "./commands.ts";
import type { LineInput } from "./line_editor.ts";

/** Sends one message; returns the exit status (0 accepted, 1 refused or lost). */
export async function runSend(chat: Chat, text: string, to?: string): Promise<number> {
  const ok = to === undefined ? await chat.say(text) : await chat.msg(to, text);
  return ok ? 0 : 1;
}

/**
 * Sends each input line, one at a time (so replies and rate limits keep the lines in order),
 * until end of input or `/quit`. Returns the exit status: 0 when every request was accepted.
 */
export async function runLines(chat: Chat, input: LineInput): Promise<number> {
  while (true) {
    const line = await input.readLine("");
    if (line === null) break;
    const parsed = parseChatLine(line);
    if (parsed.kind === "text") await chat.say(parsed.text);
    if (parsed.kind !== "command") continue;
    if (parsed.name === "menu") {
      chat.error("/menu: there is no menu when stdin is not a terminal (use --menu)");
      continue;
    }
    if (findCommand(parsed.name)?.name === "quit") break;
    await runCommand(chat, parsed.name, parsed.args);
  }
  return chat.failures > 0 ? 1 : 0;
}
