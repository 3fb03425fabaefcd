/**
 * The seam between a transport and the chat: what a {@link ClientConnection} asks of the chat and what
 * the accept loop asks before serving a socket. {@link LocalGateway} and {@link LocalGate} answer in
 * the same thread (one process, the default); `workers/edge.ts` answers over the bus to a hub in
 * another thread (`--workers N`, see docs/SCALING.md). Both keep the same promises: replies in
 * request order, each after the group commit that made it durable.
 *
 * @module
 */

import type { Bans } from "../core/bans.ts";
import type { ChatCore } from "../core/chat.ts";
import type { Dispatcher, Requester } from "../core/dispatcher.ts";
import { writesToStore } from "../protocol/request_table.ts";
import { type ChatEvent, fail, type PrivateEvent } from "../protocol/events.ts";
import type { Hello } from "../protocol/json_codec.ts";
import { type Admission, ConnectionLimiter, type ConnectionLimits } from "./rate_limit.ts";
import type { Reply, Request, RoomInfo, UserInfo } from "../protocol/requests.ts";
import type { Peer, User } from "../core/user.ts";

/**
 * What a hello gets back: how its name or login went, who is online, the rooms it is in, and
 * recent history (the lobby's, then its rooms' since it was last there).
 */
export interface Welcomed {
  named?: Reply;
  online: UserInfo[];
  rooms: RoomInfo[];
  history: ChatEvent[];
}

/** The chat as one connection sees it. */
export interface ChatGateway {
  /** Adds a user for `peer`, named after `addr`, announced to everyone. */
  join(peer: Peer, addr: string, ip: string): User;
  /**
   * Resolves once the join is done and its announcement queued for the newcomer (a promise only
   * across threads): the connection reads its first line after that, as in one thread.
   */
  joined(requester: Requester): Promise<void> | undefined;
  /**
   * Carries out `request` and calls `answer` with its final reply: after the group commit that
   * made it durable (a failed commit turns success into `store_failed`), in request order.
   * Returns a promise when the connection should read no further lines until it settles: the
   * request checks a password (replies keep their order), or too many replies are pending.
   */
  execute(
    requester: Requester,
    request: Request,
    answer: (reply: Reply) => void,
  ): Promise<void> | void;
  /** Answers `request` with a reply the transport decided (a rate limit), in order. */
  respond(
    requester: Requester,
    request: Request,
    reply: Reply,
    answer: (reply: Reply) => void,
  ): void;
  /** Carries out a JSON hello's rename or login and says what the welcome needs. */
  hello(requester: Requester, hello: Hello): Promise<Welcomed>;
  /**
   * The private messages waiting for the account `key`, oldest first: at once when they are at
   * hand (right after a login), so they leave in the same write as the login's answer.
   */
  inbox(key: string): PrivateEvent[] | Promise<PrivateEvent[]>;
  /** Forgets waiting private messages that were delivered. */
  delivered(key: string, msgIds: number[]): void;
  /**
   * Removes the user, announced to everyone left unless `silent`. Resolves once every reply to
   * it has been answered. Idempotent.
   */
  leave(requester: Requester, silent: boolean): Promise<void>;
}

/** A bot account, as a token names it. */
export interface BotIdentity {
  /** Its name key (lib/shared/names.ts). */
  key: string;
  /** Its display name. */
  name: string;
}

/** Who may connect: bans and connection limits, checked at accept. */
export interface Gate {
  /** Admits a connection from `ip` (counting it as open until released) or says why not. */
  admit(ip: string, now: number): Admission | Promise<Admission>;
  /** Releases a connection admitted under `key`. */
  release(key: string): void;
  /** Forgets what no open connection needs any more; called about once a second. */
  prune(now: number): void;
}

const STORE_FAILED: Reply = fail("store_failed");

/**
 * The chat in this thread: the core, the dispatcher and its store.
 *
 * @example
 * ```ts
 * import { LocalGateway } from "./chat_gateway.ts";
 * import { openBackend } from "./backend.ts";
 * import { SERVER_DEFAULTS } from "./config.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * const config = { ...SERVER_DEFAULTS, dbPath: ":memory:" };
 * const { core, dispatcher } = openBackend(config, new Logger("info"));
 * const chat = new LocalGateway(core, dispatcher);
 * ```
 */
export class LocalGateway implements ChatGateway {
  constructor(readonly core: ChatCore, readonly dispatcher: Dispatcher) {}

