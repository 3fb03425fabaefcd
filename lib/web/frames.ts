/**
 * The JSON dialect's frames as the page reads them (docs/PROTOCOL.md, "JSON dialect"). The page
 * is a client of the protocol, not of the server's code, so it states the shapes it relies on.
 *
 * @module
 */

/** A user in `welcome.online` and `who`. */
export interface UserInfo {
  name: string;
  addr: string;
}

/** A public message, live or from history; in a room when `room` is set, else in the lobby. */
export interface PublicFrame {
  type: "public";
  msgId: number;
  ts: number;
  from: string;
  text: string;
  room?: string;
  history?: true;
  /** The text names you (docs/PROTOCOL.md, Mentions). */
  mention?: true;
}

/** Something about a room: someone joined or left, a topic, a kick, a mode... */
export interface RoomFrame {
  type: "room";
  msgId?: number;
  ts?: number;
  room: string;
  event: "joined" | "left" | "topic" | "kicked" | "mode" | "op" | "invited" | "closed" | "unread";
  name?: string;
  by?: string;
  text?: string;
  inviteOnly?: boolean;
}

/** A room as `rooms` and the welcome list it. */
export interface RoomInfo {
  room: string;
  topic?: string;
  members: number;
  member?: boolean;
}

/** A private message to this user. */
export interface PrivateFrame {
  type: "private";
  msgId: number;
  ts: number;
  from: string;
  to: string;
  text: string;
  offline?: true;
  /** Sent by this account from another of its connections (`to` is the receiver). */
  echo?: true;
}

/** Someone came, left or renamed. */
export interface PresenceFrame {
  type: "presence";
  msgId: number;
  ts: number;
  event: "online" | "offline" | "renamed";
  name: string;
  addr: string;
  old?: string;
}

/**
 * A read marker of this account moved on another of its connections (docs/PROTOCOL.md, "History:
 * catch-up and read markers"); also the shape of a `markers` entry.
 */
export interface MarkerFrame {
  type: "marker";
  /** `#lobby`, a room, or `private`. */
  target: string;
  /** The newest message id read there. */
  msgId: number;
  /** How many messages follow it. */
  unread: number;
}

/** A notice after which the server closes the connection. */
export interface NoticeFrame {
  type: "notice";
  code: string;
  text: string;
}

/** The answer to the hello. */
export interface WelcomeFrame {
  type: "welcome";
  name: string;
  addr: string;
  account?: string;
  limits: { maxLine: number; idleTimeoutMs: number };
  online: UserInfo[];
  /** The rooms the user is in (after a login in the hello). */
  rooms?: RoomInfo[];
  nameError?: { code: string; message: string };
}

/** A successful reply; its other fields depend on the request. */
export interface OkFrame {
  type: "ok";
  id: number;
  msgId?: number;
  ts?: number;
  name?: string;
  to?: string;
  stored?: true;
  users?: UserInfo[];
  /** A room's `who`: which of its members are operators. */
  operators?: string[];
  room?: string;
  topic?: string;
  rooms?: RoomInfo[];
  /** `history` (and `catchup`): `to` is set on private messages (`history` of `private`). */
  messages?: { msgId: number; ts: number; from: string; text: string; to?: string }[];
  /** `mark`: the marker's target, and how many messages follow it (`msgId` is where it is). */
  target?: string;
  unread?: number;
  /** `markers`: the account's read markers. */
  markers?: Omit<MarkerFrame, "type">[];
}

/** A failed request (or a bad frame, without `id`). */
export interface ErrorFrame {
  type: "error";
  id?: number;
  code: string;
  message: string;
}

/** Anything the server sends in the JSON dialect. */
export type ServerFrame =
  | PublicFrame
  | PrivateFrame
  | PresenceFrame
  | RoomFrame
  | NoticeFrame
  | MarkerFrame
  | WelcomeFrame
  | OkFrame
  | ErrorFrame;

/** A reply to a request: ok or error. */
export type Reply = OkFrame | ErrorFrame;
