/**
 * How search sees text: compatibility forms unified (ｆｕｌｌ → full), every combining mark removed
 * (é → e, ά → α, й → и) and lower-cased, in every script. SQLite's own `remove_diacritics` only
 * knows Latin letters, so the store indexes folded text and folds each query the same way.
 *
 * @module
 */

/**
 * Folds `text` for search.
 *
 * @example
 * ```ts
 * import { foldForSearch } from "./search_fold.ts";
 *
 * foldForSearch("Καλημέρα Café"); // "καλημερα cafe"
 * ```
 */
export function foldForSearch(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}
