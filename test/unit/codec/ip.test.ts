import { expect } from 'chai';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { classifySource } from '../../../src/2-classify/source.ts';
import { parseIp as parseLookupIp } from '../../../src/3-lookup/address.ts';
import { parseIp as parseRuleIp } from '../../../src/5-rules/ip-set.ts';
import { MAX_IP_TEXT_LENGTH, formatIPv4, formatStrictIp, mappedIPv4, parseIPv4, parseStrictIp } from '../../../src/codec/ip.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 2000);
const group = fc.integer({ min: 0, max: 0xffff });
const groups = fc.array(group, { minLength: 8, maxLength: 8 });
const v4 = fc.integer({ min: 0, max: 0xffffffff });

describe('the strict IP parser (src/codec/ip.ts)', () => {
  it('reads every dotted quad back as the number it was formatted from', () => {
    fc.assert(
      fc.property(v4, (n) => parseIPv4(formatIPv4(n)) === n && formatStrictIp(parseStrictIp(formatIPv4(n))!) === formatIPv4(n)),
      { numRuns: runs },
    );
  });

  it('refuses an IPv4 part with a leading zero, over 255, or a shortened, hexadecimal or integer form', () => {
    for (const bad of [
      '010.1.1.1',
      '1.2.3.04',
      '00.0.0.0',
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '127.1',
      '0x7f.0.0.1',
      '2130706433',
      ' 1.2.3.4',
      '1.2.3.4 ',
      '1..2.3',
      '.1.2.3',
      '1.2.3.',
    ])
      expect(parseStrictIp(bad), bad).to.equal(undefined);
  });

  it('reads every IPv6 address in its full, normalised and RFC 5952 forms as the same groups', () => {
    fc.assert(
      fc.property(groups, (parts) => {
        const addr = new ipaddr.IPv6(parts);
        for (const text of [
          parts.map((g) => g.toString(16).padStart(4, '0')).join(':'),
          addr.toNormalizedString(),
          addr.toRFC5952String(),
          addr.toRFC5952String().toUpperCase(),
        ]) {
          const ip = parseStrictIp(text);
          if (ip?.version !== 6 || ip.parts.join() !== parts.join()) return false;
          if (formatStrictIp(ip) !== addr.toRFC5952String()) return false;
        }
        return true;
      }),
      { numRuns: runs },
    );
  });

  it('refuses zone ids, brackets, prefix lengths, whitespace, an embedded IPv4 with leading zeros and texts over 45 characters', () => {
    for (const bad of [
      'fe80::1%eth0',
      '[2001:db8::1]',
      '2001:db8::/32',
      ' 2001:db8::1',
      '::ffff:010.1.1.1',
      '1:2:3:4:5:6:7:8:9',
      ':::1',
      '2001:db8::1::2',
      'g::1',
      `${'0:'.repeat(20)}1`,
    ])
      expect(parseStrictIp(bad), bad).to.equal(undefined);
    expect(MAX_IP_TEXT_LENGTH).to.equal('ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255'.length);
    expect(parseStrictIp('ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255')?.version).to.equal(6);
  });

  it('reads ::a.b.c.d as the IPv6 address it spells and ::ffff:a.b.c.d as IPv4-mapped', () => {
    const compatible = parseStrictIp('::1.2.3.4')!;
    expect(compatible).to.deep.equal({ version: 6, parts: [0, 0, 0, 0, 0, 0, 0x102, 0x304] });
    expect(mappedIPv4(compatible)).to.equal(undefined);
    expect(mappedIPv4(parseStrictIp('::ffff:1.2.3.4')!)).to.equal(0x01020304);
  });

  it('is the one rule: classification, the lookup and rule CIDR sets accept exactly the same texts', () => {
    const alphabet = fc.constantFrom(...'0123456789abcdefABCDEF:.%/ x'.split(''));
    const near = fc.oneof(
      fc.array(alphabet, { maxLength: 48 }).map((cs) => cs.join('')),
      groups.map((p) => new ipaddr.IPv6(p).toRFC5952String()),
      v4.map(formatIPv4),
      fc.tuple(groups, v4).map(
        ([p, n]) =>
          `${p
            .slice(0, 6)
            .map((g) => g.toString(16))
            .join(':')}:${formatIPv4(n)}`,
      ),
    );
    fc.assert(
      fc.property(near, (text) => {
        const strict = parseStrictIp(text) !== undefined;
        const kind = classifySource(text).kind;
        const classified = kind !== 'invalid' && kind !== 'missing';
        return classified === strict && (parseLookupIp(text) !== undefined) === strict && (parseRuleIp(text) !== undefined) === strict;
      }),
      { numRuns: runs * 5 },
    );
  });
});
