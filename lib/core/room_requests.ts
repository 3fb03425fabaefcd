/**
 * Carries out the requests about rooms: `join`, `part`, `rooms`, `topic`, `invite`, `mode`, `op`,
 * `close`, and `say`, `who`, `history`, `kick` when they name a room other than the lobby. The
 * dispatcher hands every request here first; what is not about a room it carries out itself, as
 * before, so a client that never names a room sees exactly what it always did.
 *
 * @module
 */

import { fail } from "../protocol/events.ts";
import type { Reply, Request, RoomInfo } from "../protocol/requests.ts";
import type { ChatCore } from "./chat.ts";
import { isLobby, LOBBY, type Room } from "./rooms.ts";
import type { ChatStorage, StoredMessage } from "./storage.ts";
import type { User } from "./user.ts";

/** What room requests need from the dispatcher. */
export interface RoomContext {
  core: ChatCore;
  store: ChatStorage;
  /** Whether `user` is a logged-in server admin (`--admin`). */
  isAdmin: (user: User) => boolean;
  /** The newest of `messages` that fit in one reply. */
  budgeted: (messages: StoredMessage[]) => StoredMessage[];
  /** The most bytes one reply may carry (a quarter of the asker's queue). */
  replyBudgetBytes: number;
}

/**
 * Carries out `request` when it is about a room, or returns `undefined` for the dispatcher to
 * carry out (lobby requests).
 */
export function executeRoomRequest(
  ctx: RoomContext,
  user: User,
  request: Request,
): Reply | undefined {
  const rooms = ctx.core.rooms;
  switch (request.type) {
    case "say":
      if (request.room === undefined || isLobby(request.room)) return undefined;
      return rooms.say(user, request.room, request.text);
    case "who": {
      if (request.room === undefined || isLobby(request.room)) return undefined;
      const who = rooms.who(user, request.room);
      if (!who.ok) return who;
      const operators = who.users.filter((u) => rooms.isOperator(who.room, u)).map((u) => u.name);
      return {
        ok: true,
        room: who.room.name,
        users: who.users.map((u) => ({ name: u.name, addr: u.addr })),
        operators,
      };
    }
    case "history":
      if (request.room === undefined || isLobby(request.room)) return undefined;
      return history(ctx, user, request.room, request.limit ?? 50, request.before);
    case "kick": {
      if (request.room === undefined) return undefined;
      const r = rooms.kick(
        user,
        request.room,
        request.name,
        request.reason ?? "",
        ctx.isAdmin(user),
      );
      return r.ok ? { ok: true, room: r.room.name, name: r.name } : r;
    }
    case "join": {
      if (isLobby(request.room)) return lobbyJoin(ctx, user);
      const r = rooms.join(user, request.room, ctx.isAdmin(user));
      if (!r.ok) return r;
      return { ...joined(rooms.info(r.room, user)), ...(r.already ? { already: true } : {}) };
    }
    case "part": {
      const r = rooms.part(user, request.room);
      return r.ok ? { ok: true, room: r.room.name } : r;
    }
    case "rooms":
      return { ok: true, rooms: fitting([lobbyInfo(ctx.core), ...rooms.list(user)], ctx) };
    case "topic": {
      if (request.text === undefined && isLobby(request.room)) {
        return { ok: true, room: LOBBY, topic: "" };
      }
      const r = rooms.topic(user, request.room, request.text);
      return r.ok ? { ok: true, room: r.room.name, topic: r.room.topic } : r;
    }
    case "invite": {
      const r = rooms.invite(user, request.room, request.name);
      return r.ok ? { ok: true, room: r.room.name, name: r.name } : r;
    }
    case "mode": {
      const r = rooms.mode(user, request.room, request.inviteOnly);
      return r.ok ? { ok: true, room: r.room.name } : r;
    }
    case "op": {
      const r = rooms.op(user, request.room, request.name, ctx.isAdmin(user));
      return r.ok ? { ok: true, room: r.room.name, name: r.name } : r;
    }
    case "close": {
      if (!ctx.isAdmin(user)) {
        return fail("not_admin", "only server operators (--admin, logged in) may close a room");
      }
      const r = rooms.close(user, request.room);
      return r.ok ? { ok: true, room: r.room.name } : r;
    }
    default:
      return undefined;
  }
}

/** The first of `rooms` that fit in one reply (a topic can be long). */
function fitting(rooms: RoomInfo[], ctx: RoomContext): RoomInfo[] {
  let total = 0;
  let n = 0;
  for (const r of rooms) {
    // At most 3 bytes per UTF-16 unit, plus the frame around the fields.
    total += (r.room.length + r.topic.length) * 3 + 100;
    if (total > ctx.replyBudgetBytes) break;
    n++;
  }
  return rooms.slice(0, Math.max(1, n));
}

/** The lobby as `rooms` lists it: everyone online is in it. */
function lobbyInfo(core: ChatCore): RoomInfo {
  return {
    room: LOBBY,
    topic: "",
    members: core.size,
    inviteOnly: false,
    member: true,
    operator: false,
  };
}

function lobbyJoin(ctx: RoomContext, _user: User): Reply {
  return { ...joined(lobbyInfo(ctx.core)), already: true };
}

/** What a `join` reply carries. */
function joined(info: RoomInfo): Reply & { ok: true } {
  return {
    ok: true,
    room: info.room,
    topic: info.topic,
    members: info.members,
    operator: info.operator,
  };
}

/** A page of a room's history, for a member. */
function history(ctx: RoomContext, user: User, raw: string, limit: number, before?: number): Reply {
  const who = ctx.core.rooms.who(user, raw);
  if (!who.ok) return who;
  const room: Room = who.room;
  return {
    ok: true,
    room: room.name,
    messages: ctx.budgeted(ctx.store.roomMessages(room.key, limit, before)),
  };
}
