import { expect } from 'chai';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { classifySource, isPublicIp } from '../../../src/2-classify/source.ts';

/** The mapping from ipaddr.js ranges to our kinds, written out independently of the implementation. */
function expectedKindOfRange(range: string): 'public' | 'private' | 'reserved' {
  if (range === 'unicast') return 'public';
  if (range === 'private' || range === 'carrierGradeNat' || range === 'uniqueLocal') return 'private';
  return 'reserved';
}

describe('classifySource', () => {
  describe('public addresses', () => {
    it('classifies a globally routable IPv4 address as public and keeps it as received', () => {
      expect(classifySource('8.8.8.8')).to.deep.equal({ address: '8.8.8.8', kind: 'public', ip: '8.8.8.8', ipVersion: 4 });
    });

    it('classifies a globally routable IPv6 address as public', () => {
      expect(classifySource('2606:4700:4700::1111')).to.deep.equal({
        address: '2606:4700:4700::1111',
        kind: 'public',
        ip: '2606:4700:4700::1111',
        ipVersion: 6,
      });
    });

    it('normalises IPv6 to RFC 5952 (lower case, longest zero run compressed, no leading zeros)', () => {
      for (const written of [
        '2001:4860:4860:0000:0000:0000:0000:8888',
        '2001:4860:4860:0:0:0:0:8888',
        '2001:4860:4860::8888',
        '2001:4860:4860:0::0:8888',
      ]) {
        const result = classifySource(written);
        expect(result.ip, written).to.equal('2001:4860:4860::8888');
        expect(result.address, written).to.equal(written);
      }
      expect(classifySource('2A00:1450:4001:0810:0000:0000:0000:200E').ip).to.equal('2a00:1450:4001:810::200e');
    });

    it('reduces an IPv4-mapped IPv6 address to its IPv4 address', () => {
      for (const written of ['::ffff:8.8.8.8', '::FFFF:8.8.8.8', '::ffff:808:808', '0:0:0:0:0:ffff:8.8.8.8']) {
        expect(classifySource(written), written).to.deep.equal({ address: written, kind: 'public', ip: '8.8.8.8', ipVersion: 4 });
      }
    });

    it('classifies an IPv4-mapped private address by its IPv4 range', () => {
      expect(classifySource('::ffff:10.1.2.3')).to.deep.include({ kind: 'private', ip: '10.1.2.3', ipVersion: 4 });
      expect(classifySource('::ffff:127.0.0.1')).to.deep.include({ kind: 'reserved', ip: '127.0.0.1', ipVersion: 4 });
    });
  });

  describe('private addresses', () => {
    const cases: [string, string][] = [
      ['10.0.0.1', 'RFC 1918 10/8'],
      ['10.255.255.255', 'RFC 1918 10/8 upper edge'],
      ['172.16.0.1', 'RFC 1918 172.16/12'],
      ['172.31.255.254', 'RFC 1918 172.16/12 upper edge'],
      ['192.168.1.10', 'RFC 1918 192.168/16'],
      ['100.64.0.1', 'carrier-grade NAT 100.64/10'],
      ['100.127.255.254', 'carrier-grade NAT upper edge'],
      ['fd12:3456:789a::1', 'IPv6 unique local fd00::/8'],
      ['fc00::1', 'IPv6 unique local fc00::/8'],
    ];
    for (const [address, what] of cases) {
      it(`classifies ${address} (${what}) as private`, () => {
        const result = classifySource(address);
        expect(result.kind).to.equal('private');
        expect(result.ip).to.be.a('string');
      });
    }

    it('keeps the neighbours of the private ranges public', () => {
      for (const address of ['172.15.255.255', '172.32.0.0', '100.63.255.255', '100.128.0.0', '11.0.0.1', '192.169.0.1']) {
        expect(classifySource(address).kind, address).to.equal('public');
      }
    });
  });

  describe('reserved addresses', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', 'IPv4 loopback'],
      ['127.255.255.254', 'IPv4 loopback /8'],
      ['::1', 'IPv6 loopback'],
      ['169.254.169.254', 'IPv4 link-local (instance metadata)'],
      ['fe80::1', 'IPv6 link-local'],
      ['192.0.2.1', 'documentation TEST-NET-1'],
      ['198.51.100.7', 'documentation TEST-NET-2'],
      ['203.0.113.200', 'documentation TEST-NET-3'],
      ['2001:db8::1', 'IPv6 documentation 2001:db8::/32'],
      ['2001:DB8:ffff::1', 'IPv6 documentation, upper case'],
      ['3fff::1', 'IPv6 documentation 3fff::/20'],
      ['224.0.0.1', 'IPv4 multicast'],
      ['239.255.255.250', 'IPv4 multicast (SSDP)'],
      ['ff02::1', 'IPv6 multicast'],
      ['255.255.255.255', 'IPv4 limited broadcast'],
      ['0.0.0.0', 'IPv4 unspecified'],
      ['::', 'IPv6 unspecified'],
      ['2002:c000:0204::1', '6to4'],
      ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
      ['198.18.0.1', 'benchmarking'],
      ['240.0.0.1', 'IPv4 class E'],
      ['64:ff9b::808:808', 'NAT64 well-known prefix'],
      ['::ffff:0:808:808', 'IPv4-translated (RFC 6145)'],
    ];
    for (const [address, what] of cases) {
      it(`classifies ${address} (${what}) as reserved`, () => {
        const result = classifySource(address);
        expect(result.kind).to.equal('reserved');
        expect(result.address).to.equal(address);
        expect(result.ip).to.be.a('string');
      });
    }

    it('classifies IPv6 outside the global unicast space 2000::/3 as reserved, not public', () => {
      // IANA: only 2000::/3 is allocated as global unicast; ::/8, 4000::/3, fe00::/9 … are reserved by the IETF.
      for (const address of ['::2', '::808:808', '4000::1', 'e000::1', 'fe00::1', '100:0:0:1::1']) {
        expect(classifySource(address).kind, address).to.equal('reserved');
      }
    });

    it('does not treat the deprecated IPv4-compatible form ::a.b.c.d as the IPv4 address', () => {
      // `::8.8.8.8` is the IPv6 address ::808:808 (RFC 4291 §2.5.5.1, deprecated), not IPv4-mapped 8.8.8.8.
      const compatible = classifySource('::8.8.8.8');
      expect(compatible.kind).to.equal('reserved');
      expect(compatible.ipVersion).to.equal(6);
      expect(compatible.ip).to.equal(classifySource('::808:808').ip);
      expect(classifySource('::0.0.0.1').kind).to.equal('reserved');
    });
  });

  describe('AWS values', () => {
    it('classifies the literal "AWS Internal" as aws-internal without an ip', () => {
      expect(classifySource('AWS Internal')).to.deep.equal({ address: 'AWS Internal', kind: 'aws-internal' });
    });

    it('does not accept variations of "AWS Internal"', () => {
      expect(classifySource('aws internal').kind).to.equal('invalid');
      expect(classifySource(' AWS Internal').kind).to.equal('invalid');
    });

    it('classifies service principal hostnames as aws-service', () => {
      for (const host of [
        'ec2.amazonaws.com',
        's3.amazonaws.com.cn',
        'lambda.amazonaws.com',
        'cloudtrail.amazonaws.com',
        'ssm.us-east-1.amazonaws.com',
        'elasticloadbalancing.amazonaws.com',
      ]) {
        expect(classifySource(host), host).to.deep.equal({ address: host, kind: 'aws-service' });
      }
    });

    it('does not mistake look-alike hosts for AWS service principals', () => {
      for (const host of [
        'amazonaws.com',
        'ec2.amazonaws.com.evil.example',
        'ec2.amazonaws.co',
        'ec2-amazonaws.com',
        'EC2.AMAZONAWS.COM',
        '-bad.amazonaws.com',
        'a..amazonaws.com',
      ]) {
        expect(classifySource(host).kind, host).to.equal('invalid');
      }
    });
  });

  describe('invalid values', () => {
    const cases: [string, string][] = [
      ['010.1.1.1', 'leading zero (octal or decimal?)'],
      ['1.2.3.04', 'leading zero in the last octet'],
      ['1.2.3', 'three-part IPv4'],
      ['1.2', 'two-part IPv4'],
      ['16843009', 'IPv4 as one number'],
      ['0x8.8.8.8', 'hexadecimal octet'],
      ['0x08080808', 'hexadecimal number'],
      ['256.1.1.1', 'octet out of range'],
      ['1.2.3.4.5', 'five parts'],
      ['fe80::1%eth0', 'IPv6 zone id'],
      ['fe80::1%25eth0', 'URL-encoded zone id'],
      [' 8.8.8.8', 'leading whitespace'],
      ['8.8.8.8 ', 'trailing whitespace'],
      ['8.8.8.8\n', 'trailing newline'],
      ['2001:db8::1::2', 'two :: runs'],
      ['2001:db8:::1', 'three colons'],
      ['12345::1', 'IPv6 group too long'],
      ['::ffff:010.1.1.1', 'mapped IPv4 with a leading zero'],
      ['::ffff:1.2.3', 'mapped short IPv4'],
      ['[2001:db8::1]', 'bracketed IPv6'],
      ['8.8.8.8:443', 'IPv4 with a port'],
      ['example.com', 'a hostname'],
      ['localhost', 'localhost'],
      ['not an ip', 'free text'],
    ];
    for (const [address, what] of cases) {
      it(`classifies ${JSON.stringify(address)} (${what}) as invalid without an ip`, () => {
        expect(classifySource(address)).to.deep.equal({ address, kind: 'invalid' });
      });
    }

    it('classifies a huge string as invalid and keeps it as received', () => {
      const huge = '1'.repeat(100_000);
      expect(classifySource(huge)).to.deep.equal({ address: huge, kind: 'invalid' });
      const hugeHost = `${'a.'.repeat(10_000)}amazonaws.com`;
      expect(classifySource(hugeHost).kind).to.equal('invalid');
    });
  });

  describe('missing values', () => {
    for (const [value, what] of [
      [undefined, 'undefined'],
      [null, 'null'],
      [42, 'a number'],
      [{ ip: '8.8.8.8' }, 'an object'],
      [['8.8.8.8'], 'an array'],
      ['', 'the empty string'],
    ] as [unknown, string][]) {
      it(`classifies ${what} as missing, without an address`, () => {
        expect(classifySource(value)).to.deep.equal({ kind: 'missing' });
      });
    }
  });

  it('gives the same answer when asked again (memoised values are not corrupted)', () => {
    const first = classifySource('9.9.9.9');
    const second = classifySource('9.9.9.9');
    expect(second).to.deep.equal(first);
    expect(second).to.deep.equal({ address: '9.9.9.9', kind: 'public', ip: '9.9.9.9', ipVersion: 4 });
  });

  describe('isPublicIp', () => {
    it('is true only for public addresses', () => {
      expect(isPublicIp('8.8.8.8')).to.equal(true);
      expect(isPublicIp('2606:4700:4700::1111')).to.equal(true);
      for (const value of ['10.0.0.1', '127.0.0.1', '192.0.2.1', 'AWS Internal', 'ec2.amazonaws.com', '010.1.1.1', '', '::808:808']) {
        expect(isPublicIp(value), value).to.equal(false);
      }
    });
  });

  describe('properties', () => {
    const anyText = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.ipV4(),
      fc.ipV6(),
      fc.ipV4Extended(),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.%x '), maxLength: 50 }),
    );

    it('never throws, and public always carries an ip that ipaddr.js calls unicast', () => {
      fc.assert(
        fc.property(anyText, (text) => {
          const result = classifySource(text);
          if (result.kind === 'public') {
            expect(result.ip).to.be.a('string');
            expect(ipaddr.parse(result.ip!).range()).to.equal('unicast');
          }
          if (result.ip !== undefined) expect(result.ipVersion).to.be.oneOf([4, 6]);
          if (text.length > 0) expect(result.address).to.equal(text);
        }),
        { numRuns: 200 },
      );
    });

    it('never calls an IPv6 address public outside 2000::/3', () => {
      const global = ipaddr.IPv6.parseCIDR('2000::/3');
      fc.assert(
        fc.property(fc.ipV6(), (text) => {
          const result = classifySource(text);
          if (result.kind === 'public' && result.ipVersion === 6) expect(ipaddr.IPv6.parse(result.ip!).match(global)).to.equal(true);
        }),
        { numRuns: 200 },
      );
    });

    it('classifies any dotted quad of octets the way ipaddr.js ranges map to kinds', () => {
      const octet = fc.integer({ min: 0, max: 255 });
      fc.assert(
        fc.property(octet, octet, octet, octet, (a, b, c, d) => {
          const quad = `${a}.${b}.${c}.${d}`;
          const result = classifySource(quad);
          expect(result).to.deep.equal({
            address: quad,
            kind: expectedKindOfRange(ipaddr.IPv4.parse(quad).range()),
            ip: quad,
            ipVersion: 4,
          });
        }),
        { numRuns: 200 },
      );
    });

    it('gives an IPv4-mapped address the classification of its IPv4 address', () => {
      fc.assert(
        fc.property(fc.ipV4(), (quad) => {
          const mapped = classifySource(`::ffff:${quad}`);
          const plain = classifySource(quad);
          expect({ kind: mapped.kind, ip: mapped.ip, ipVersion: mapped.ipVersion }).to.deep.equal({
            kind: plain.kind,
            ip: plain.ip,
            ipVersion: plain.ipVersion,
          });
        }),
        { numRuns: 200 },
      );
    });
  });
});
