/**
 * The chat page's files, read once at start from `lib/web/static/` (embedded in the compiled
 * server with `deno compile --include lib/web/static/`). `app.js` is the page's TypeScript
 * (`lib/web/`) bundled by `deno task bundle`.
 *
 * @module
 */

/** One file the page is made of. */
export interface PageFile {
  body: Uint8Array<ArrayBuffer>;
  type: string;
}

/** URL path → file name in `lib/web/static/`, and its content type. */
const FILES: Record<string, [string, string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/style.css": ["style.css", "text/css; charset=utf-8"],
  "/icon.svg": ["icon.svg", "image/svg+xml"],
};

const STATIC = new URL("../../web/static/", import.meta.url);

/**
 * Reads the page's files; throws an Error with one line when one is missing.
 *
 * @example
 * ```ts
 * import { loadPage } from "./page.ts";
 *
 * const page = loadPage();
 * page.get("/")!.type; // "text/html; charset=utf-8"
 * ```
 */
export function loadPage(): Map<string, PageFile> {
  const page = new Map<string, PageFile>();
  for (const [path, [file, type]] of Object.entries(FILES)) {
    try {
      page.set(path, { body: Deno.readFileSync(new URL(file, STATIC)), type });
    } catch (e) {
      const hint = file === "app.js" ? ": run `deno task bundle`" : "";
      throw new Error(`the chat page's ${file} cannot be read (${(e as Error).message})${hint}`);
    }
  }
  return page;
}
