/**
 * The IRC reply numerics the listener sends, by their usual names (RFC 2812, Modern IRC, IRCv3
 * SASL), and which numeric a FastIM error code becomes for a command.
 *
 * @module
 */

import type { Failure } from "../../protocol/events.ts";

/** Numerics by name. */
export const N = {
  RPL_WELCOME: "001",
  RPL_YOURHOST: "002",
  RPL_CREATED: "003",
  RPL_MYINFO: "004",
  RPL_ISUPPORT: "005",
  RPL_UMODEIS: "221",
  RPL_USERHOST: "302",
  RPL_ISON: "303",
  RPL_UNAWAY: "305",
  RPL_NOWAWAY: "306",
  RPL_WHOISUSER: "311",
  RPL_WHOISSERVER: "312",
  RPL_ENDOFWHO: "315",
  RPL_ENDOFWHOIS: "318",
  RPL_LISTSTART: "321",
  RPL_LIST: "322",
  RPL_LISTEND: "323",
  RPL_CHANNELMODEIS: "324",
  RPL_NOTOPIC: "331",
  RPL_TOPIC: "332",
  RPL_INVITING: "341",
  RPL_WHOREPLY: "352",
  RPL_NAMREPLY: "353",
  RPL_ENDOFNAMES: "366",
  RPL_ENDOFBANLIST: "368",
  RPL_MOTD: "372",
  RPL_MOTDSTART: "375",
  RPL_ENDOFMOTD: "376",
  ERR_UNKNOWNERROR: "400",
  ERR_NOSUCHNICK: "401",
  ERR_NOSUCHCHANNEL: "403",
  ERR_CANNOTSENDTOCHAN: "404",
  ERR_TOOMANYCHANNELS: "405",
  ERR_TOOMANYTARGETS: "407",
  ERR_INVALIDCAPCMD: "410",
  ERR_NORECIPIENT: "411",
  ERR_NOTEXTTOSEND: "412",
  ERR_INPUTTOOLONG: "417",
  ERR_UNKNOWNCOMMAND: "421",
  ERR_NONICKNAMEGIVEN: "431",
  ERR_ERRONEUSNICKNAME: "432",
  ERR_NICKNAMEINUSE: "433",
  ERR_USERNOTINCHANNEL: "441",
  ERR_NOTONCHANNEL: "442",
  ERR_NOTREGISTERED: "451",
  ERR_NEEDMOREPARAMS: "461",
  ERR_ALREADYREGISTERED: "462",
  ERR_PASSWDMISMATCH: "464",
  ERR_CHANNELISFULL: "471",
  ERR_UNKNOWNMODE: "472",
  ERR_INVITEONLYCHAN: "473",
  ERR_CHANOPRIVSNEEDED: "482",
  ERR_USERSDONTMATCH: "502",
  RPL_LOGGEDIN: "900",
  RPL_SASLSUCCESS: "903",
  ERR_SASLFAIL: "904",
  ERR_SASLTOOLONG: "905",
  ERR_SASLABORTED: "906",
  ERR_SASLALREADY: "907",
  RPL_SASLMECHS: "908",
} as const;

/**
 * The numeric and its parameters (after the client's nick) for a request of `command` on
 * `target` that failed with `failure`; `nick` is the user the command named, if any.
 *
 * @example
 * ```ts
 * import { errorNumeric } from "./numerics.ts";
 * import { fail } from "../../protocol/events.ts";
 *
 * errorNumeric("PRIVMSG", "bob", fail("not_online", "bob is not online"));
 * // ["401", "bob", "bob is not online"]
 * ```
 */
export function errorNumeric(
  command: string,
  target: string,
  failure: Failure,
  nick?: string,
): string[] {
  const text = failure.message;
  switch (failure.code) {
    case "not_online":
      return [N.ERR_NOSUCHNICK, nick ?? target, text];
    case "no_such_room":
    case "room_invalid":
      return [N.ERR_NOSUCHCHANNEL, target, text];
    case "not_in_room":
      if (command === "PRIVMSG" || command === "NOTICE") {
        return [N.ERR_CANNOTSENDTOCHAN, target, text];
      }
      if (nick !== undefined) return [N.ERR_USERNOTINCHANNEL, nick, target, text];
      return [N.ERR_NOTONCHANNEL, target, text];
    case "not_room_operator":
    case "not_admin":
    case "room_reserved":
      return [N.ERR_CHANOPRIVSNEEDED, target, text];
    case "room_full":
      return [N.ERR_CHANNELISFULL, target, text];
    case "invite_only":
      return [N.ERR_INVITEONLYCHAN, target, text];
    case "too_many_rooms":
    case "server_rooms_full":
      return [N.ERR_TOOMANYCHANNELS, target, text];
    case "empty_text":
      return [N.ERR_NOTEXTTOSEND, text];
    case "name_invalid_char":
    case "name_empty":
    case "name_too_long":
    case "name_mixed_script":
      return [N.ERR_NOSUCHNICK, nick ?? target, text];
    default:
      return [N.ERR_UNKNOWNERROR, command, text];
  }
}
