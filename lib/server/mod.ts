/**
 * The server's transports and their composition: listeners, admission and sweeps
 * (`listener.ts`), one client connection (`connection.ts`), its bounded send queue
 * (`outbox.ts`), flood control (`rate_limit.ts`), the `ChatGateway` seam between connections and the
 * chat (`chat_gateway.ts`), every flag (`config.ts`), and the wiring of core and store
 * (`backend.ts`), the bot HTTP API and its sessions in the chat (`bot_api.ts`, `bot_session.ts`,
 * served by `http/`). `workers/` runs the same connections in several threads around one core.
 *
 * @imports server, core, protocol, shared, store
 * @module
 */
export {};
