/**
 * `--workers N`: one hub thread keeps the chat core and store; N edge threads accept and serve
 * sockets, reaching the chat through a typed, batched bus (`bus.ts`, `hub.ts`, `edge.ts`,
 * `edge_thread.ts`, started by `worker_server.ts`).
 *
 * @imports server, core, protocol, shared, store
 * @module
 */
export {};