  join(peer: Peer, addr: string): User {
    return this.core.join(peer, addr);
  }

  joined(): undefined {
    return undefined;
  }

  execute(
    requester: Requester,
    request: Request,
    answer: (reply: Reply) => void,
  ): Promise<void> | void {
    const reply = this.dispatcher.execute(requester, request);
    if (reply instanceof Promise) {
      return reply.then((r) => this.respond(requester, request, r, answer));
    }
    this.respond(requester, request, reply, answer);
  }

  respond(
    requester: Requester,
    request: Request,
    reply: Reply,
    answer: (reply: Reply) => void,
  ): void {
    const store = this.dispatcher.store;
    const send = (error?: Error) => {
      const failed = error !== undefined && reply.ok && writesToStore(request);
      // An account that never reached the disk is no login.
      if (failed && request.type === "register") requester.user.account = undefined;
      answer(failed ? STORE_FAILED : reply);
      // A login's rooms (what was said while away) follow its reply.
      if (request.type === "login" && reply.ok) {
        for (const event of this.dispatcher.takeBacklog(requester.user)) {
          requester.user.deliver(event);
        }
      }
    };
    if (store.pending) store.afterCommit(send);
    else send();
  }

  async hello(requester: Requester, hello: Hello): Promise<Welcomed> {
    const { dispatcher, core } = this;
    // JSON clients read the `mention` field (unknown fields are ignored): marked from the start.
    requester.user.marksMentions = true;
    let named: Reply | undefined;
    if (hello.name !== undefined && hello.password !== undefined) {
      named = await dispatcher.execute(requester, {
        type: "login",
        name: hello.name,
        password: hello.password,
        ...(hello.takeover ? { takeover: true } : {}),
      });
    } else if (hello.name !== undefined) {
      named = await dispatcher.execute(requester, { type: "rename", name: hello.name });
    }
    core.catchUp(requester.user);
    return {
      named,
      online: core.who().map((u) => ({ name: u.name, addr: u.addr })),
      rooms: core.rooms.snapshot(requester.user),
      history: [...dispatcher.joinHistory(), ...dispatcher.takeBacklog(requester.user)],
    };
  }

  inbox(key: string): PrivateEvent[] {
    return this.dispatcher.inbox(key);
  }

  delivered(key: string, msgIds: number[]): void {
    this.dispatcher.store.removeFromInbox(key, msgIds);
  }

  /**
   * The bot whose token this is, if the store knows it (the bot API asks before each request, so
   * a revoked token stops working at once: lib/server/bot_sessions.ts).
   */
  bot(token: string): BotIdentity | undefined {
    return this.dispatcher.botByToken(token);
  }

  /**
   * The bot account named `key` (a name key), without its token: for the server's own bridges
   * (lib/server/bot_sessions.ts `signInByName`).
   */
  botNamed(key: string): BotIdentity | undefined {
    const name = this.dispatcher.store.botName(key);
    return name === undefined ? undefined : { key, name };
  }

  leave(requester: Requester, silent: boolean): Promise<void> {
    this.core.leave(requester.user, silent);
    // Replies still waiting for the group commit are answered first.
    return new Promise((resolve) => this.dispatcher.store.afterCommit(() => resolve()));
  }
}

/**
 * Bans and connection limits in this thread.
 *
 * @example
 * ```ts
 * import { LocalGate } from "./chat_gateway.ts";
 * import { openBackend } from "./backend.ts";
 * import { SERVER_DEFAULTS } from "./config.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * const config = { ...SERVER_DEFAULTS, dbPath: ":memory:" };
 * const { dispatcher } = openBackend(config, new Logger("info"));
 * const gate = new LocalGate(dispatcher.bans, config.conns);
 * const a = gate.admit("203.0.113.7", Date.now());
 * ```
 */
export class LocalGate implements Gate {
  readonly #limiter: ConnectionLimiter;

  constructor(readonly bans: Bans, limits: ConnectionLimits) {
    this.#limiter = new ConnectionLimiter(limits);
  }

  admit(ip: string, now: number): Admission {
    if (this.bans.find("ip", ip.toLowerCase())) {
      return { ok: false, reason: "banned", message: "you are banned from this server" };
    }
    return this.#limiter.admit(ip, now);
  }

  release(key: string): void {
    this.#limiter.release(key);
  }

  prune(now: number): void {
    this.#limiter.prune(now);
  }
}
