/**
 * The chat itself: users, presence, names, routing ({@link ChatCore}), carrying out requests
 * ({@link Dispatcher}), accounts and bans, and the {@link ChatStorage} interface it needs from
 * persistence. No sockets, no timers, no `Deno.*`: transports feed it, storage implements it.
 *
 * @imports core, protocol, shared
 * @pure
 * @module
 */
export {};
