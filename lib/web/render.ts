/**
 * Text to DOM, safely: every text becomes a text node (never HTML), and only `http(s)` URLs
 * become links. The splitting is pure ({@link linkParts}) so that it is tested without a browser.
 *
 * @module
 */

/// <reference lib="dom" />

/** A piece of a message: plain text, or a link whose text is its URL. */
export interface Part {
  text: string;
  href?: string;
}

const URL_PATTERN = /https?:\/\/[^\s<>"']+/g;
/** Punctuation that ends a sentence more often than a URL. */
const TRAILING = /[.,;:!?)\]]+$/;

/**
 * Splits `text` into plain parts and links. A link's `href` is the URL as parsed, so it is always
 * an `http:` or `https:` URL.
 *
 * @example
 * ```ts
 * import { linkParts } from "./render.ts";
 *
 * linkParts("see https://example.org.");
 * // [{ text: "see " }, { text: "https://example.org", href: "https://example.org/" }, { text: "." }]
 * ```
 */
export function linkParts(text: string): Part[] {
  const parts: Part[] = [];
  let at = 0;
  for (const m of text.matchAll(URL_PATTERN)) {
    let url = m[0];
    const trail = TRAILING.exec(url);
    if (trail) url = url.slice(0, -trail[0].length);
    let href: string | undefined;
    try {
      const parsed = new URL(url);
      if (parsed.protocol === "http:" || parsed.protocol === "https:") href = parsed.href;
    } catch { /* not a URL after all: stays text */ }
    if (!href) continue;
    if (m.index > at) parts.push({ text: text.slice(at, m.index) });
    parts.push({ text: url, href });
    at = m.index + url.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

/** The message's text as DOM nodes: text nodes and `<a>` elements. */
export function renderText(text: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  for (const part of linkParts(text)) {
    if (!part.href) {
      fragment.append(document.createTextNode(part.text));
      continue;
    }
    const a = document.createElement("a");
    a.href = part.href;
    a.textContent = part.text;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    fragment.append(a);
  }
  return fragment;
}

/** The local time of `ts` (ms since the epoch), hours and minutes. */
export function localTime(ts: number): string {
  return new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/**
 * Makes an element: `el("li", { class: "line" }, "text", child)`. Strings become text nodes;
 * attributes are set as attributes, never as HTML.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}
