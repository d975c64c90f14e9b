import { expect } from 'chai';
import { mergeSources } from '../../../src/3-lookup/merge.ts';

const precedence = {
  geo: ['offline', 'ipstack'] as const,
  as: ['offline', 'ipqualityscore'] as const,
  reputation: ['ipqualityscore', 'abuseipdb', 'autofocus'] as const,
};

describe('mergeSources', () => {
  it('takes geo and as whole from the first source that has them', () => {
    const merged = mergeSources(
      {
        offline: { geo: { countryCode: 'US', city: 'Ashburn' } },
        ipstack: { geo: { countryCode: 'US', city: 'Reston', timezone: 'America/New_York' } },
        ipqualityscore: { as: { number: 14618, organization: 'AMAZON-AES' } },
      },
      precedence,
    );
    expect(merged.geo).to.deep.equal({ countryCode: 'US', city: 'Ashburn' });
    expect(merged.as).to.deep.equal({ number: 14618, organization: 'AMAZON-AES' });
  });

  it('merges reputation field by field, the earlier source winning a shared field', () => {
    const merged = mergeSources(
      {
        ipqualityscore: { reputation: { fraudScore: 88, tor: false, proxy: true } },
        abuseipdb: { reputation: { abuseConfidence: 75, tor: true } },
        autofocus: { reputation: { verdict: 'malware' } },
      },
      precedence,
    );
    expect(merged.reputation).to.deep.equal({ fraudScore: 88, tor: false, proxy: true, abuseConfidence: 75, verdict: 'malware' });
  });

  it('ignores sources not listed and omits empty objects', () => {
    const merged = mergeSources({ ipstack: { as: { number: 1 } }, offline: {} }, { ...precedence, geo: ['offline'] });
    expect(merged).to.deep.equal({});
  });
});
