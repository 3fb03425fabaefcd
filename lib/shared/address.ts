/**
 * Addresses: the default ports both programs agree on, the key that groups a client address with
 * its neighbours for limits, and the IP part of a peer address.
 *
 * @module
 */

/** The server's plain TCP port when not told otherwise, as in the Go original. */
export const DEFAULT_PORT = 8888;
/** The server's TLS port when not told otherwise (`--tls-port`; the client's with `--tls`). */
export const DEFAULT_TLS_PORT = 8889;

/**
 * The key an address is counted under: an IPv4 address as is, an IPv6 address by its /64 prefix
 * (IPv4-mapped IPv6 addresses as the IPv4 address).
 *
 * @example
 * ```ts
 * import { addressKey } from "./address.ts";
 *
 * addressKey("2001:db8:1:2:aaaa::1"); // "2001:db8:1:2::/64"
 * addressKey("::ffff:192.0.2.1"); // "192.0.2.1"
 * ```
 */
export function addressKey(ip: string): string {
  if (!ip.includes(":")) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  const [head, tail] = ip.toLowerCase().split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined
    ? left
    : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

/**
 * The IP part of an `IP:PORT` or `[IPv6]:PORT` address.
 *
 * @example
 * ```ts
 * import { ipOf } from "./address.ts";
 *
 * ipOf("[::1]:5000"); // "::1"
 * ```
 */
export function ipOf(addr: string): string {
  const colon = addr.lastIndexOf(":");
  return addr.slice(0, colon).replace(/^\[|\]$/g, "").toLowerCase();
}
