import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { providerKeyOf, parseIp } from '../../../src/3-lookup/address.ts';
import { iso } from '../../../src/3-lookup/providers/autofocus.ts';
import { MAX_TEXT_CHARS, NUMBER_RANGES, sanitiseAnswer } from '../../../src/3-lookup/providers/sanitise.ts';

const KEY = 'ipqs-KEY-bbbbbbbbbbbb2222';

describe('provider answer sanitiser', () => {
  it('drops an out-of-range fraud score (1e308) instead of clamping it, and counts it', () => {
    const out = sanitiseAnswer('ipqualityscore', { fraudScore: 1e308, proxy: true });
    expect(out.data).to.deep.equal({ proxy: true });
    expect(out.dropped).to.equal(1);
  });

  it('removes a key echoed in a kept field before anything else sees it', () => {
    const out = sanitiseAnswer('ipqualityscore', { host: `https://ipqualityscore.com/api/json/ip/${KEY}/1.2.3.4`, isp: `echo ${KEY}` }, [
      KEY,
    ]);
    expect(JSON.stringify(out.data)).not.to.include(KEY);
  });

  it('cuts a 1.9 MB text field to the documented length', () => {
    const out = sanitiseAnswer('abuseipdb', { usageType: 'x'.repeat(1_900_000) });
    expect((out.data!['usageType'] as string).length).to.equal(MAX_TEXT_CHARS);
  });

  it('parses an AutoFocus timestamp of 1e300 as absent instead of throwing', () => {
    expect(iso(1e300)).to.equal(undefined);
    expect(iso(1704067200000)).to.equal('2024-01-01T00:00:00.000Z');
  });

  it('uses the ranges of schema/enrichment.schema.json for the fields that reach enrichment.source', () => {
    const schema = JSON.parse(readFileSync('schema/enrichment.schema.json', 'utf8')) as {
      $defs: {
        enrichment: {
          properties: { source: { properties: Record<string, { properties: Record<string, { minimum?: number; maximum?: number }> }> } };
        };
      };
    };
    const src = schema.$defs.enrichment.properties.source.properties;
    expect(NUMBER_RANGES.ipqualityscore['fraudScore']).to.include({
      min: src['reputation']!.properties['fraudScore']!.minimum,
      max: src['reputation']!.properties['fraudScore']!.maximum,
    });
    expect(NUMBER_RANGES.abuseipdb['abuseConfidenceScore']).to.include({
      min: src['reputation']!.properties['abuseConfidence']!.minimum,
      max: src['reputation']!.properties['abuseConfidence']!.maximum,
    });
    expect(NUMBER_RANGES.ipstack['latitude']).to.include({
      min: src['geo']!.properties['latitude']!.minimum,
      max: src['geo']!.properties['latitude']!.maximum,
    });
    expect(NUMBER_RANGES.ipstack['longitude']).to.include({
      min: src['geo']!.properties['longitude']!.minimum,
      max: src['geo']!.properties['longitude']!.maximum,
    });
    expect(NUMBER_RANGES.ipstack['asn']!.min).to.equal(src['as']!.properties['number']!.minimum);
  });
});

describe('provider key of an address', () => {
  it('is the address for IPv4 and the /64 prefix for IPv6', () => {
    expect(providerKeyOf(parseIp('81.2.3.4')!)).to.equal('81.2.3.4');
    expect(providerKeyOf(parseIp('2400:cb00:1:2::7')!)).to.equal('2400:cb00:1:2::/64');
    expect(providerKeyOf(parseIp('2400:cb00:1:2:ffff::1')!)).to.equal('2400:cb00:1:2::/64');
  });
});
