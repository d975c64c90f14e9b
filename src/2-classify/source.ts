import ipaddr from 'ipaddr.js';
import { mappedIPv4, parseStrictIp, toIpaddr } from '../codec/ip.ts';
import type { SourceClassification } from '../model.ts';

/**
 * Classifies CloudTrail's `sourceIPAddress`. The result decides what may ever leave the process:
 * only `public` addresses are looked up with third-party providers.
 *
 * - `public`: globally routable unicast IPv4/IPv6 (IPv6 only within 2000::/3; IPv4-mapped IPv6 is reduced to its IPv4).
 * - `private`: organisation-internal space: RFC 1918, carrier-grade NAT (100.64.0.0/10), IPv6 unique-local (fc00::/7).
 * - `reserved`: everything else that is an address but not routable on the internet: loopback, link-local,
 *   documentation (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20), benchmarking,
 *   multicast, broadcast, unspecified, 6to4/Teredo/NAT64 transition space, and the rest of IANA's special registry.
 * - `aws-internal`: the literal `AWS Internal` CloudTrail writes for calls made by AWS on your behalf.
 * - `aws-service`: a service principal hostname such as `ec2.amazonaws.com`.
 * - `invalid`: anything else, including IPv4 with leading zeros (`010.1.1.1`, ambiguous: octal or decimal),
 *   shortened or hexadecimal IPv4 forms, IPv6 zone ids, and surrounding whitespace (src/codec/ip.ts).
 * - `missing`: absent, null, not a string, or empty.
 */
export function classifySource(value: unknown): SourceClassification {
  if (typeof value !== 'string' || value.length === 0) return { kind: 'missing' };
  const cached = memo.get(value);
  if (cached !== undefined) return cached;
  const result = classifyString(value);
  // Addresses repeat heavily within a batch; a small bounded memo avoids re-parsing them.
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(value, result);
  return result;
}

const MEMO_LIMIT = 10_000;
const memo = new Map<string, SourceClassification>();

/** DNS-style service principal: labels of letters, digits and hyphens ending in amazonaws.com (or .com.cn in China). */
const AWS_SERVICE_HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+amazonaws\.com(?:\.cn)?$/;

function classifyString(address: string): SourceClassification {
  if (address === 'AWS Internal') return { address, kind: 'aws-internal' };
  if (address.length <= 253 && AWS_SERVICE_HOST.test(address)) return { address, kind: 'aws-service' };
  // The one strict parser (src/codec/ip.ts); the policy here: an IPv4-mapped IPv6 address is its IPv4 address.
  const parsed = parseStrictIp(address);
  if (parsed === undefined) return { address, kind: 'invalid' };
  const mapped = mappedIPv4(parsed);
  return fromParsed(address, toIpaddr(mapped !== undefined ? { version: 4, v4: mapped } : parsed));
}

function fromParsed(address: string, parsed: ipaddr.IPv4 | ipaddr.IPv6): SourceClassification {
  const ipVersion = parsed.kind() === 'ipv4' ? 4 : 6;
  // RFC 5952: lower case, longest run of zero groups compressed, a single zero group never (`b00c:0:2`).
  // ipaddr.js's toString() would also compress a lone zero group, which is a different key for caches.
  const ip = parsed.kind() === 'ipv4' ? parsed.toString() : (parsed as ipaddr.IPv6).toRFC5952String();
  let range = parsed.range();
  // ipaddr.js calls every IPv6 address it has no name for `unicast`, but only 2000::/3 is global unicast
  // (IANA); the rest (::/8, 4000::/3, fe00::/9, …) is reserved by the IETF and must never reach a provider.
  if (range === 'unicast' && parsed.kind() === 'ipv6' && !(parsed as ipaddr.IPv6).match(GLOBAL_UNICAST_V6)) range = 'reserved';
  return { address, kind: kindOfRange(range), ip, ipVersion };
}

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

const PRIVATE_RANGES = new Set(['private', 'carrierGradeNat', 'uniqueLocal']);

function kindOfRange(range: string): 'public' | 'private' | 'reserved' {
  if (range === 'unicast') return 'public';
  if (PRIVATE_RANGES.has(range)) return 'private';
  return 'reserved';
}

/** True only for addresses that may be sent to a third-party provider. */
export function isPublicIp(ip: string): boolean {
  return classifySource(ip).kind === 'public';
}
