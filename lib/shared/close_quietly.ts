/**
 * Closing what may already be closed. A socket, listener or stream throws `BadResource` on a
 * second close; at the places that call this, either side may have closed first and both are fine.
 *
 * @example
 * ```ts
 * import { closeQuietly } from "./close_quietly.ts";
 * let open = true;
 * const file = { close() { if (!open) throw new Error("already closed"); open = false; } };
 * closeQuietly(file);
 * closeQuietly(file); // no error
 * ```
 * @module
 */

/** Closes `resource` (if there is one), ignoring that it was already closed. */
export function closeQuietly(resource: { close(): void } | null | undefined): void {
  try {
    resource?.close();
  } catch { /* already closed */ }
}
