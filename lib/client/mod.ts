/**
 * The terminal client: its flags (`config.ts`), the connection to the server with reconnects
 * (`connection.ts`), the line editor and keys, the menu, slash commands, rendering, scripting
 * modes, TLS and password input. Never imports the server.
 *
 * @imports client, model, protocol, shared
 * @module
 */
export {};
