/**
 * Desktop notifications for messages naming you (the server marks them `mention`), shown only
 * while the page is hidden (another tab, minimised) and only once the user allowed them. The
 * permission is asked for when the user first sends a message: browsers grant the prompt only
 * from a user's action, and asking on load would be a pop-up nobody asked for.
 *
 * @module
 */

/** Asks for the permission to notify, once, if the browser has notifications and never asked. */
export function askToNotify(): void {
  if (typeof Notification === "undefined" || Notification.permission !== "default") return;
  void Notification.requestPermission().catch(() => {});
}

/**
 * Shows `from` naming you in `where` (`#lobby`, a room) with the text, when the page is hidden
 * and notifications are allowed. One notification per conversation at a time (its `tag`).
 */
export function notifyMention(from: string, text: string, where: string): void {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  if (!document.hidden) return;
  new Notification(`${from} mentioned you in ${where}`, {
    body: text.length > 200 ? `${text.slice(0, 200)}…` : text,
    tag: `fastim-mention-${where}`,
  });
}
