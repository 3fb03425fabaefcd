/**
 * The wire: typed events and requests, error codes, line framing, and the two dialects (the
 * original's text lines and newline-delimited JSON) that turn lines into requests and events into
 * bytes. No sockets, no `Deno.*`.
 *
 * @imports protocol, shared
 * @pure
 * @module
 */
export {};
