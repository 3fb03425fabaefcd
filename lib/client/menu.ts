/**
 * The numbered menu of the Go original: `1` public chat, `2` private chat, `3` rename,
 * `0` disconnect, and `4` rooms (list, then join or switch to one and chat in it). The menu and
 * the chat modes take slash commands too (see commands.ts).
 *
 * @example
 * ```ts
 * import { runMenu } from "./menu.ts";
 * import type { Chat } from "./chat.ts";
 * import type { LineInput } from "./line_editor.ts";
 *
 * async function interactive(chat: Chat, input: LineInput): Promise<void> {
 *   await runMenu(chat, input); // returns when the user leaves (0, /quit, Ctrl-C or Ctrl-D)
 * }
 * ```
 * @module
 */

import type { Chat } from "./chat.ts";
import { type CommandOutcome, parseChatLine, runCommand } from "./commands.ts";
import type { LineInput } from "./line_editor.ts";
import { paint, paintName, safe } from "./render.ts";

/** The menu as shown. */
export const MENU_TEXT = [
  "1. public chat",
  "2. private chat",
  "3. rename",
  "4. rooms",
  "0. disconnect",
];

/** Typing this in a chat mode goes back one level, as in the Go original. */
const EXIT = "exit";

/** Shows the menu until the user leaves. */
export async function runMenu(chat: Chat, input: LineInput): Promise<void> {
  let showMenu = true;
  while (true) {
    if (showMenu) { for (const line of MENU_TEXT) chat.out.status(line); }
    showMenu = true;
    const choice = await input.readLine(prompt("choose", chat), { keep: true });
    if (choice === null) return;
    let next: CommandOutcome = "menu";
    const parsed = parseChatLine(choice.trim());
    if (parsed.kind === "command") {
      // Slash commands work here too; after one that stays (/who, /help) the prompt comes back
      // without the menu, so its output is not pushed off the screen.
      next = await runCommand(chat, parsed.name, parsed.args);
      showMenu = next === "menu";
      if (next === "quit") return;
      continue;
    }
    switch (choice.trim()) {
      case "1":
        next = await publicChat(chat, input);
        break;
      case "2":
        next = await privateChat(chat, input);
        break;
      case "3":
        next = await renameFlow(chat, input);
        break;
      case "4":
        next = await roomsFlow(chat, input);
        break;
      case "0":
        return;
      default:
        chat.error("please enter a valid number (or a slash command: /help lists them)");
    }
    if (next === "quit") return;
  }
}

function prompt(label: string, chat: Chat): string {
  return `${paint(label, "1", chat.color)}> `;
}

/**
 * `1`: every line goes to the current room until `exit`: everyone in the lobby, or the members
 * of the room joined (`/join`) or chosen with `4`. The prompt names the room.
 */
async function publicChat(chat: Chat, input: LineInput): Promise<CommandOutcome> {
  const where = chat.rooms.inLobby ? "everyone" : `the members of ${chat.rooms.current}`;
  const intro = chat.rooms.inLobby ? "public chat" : `room ${chat.rooms.current}`;
  chat.info(`${intro}: every line goes to ${where}; "${EXIT}" for the menu, /help for commands`);
  while (true) {
    const room = chat.rooms.inLobby ? "public" : chat.rooms.current;
    const line = await input.readLine(prompt(room, chat));
    if (line === null) return "quit";
    if (line.trim() === EXIT) return "menu";
    const outcome = await chatLine(chat, line, (text) => chat.say(text));
    if (outcome !== "stay") return outcome;
  }
}

/** `2`: shows who is online, asks for a name, then every line goes to them until `exit`. */
async function privateChat(chat: Chat, input: LineInput): Promise<CommandOutcome> {
  await chat.who();
  while (true) {
    chat.info(`private chat: whom to write to? "${EXIT}" for the menu`);
    const answer = await input.readLine(prompt("name", chat), { keep: true });
    if (answer === null) return "quit";
    const to = answer.trim();
    if (to === EXIT) return "menu";
    if (to === "") continue;
    if (to.startsWith("/")) {
      const outcome = await chatLine(chat, to, () => Promise.resolve(true));
      if (outcome !== "stay") return outcome;
      continue;
    }
    const outcome = await conversation(chat, input, to);
    if (outcome !== "stay") return outcome;
  }
}

async function conversation(chat: Chat, input: LineInput, to: string): Promise<CommandOutcome> {
  chat.info(`to ${safe(to)}: every line goes to ${safe(to)} only; "${EXIT}" to pick someone else`);
  const label = `${paint("to", "1", chat.color)} ${paintName(safe(to), chat.view)}> `;
  while (true) {
    const line = await input.readLine(label);
    if (line === null) return "quit";
    if (line.trim() === EXIT) return "stay";
    const outcome = await chatLine(chat, line, (text) => chat.msg(to, text));
    if (outcome !== "stay") return outcome;
  }
}

/** `3`: asks for the new name; the reply (success or the server's reason) is printed by Chat. */
async function renameFlow(chat: Chat, input: LineInput): Promise<CommandOutcome> {
  chat.info("new name (letters, digits, _ - .; empty to cancel):");
  const name = await input.readLine(prompt("name", chat), { keep: true });
  if (name === null) return "quit";
  if (name.trim() !== "") await chat.rename(name.trim());
  return "menu";
}

/**
 * `4`: lists the rooms, asks which one to join or switch to (`#lobby` for everyone), then chats
 * in it as `1` does.
 */
async function roomsFlow(chat: Chat, input: LineInput): Promise<CommandOutcome> {
  await chat.listRooms();
  while (true) {
    chat.info(
      `room to join or switch to (#lobby: everyone; a new name makes it)? "${EXIT}" for the menu`,
    );
    const answer = await input.readLine(prompt("room", chat), { keep: true });
    if (answer === null) return "quit";
    const room = answer.trim();
    if (room === EXIT) return "menu";
    if (room === "") continue;
    if (room.startsWith("/")) {
      const outcome = await chatLine(chat, room, () => Promise.resolve(true));
      if (outcome !== "stay") return outcome;
      continue;
    }
    if (/\s/.test(room)) {
      chat.error("room names have no spaces (like #dev)");
      continue;
    }
    if (await chat.join(room)) return await publicChat(chat, input);
  }
}

/** Sends a typed line with `send`, or runs it as a slash command. */
async function chatLine(
  chat: Chat,
  line: string,
  send: (text: string) => Promise<boolean>,
): Promise<CommandOutcome> {
  const parsed = parseChatLine(line);
  if (parsed.kind === "text") await send(parsed.text);
  if (parsed.kind !== "command") return "stay";
  return await runCommand(chat, parsed.name, parsed.args);
}
