/**
 * The last line of defence of the privacy rule: only a syntactically strict, globally routable unicast address may
 * leave the process. src/2-classify already filtered, but this stage re-checks every address it would send.
 */
import ipaddr from 'ipaddr.js';
import { formatIPv4, formatStrictIp, parseStrictIp } from '../codec/ip.ts';

export interface ParsedIp {
  /** Normalised text (dotted quad; RFC 5952 lower case). */
  readonly text: string;
  readonly version: 4 | 6;
  /** The address as an integer, for range searches. */
  readonly value: bigint;
}

/** Parses an IP address strictly (src/codec/ip.ts); undefined for anything else (hostnames, CIDRs, zone ids, `AWS Internal`). */
export function parseIp(address: string): ParsedIp | undefined {
  const ip = parseStrictIp(address);
  if (ip === undefined) return undefined;
  if (ip.version === 4) return { text: formatIPv4(ip.v4), version: 4, value: BigInt(ip.v4) };
  let value = 0n;
  for (const group of ip.parts) value = (value << 16n) | BigInt(group);
  return { text: formatStrictIp(ip), version: 6, value };
}

/**
 * True only for a strictly parsed, globally routable unicast address. ipaddr.js calls every IPv6 address it has
 * no name for `unicast`, but only 2000::/3 is global unicast (IANA), so that is required too.
 */
export function isPublicUnicast(address: string): boolean {
  const parsed = parseIp(address);
  return parsed !== undefined && isPublicParsed(parsed);
}

/** `isPublicUnicast` of an address already parsed with `parseIp`. */
export function isPublicParsed(parsed: ParsedIp): boolean {
  if (parsed.version === 4) return ipaddr.IPv4.parse(parsed.text).range() === 'unicast';
  const v6 = ipaddr.IPv6.parse(parsed.text);
  return v6.range() === 'unicast' && v6.match(GLOBAL_UNICAST_V6);
}

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number];

/**
 * What providers are asked about, and what their answers are cached under: the address itself for IPv4, the /64 prefix
 * (`2001:db8:1:2::/64`) for IPv6. One IPv6 /64 is one subnet (RFC 4291 interface identifiers): it holds 2^64 addresses
 * an attacker can rotate through, so per-address lookups would make provider work (and cost) unbounded.
 */
export function providerKeyOf(parsed: ParsedIp): string {
  if (parsed.version === 4) return parsed.text;
  const prefix = parsed.value >> 64n;
  const parts: number[] = [];
  for (let i = 3; i >= 0; i--) parts.push(Number((prefix >> BigInt(i * 16)) & 0xffffn));
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toRFC5952String()}/64`;
}
