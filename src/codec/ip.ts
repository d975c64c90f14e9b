/**
 * The one strict IP address parser. Every caller keeps its own policy on top of it: classification
 * (src/2-classify/source.ts), the lookup's privacy re-check and provider keys (src/3-lookup/address.ts), rule CIDR
 * sets (src/5-rules/ip-set.ts).
 *
 * `sourceIPAddress` is attacker-influenced, so only the canonical textual forms are addresses:
 * - IPv4: four decimal parts 0–255 without leading zeros (`010.1.1.1` is octal to some parsers, decimal to others),
 *   no shortened (`127.1`), hexadecimal (`0x7f.0.0.1`) or integer (`2130706433`) forms;
 * - IPv6 (RFC 4291 §2.2): hex groups and `::` only, an embedded IPv4 tail in the strict form above; no zone id
 *   (`fe80::1%eth0`), brackets, prefix length or surrounding whitespace;
 * - at most 45 characters (the longest IPv6 text, with an embedded IPv4).
 *
 * Where the three parsers the tree had disagreed, the stricter rule is kept: the lookup and rule parsers accepted an
 * embedded IPv4 tail with leading zeros (`::ffff:010.1.1.1`) and texts up to 64 characters; classification refused
 * both, and now every caller does. The deprecated IPv4-compatible form `::a.b.c.d` is the IPv6 address it spells
 * (RFC 4291 §2.5.5.1); the rule parser used to read it as the IPv4-mapped `::ffff:a.b.c.d`.
 */
import ipaddr from 'ipaddr.js';

/** An IPv4 address as an unsigned 32-bit number, or an IPv6 address as its eight 16-bit groups. */
export type StrictIp = { readonly version: 4; readonly v4: number } | { readonly version: 6; readonly parts: readonly number[] };

/** The longest textual IP address: an IPv6 with an embedded IPv4 (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`). */
export const MAX_IP_TEXT_LENGTH = 45;

const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;

/** A strict dotted quad as an unsigned 32-bit number; undefined for anything else. One pass, no allocation. */
export function parseIPv4(text: string): number | undefined {
  const length = text.length;
  if (length < 7 || length > 15) return undefined;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return undefined; // a leading zero
      octet = octet * 10 + (c - 48);
      if (octet > 255) return undefined;
      digits++;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + octet;
}

/** Parses `text` strictly (rules above); undefined when it is not an IP address. */
export function parseStrictIp(text: string): StrictIp | undefined {
  if (text.length === 0 || text.length > MAX_IP_TEXT_LENGTH) return undefined;
  if (!text.includes(':')) {
    const v4 = parseIPv4(text);
    return v4 === undefined ? undefined : { version: 4, v4 };
  }
  if (!IPV6_CHARS.test(text)) return undefined;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let embedded: number | undefined;
  if (tail.includes('.')) {
    embedded = parseIPv4(tail);
    if (embedded === undefined) return undefined;
  }
  let parsed: ipaddr.IPv6;
  try {
    parsed = ipaddr.IPv6.parse(text);
  } catch {
    return undefined;
  }
  if (embedded !== undefined && lastColon === 1) {
    // ipaddr.js reads `::a.b.c.d` as IPv4-mapped `::ffff:a.b.c.d`; it is the IPv6 address ::a.b.c.d.
    return { version: 6, parts: [0, 0, 0, 0, 0, 0, embedded >>> 16, embedded & 0xffff] };
  }
  return { version: 6, parts: parsed.parts };
}

/** The IPv4 address of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, ::ffff:0:0/96); undefined otherwise. */
export function mappedIPv4(ip: StrictIp): number | undefined {
  if (ip.version !== 6) return undefined;
  const p = ip.parts;
  if (p[0] !== 0 || p[1] !== 0 || p[2] !== 0 || p[3] !== 0 || p[4] !== 0 || p[5] !== 0xffff) return undefined;
  return p[6]! * 65536 + p[7]!;
}

/** The dotted quad of an IPv4 number. */
export function formatIPv4(v4: number): string {
  return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
}

/**
 * The canonical text: the dotted quad, or RFC 5952 for IPv6 (lower case, the longest run of zero groups
 * compressed, a single zero group never), so the same address is always the same cache and provider key.
 */
export function formatStrictIp(ip: StrictIp): string {
  return ip.version === 4 ? formatIPv4(ip.v4) : toIpaddr(ip).toRFC5952String();
}

/** The address as ipaddr.js's object, for its special-range names. */
export function toIpaddr(ip: { readonly version: 4; readonly v4: number }): ipaddr.IPv4;
export function toIpaddr(ip: { readonly version: 6; readonly parts: readonly number[] }): ipaddr.IPv6;
export function toIpaddr(ip: StrictIp): ipaddr.IPv4 | ipaddr.IPv6;
export function toIpaddr(ip: StrictIp): ipaddr.IPv4 | ipaddr.IPv6 {
  if (ip.version === 4) return new ipaddr.IPv4([ip.v4 >>> 24, (ip.v4 >>> 16) & 255, (ip.v4 >>> 8) & 255, ip.v4 & 255]);
  return new ipaddr.IPv6([...ip.parts]);
}
