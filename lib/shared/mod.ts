/**
 * Code both programs use: flag parsing and flag values, logging, the version, text sanitising,
 * name rules, address keys.
 *
 * @imports shared
 * @module
 */
export {};
