/**
 * Implementations of the core's `ChatStorage`: SQLite, embedded in one file (`sqlite.ts`), and
 * one in memory (`memory.ts`) for tests.
 *
 * @imports store, core, protocol, shared
 * @module
 */
export {};
