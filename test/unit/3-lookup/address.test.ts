import { expect } from 'chai';
import fc from 'fast-check';
import { isPublicUnicast, parseIp } from '../../../src/3-lookup/address.ts';

describe('isPublicUnicast', () => {
  it('accepts public IPv4 and IPv6 addresses', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '52.95.110.1', '2001:4860:4860::8888', '2a03:2880:f003:c07:face:b00c::2']) {
      expect(isPublicUnicast(ip), ip).to.equal(true);
    }
  });

  it('refuses private, reserved, loopback, link-local, documentation, mapped and malformed input', () => {
    const refused = [
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '127.0.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '192.0.2.10',
      '198.51.100.1',
      '203.0.113.9',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fc00::1',
      '2001:db8::1',
      '::ffff:8.8.8.8',
      'fe80::1%eth0',
      '01.2.3.4',
      '1.2.3',
      '1.2.3.4/32',
      'AWS Internal',
      'ec2.amazonaws.com',
      's3.amazonaws.com',
      '',
      ' 8.8.8.8',
      '[2001:4860::1]',
    ];
    for (const ip of refused) expect(isPublicUnicast(ip), ip).to.equal(false);
  });

  it('refuses IPv6 outside global unicast 2000::/3 that ipaddr.js still calls unicast', () => {
    for (const ip of ['::2', '::808:808', '4000::1', 'fe00::1', '1000::1', 'e000::1']) expect(isPublicUnicast(ip), ip).to.equal(false);
    expect(isPublicUnicast('2606:4700:4700::1111')).to.equal(true);
  });

  it('never accepts an address in an RFC 1918 range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (a, b, c) => {
        expect(isPublicUnicast(`10.${a}.${b}.${c}`)).to.equal(false);
        expect(isPublicUnicast(`192.168.${b}.${c}`)).to.equal(false);
        expect(isPublicUnicast(`172.${16 + (a % 16)}.${b}.${c}`)).to.equal(false);
      }),
    );
  });

  it('never accepts a string that is not an IP address', () => {
    fc.assert(
      fc.property(fc.domain(), (host) => {
        expect(isPublicUnicast(host)).to.equal(false);
      }),
    );
  });

  it('normalises IPv6 to RFC 5952 form', () => {
    expect(parseIp('2001:4860:4860:0000:0000:0000:0000:8888')?.text).to.equal('2001:4860:4860::8888');
    expect(parseIp('8.8.8.8')?.value).to.equal(0x08080808n);
  });
});
