/**
 * The server's HTTP front (`--http-port`, `--https-port`): the chat page (`page.ts`), the
 * WebSocket `/ws` adapted to a connection's byte transport (`ws_transport.ts`), `/healthz`, and
 * `/metrics` in the Prometheus text format (`metrics.ts`), with the security headers and the
 * Origin check (`http_server.ts`). Its flags are in `http_config.ts`.
 *
 * @imports server, shared
 * @module
 */
export {};
