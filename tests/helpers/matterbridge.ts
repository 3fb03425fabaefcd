/**
 * What the bot, webhook and bridge tests expect of Matterbridge's message: the fields of its
 * `config.Message` (github.com/42wim/matterbridge, bridge/config/config.go) in the order Go writes
 * them. Written out here from Matterbridge, not imported from lib/protocol/matterbridge.ts, so the
 * tests check the code against Matterbridge rather than against itself.
 *
 * @module
 */

/** Every field of a Matterbridge message, in its JSON order. */
export const MATTERBRIDGE_FIELDS: readonly string[] = [
  "text",
  "channel",
  "username",
  "userid",
  "avatar",
  "account",
  "event",
  "protocol",
  "gateway",
  "parent_id",
  "timestamp",
  "id",
  "Extra",
];
