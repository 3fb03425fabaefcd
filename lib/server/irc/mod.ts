/**
 * The IRC listener (`--irc-port`, `--ircs-port`): any IRC client (irssi, WeeChat, HexChat) on the
 * same chat. `irc_config.ts` holds its flags, `irc_names.ts` the mapping between FastIM names and
 * IRC nicks, `numerics.ts` the reply numerics and which error code becomes which,
 * `irc_render.ts` how chat events become IRC lines, and `irc_connection.ts` one IRC client's
 * session (registration, CAP and SASL, commands to requests) over a connection's transport. It
 * reaches the chat only through the `ChatGateway`, so it works with `--workers` as every other
 * transport does. docs/IRC.md says what is supported.
 *
 * @imports server, core, protocol, shared
 * @module
 */
export {};
