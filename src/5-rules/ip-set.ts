/**
 * A set of IP addresses and CIDR blocks, compiled once, matched per event without parsing the set again.
 *
 * Known-bad lists can hold thousands of entries, so membership is not a linear scan: entries are grouped
 * by prefix length and stored as masked network keys, and a lookup masks the address once per distinct
 * prefix length (at most 33 for IPv4, 129 for IPv6, in practice a handful).
 *
 * Addresses are parsed strictly by the one parser in src/codec/ip.ts (four-part decimal IPv4 without leading
 * zeros, RFC 4291 IPv6): `sourceIPAddress` is attacker influenced, and loose forms such as `0x7f.1` must not be
 * read as an address. IPv4-mapped IPv6
 * addresses (`::ffff:1.2.3.4`) match IPv4 entries.
 */
import { mappedIPv4, parseStrictIp } from '../codec/ip.ts';

export interface IpSet {
  readonly size: number;
  /** True when `value` is a string holding an address inside one of the blocks. */
  has(value: unknown): boolean;
}

/** Parsed address: IPv4 as an unsigned 32-bit number, IPv6 as eight 16-bit groups. */
type Parsed = { v: 4; n: number } | { v: 6; parts: readonly number[] };

/** Strict parse (src/codec/ip.ts); undefined when `text` is not an IP address. IPv4-mapped IPv6 is its IPv4. */
export function parseIp(text: string): Parsed | undefined {
  const ip = parseStrictIp(text);
  if (ip === undefined) return undefined;
  if (ip.version === 4) return { v: 4, n: ip.v4 };
  const mapped = mappedIPv4(ip);
  return mapped !== undefined ? { v: 4, n: mapped } : { v: 6, parts: ip.parts };
}

function v4Mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

function v6Key(parts: readonly number[], bits: number): string {
  let key = '';
  for (let i = 0; i < 8; i++) {
    const remaining = bits - i * 16;
    const mask = remaining >= 16 ? 0xffff : remaining <= 0 ? 0 : (0xffff << (16 - remaining)) & 0xffff;
    key += (parts[i]! & mask).toString(16) + ':';
  }
  return key;
}

/**
 * Compiles entries (`1.2.3.4`, `10.0.0.0/8`, `2001:db8::/32`). Returns the first invalid entry's index
 * and reason instead of throwing, so the caller can name the rule or watchlist.
 */
export function compileIpSet(entries: readonly string[]): { ok: true; value: IpSet } | { ok: false; index: number; error: string } {
  const v4 = new Map<number, Set<number>>();
  const v6 = new Map<number, Set<string>>();
  for (let i = 0; i < entries.length; i++) {
    const raw = entries[i]!;
    const entry = typeof raw === 'string' ? raw.trim() : '';
    const slash = entry.indexOf('/');
    const addrText = slash < 0 ? entry : entry.slice(0, slash);
    const bitsText = slash < 0 ? undefined : entry.slice(slash + 1);
    const parsed = parseIp(addrText);
    if (!parsed || (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText))) {
      return { ok: false, index: i, error: `"${String(raw)}" is not an IP address or CIDR block` };
    }
    // An IPv4-mapped IPv6 block (::ffff:a.b.c.d/104) is stored as the IPv4 block it denotes.
    const mappedV6 = parsed.v === 4 && addrText.includes(':');
    let bits = bitsText === undefined ? (parsed.v === 4 ? 32 : 128) : Number(bitsText);
    if (mappedV6 && bitsText !== undefined) {
      if (bits < 96) return { ok: false, index: i, error: `"${raw}": an IPv4-mapped block needs a prefix of at least /96` };
      bits -= 96;
    }
    const max = parsed.v === 4 ? 32 : 128;
    if (bits > max) return { ok: false, index: i, error: `"${raw}": prefix length ${bits} exceeds /${max}` };
    if (parsed.v === 4) {
      let set = v4.get(bits);
      if (!set) v4.set(bits, (set = new Set()));
      set.add((parsed.n & v4Mask(bits)) >>> 0);
    } else {
      let set = v6.get(bits);
      if (!set) v6.set(bits, (set = new Set()));
      set.add(v6Key(parsed.parts, bits));
    }
  }
  // Longest prefixes first: exact addresses are the common case for known-bad lists.
  const v4Lengths = [...v4.keys()].sort((a, b) => b - a);
  const v4Sets = v4Lengths.map((b) => v4.get(b)!);
  const v4Masks = v4Lengths.map(v4Mask);
  const v6Lengths = [...v6.keys()].sort((a, b) => b - a);
  const v6Sets = v6Lengths.map((b) => v6.get(b)!);
  const size = entries.length;

  // One-entry cache: the same address (enrichment.source.ip) is usually tested by several rules in a row.
  let lastText: string | undefined;
  let lastResult = false;

  function lookup(text: string): boolean {
    const parsed = parseIp(text);
    if (!parsed) return false;
    if (parsed.v === 4) {
      for (let i = 0; i < v4Sets.length; i++) {
        if (v4Sets[i]!.has((parsed.n & v4Masks[i]!) >>> 0)) return true;
      }
      return false;
    }
    for (let i = 0; i < v6Sets.length; i++) {
      if (v6Sets[i]!.has(v6Key(parsed.parts, v6Lengths[i]!))) return true;
    }
    return false;
  }

  return {
    ok: true,
    value: {
      size,
      has(value: unknown): boolean {
        if (typeof value !== 'string' || size === 0) return false;
        if (value !== lastText) {
          lastResult = lookup(value);
          lastText = value;
        }
        return lastResult;
      },
    },
  };
}
