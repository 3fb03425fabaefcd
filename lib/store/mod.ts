/**
 * Implementations of the core's `ChatStorage`: SQLite, embedded in one file.
 *
 * @imports store, core, protocol, shared
 * @module
 */
export {};
