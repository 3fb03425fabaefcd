/**
 * The wire: typed events and requests (`events.ts`, `requests.ts`), each request type's facts
 * (`request_table.ts`), every error code with its message (`errors.ts`), line framing
 * (`line_splitter.ts`), and the two dialects (the original's text lines and newline-delimited
 * JSON) that turn lines into requests and events into bytes. No sockets, no `Deno.*`.
 *
 * @imports protocol, shared
 * @pure
 * @module
 */
export {};
