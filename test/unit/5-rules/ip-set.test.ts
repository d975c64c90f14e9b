import { expect } from 'chai';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { compileIpSet, parseIp } from '../../../src/5-rules/ip-set.ts';

describe('IpSet', () => {
  it('parses strict IPv4 and IPv6 only', () => {
    expect(parseIp('81.2.69.160')).to.deep.equal({ v: 4, n: ((81 << 24) >>> 0) + (2 << 16) + (69 << 8) + 160 });
    expect(parseIp('2001:db8::1')?.v).to.equal(6);
    expect(parseIp('::ffff:10.0.0.1')).to.deep.equal({ v: 4, n: (10 << 24) + 1 });
    for (const bad of ['0x7f.1', '127.1', '01.2.3.4', '1.2.3.256', '1.2.3', 'fe80::1%eth0', 'AWS Internal', 'lambda.amazonaws.com', '']) {
      expect(parseIp(bad), bad).to.equal(undefined);
    }
  });

  it('agrees with ipaddr.js on random IPv4 addresses and blocks', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (addr, net, bits) => {
        const set = compileIpSet([`${net}/${bits}`]);
        if (!set.ok) throw new Error(set.error);
        const expected = ipaddr.IPv4.parse(addr).match(ipaddr.IPv4.parse(net), bits);
        expect(set.value.has(addr)).to.equal(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with ipaddr.js on random IPv6 addresses and blocks', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.ipV6(), fc.integer({ min: 0, max: 128 }), (addr, net, bits) => {
        const a = ipaddr.IPv6.parse(addr);
        const n = ipaddr.IPv6.parse(net);
        fc.pre(!a.isIPv4MappedAddress() && !n.isIPv4MappedAddress());
        const set = compileIpSet([`${net}/${bits}`]);
        if (!set.ok) throw new Error(set.error);
        expect(set.value.has(addr)).to.equal(a.match(n, bits));
      }),
      { numRuns: 1000 },
    );
  });

  it('reports the index of the first bad entry', () => {
    const set = compileIpSet(['10.0.0.0/8', '300.0.0.0/8']);
    expect(set.ok).to.equal(false);
    if (!set.ok) expect(set.index).to.equal(1);
    expect(compileIpSet(['::ffff:1.2.3.4/64']).ok).to.equal(false);
    expect(compileIpSet(['2001:db8::/129']).ok).to.equal(false);
    expect(compileIpSet(['10.0.0.0/08x']).ok).to.equal(false);
  });

  it('answers false for non-strings and for an empty set', () => {
    const set = compileIpSet(['0.0.0.0/0']);
    if (!set.ok) throw new Error(set.error);
    expect(set.value.has(undefined)).to.equal(false);
    expect(set.value.has(167772161)).to.equal(false);
    const empty = compileIpSet([]);
    if (!empty.ok) throw new Error(empty.error);
    expect(empty.value.has('10.0.0.1')).to.equal(false);
  });
});
