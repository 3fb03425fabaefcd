/**
 * Carries out a parsed request against the chat core. Dialect-independent: both codecs'
 * requests land here.
 *
 * @module
 */

import type { ChatCore } from "./chat_core.ts";
import type { Reply, Request } from "./requests.ts";
import type { User } from "./user.ts";

/**
 * Executes `request` for `user` and returns the reply to encode.
 *
 * @example
 * ```ts
 * execute(core, user, { type: "who" }); // { ok: true, users: [...] }
 * ```
 */
export function execute(core: ChatCore, user: User, request: Request): Reply {
  switch (request.type) {
    case "say":
      return core.say(user, request.text);
    case "msg":
      return core.whisper(user, request.to, request.text);
    case "rename":
      return core.rename(user, request.name);
    case "who":
      return { ok: true, users: core.who().map((u) => ({ name: u.name, addr: u.addr })) };
    case "ping":
    case "quit":
      return { ok: true };
    case "invalid":
      return { ok: false, code: request.code, message: request.message };
  }
}
