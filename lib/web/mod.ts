/**
 * The chat page that runs in the browser: the WebSocket to the chat with reconnects (`chat_socket.ts`),
 * the conversations and their unread counts (`state.ts`), turning text into DOM safely
 * (`render.ts`), and the page itself (`app.ts`, the entry that `deno task bundle` turns into
 * `static/app.js`). Never imports the server; speaks only the JSON dialect of docs/PROTOCOL.md. Shares
 * the pure models of lib/model/ with the terminal client.
 *
 * @imports web, model
 * @module
 */
export {};
