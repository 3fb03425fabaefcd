/**
 * What the terminal client and the chat page both keep of the chat, as pure models with no I/O
 * and no imports: the account's read markers and the unread counts they give
 * (`read_markers.ts`). The page's bundle may import this folder, so nothing here may use `Deno`
 * or the DOM.
 *
 * @imports model
 * @pure
 * @module
 */
export {};
